package io.synod.server;

import static io.synod.server.ClusterTest.b;
import static org.assertj.core.api.Assertions.assertThat;

import io.etcd.jetcd.Client;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The operations HTTP endpoint of a three-member cluster: {@code /metrics} parses as Prometheus
 * text and its counters move with the work done; {@code /health}, {@code /readyz} and
 * {@code /livez} are healthy with a leader, and {@code /health} and {@code /readyz} turn to 503
 * once two of the three members are stopped (quorum lost), while {@code /livez} stays up.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class OpsEndpointTest {
    @TempDir Path dir;

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    record Reply(int status, String body) {}

    Reply get(URI base, String path) throws Exception {
        return send(HttpRequest.newBuilder(base.resolve(path)).timeout(Duration.ofSeconds(10)).GET().build());
    }

    private Reply send(HttpRequest request) throws Exception {
        HttpResponse<String> r = http.send(request, HttpResponse.BodyHandlers.ofString());
        return new Reply(r.statusCode(), r.body());
    }

    /** Sample name with labels (as written) to value; comments and blank lines skipped. */
    static Map<String, Double> parse(String exposition) {
        var samples = new HashMap<String, Double>();
        for (String line : exposition.split("\n")) {
            if (line.isBlank() || line.startsWith("#")) continue;
            int space = line.lastIndexOf(' ');
            assertThat(space).as("sample line '%s'", line).isPositive();
            samples.put(line.substring(0, space), Double.parseDouble(line.substring(space + 1)));
        }
        return samples;
    }

    Map<String, Double> metrics(TestCluster cluster, int member) throws Exception {
        Reply r = get(cluster.opsUrl(member), "/metrics");
        assertThat(r.status()).isEqualTo(200);
        return parse(r.body());
    }

    static double value(Map<String, Double> samples, String name) {
        assertThat(samples).as("metric %s", name).containsKey(name);
        return samples.get(name);
    }

    @Test
    void metricsMoveWithWritesAndProbesFollowQuorum() throws Exception {
        try (var cluster = new TestCluster(dir, 3, true)) {
            int leader = cluster.awaitLeader(10_000);
            int follower = (leader + 1) % 3;
            var before = metrics(cluster, leader);
            assertThat(value(before, "etcd_server_has_leader")).isEqualTo(1);
            assertThat(value(before, "etcd_server_is_leader")).isEqualTo(1);
            assertThat(value(before, "etcd_server_leader_changes_seen_total")).isGreaterThanOrEqualTo(1);
            assertThat(value(before, "synod_raft_term")).isGreaterThanOrEqualTo(1);
            assertThat(value(before, "synod_watchers")).isZero();

            try (Client c = ClusterTest.client(cluster, follower)) {
                for (int i = 0; i < 20; i++) c.getKVClient().put(b("k" + i), b("v" + i)).get(10, TimeUnit.SECONDS);
            }
            var after = metrics(cluster, leader);
            assertThat(value(after, "etcd_server_proposals_committed_total"))
                    .isGreaterThanOrEqualTo(value(before, "etcd_server_proposals_committed_total") + 20);
            assertThat(value(after, "etcd_server_proposals_applied_total"))
                    .isGreaterThanOrEqualTo(value(before, "etcd_server_proposals_applied_total") + 20);
            assertThat(value(after, "synod_raft_applied_index")).isEqualTo(value(after, "etcd_server_proposals_applied_total"));
            assertThat(value(after, "synod_mvcc_current_revision")).isEqualTo(21);
            assertThat(value(after, "etcd_disk_wal_fsync_duration_seconds_count"))
                    .isGreaterThan(value(before, "etcd_disk_wal_fsync_duration_seconds_count"));
            assertThat(value(after, "etcd_disk_backend_commit_duration_seconds_count"))
                    .isGreaterThanOrEqualTo(value(before, "etcd_disk_backend_commit_duration_seconds_count") + 20);
            assertThat(value(after, "etcd_disk_wal_fsync_duration_seconds_bucket{le=\"+Inf\"}"))
                    .isEqualTo(value(after, "etcd_disk_wal_fsync_duration_seconds_count"));
            assertThat(value(after, "synod_apply_duration_seconds_count")).isPositive();
            assertThat(value(after, "etcd_mvcc_db_total_size_in_bytes")).isPositive();
            assertThat(value(after, "etcd_server_proposals_pending")).isGreaterThanOrEqualTo(0);
            var followerMetrics = metrics(cluster, follower);
            assertThat(value(followerMetrics, "etcd_server_is_leader")).isZero();
            assertThat(value(followerMetrics, "etcd_server_has_leader")).isEqualTo(1);

            // The hooks the watch and lease services will feed.
            cluster.servers[leader].metrics().watchers(() -> 7);
            cluster.servers[leader].metrics().leases(() -> 3);
            var hooked = metrics(cluster, leader);
            assertThat(value(hooked, "synod_watchers")).isEqualTo(7);
            assertThat(value(hooked, "synod_leases")).isEqualTo(3);

            for (int i = 0; i < 3; i++) {
                Reply health = get(cluster.opsUrl(i), "/health");
                assertThat(health).isEqualTo(new Reply(200, "{\"health\":\"true\"}"));
                assertThat(get(cluster.opsUrl(i), "/livez")).isEqualTo(new Reply(200, "ok\n"));
                assertThat(get(cluster.opsUrl(i), "/readyz")).isEqualTo(new Reply(200, "ok\n"));
            }
            Reply verbose = get(cluster.opsUrl(follower), "/readyz?verbose");
            assertThat(verbose.body()).contains("[+]linearizable_read ok").endsWith("ok\n");
            assertThat(value(metrics(cluster, 0), "etcd_server_health_success_total")).isGreaterThanOrEqualTo(1);
            assertThat(get(cluster.opsUrl(leader), "/nope").status()).isEqualTo(404);
            assertThat(get(cluster.opsUrl(leader), "/metricsfoo").status()).isEqualTo(404);
            assertThat(send(HttpRequest.newBuilder(cluster.opsUrl(leader).resolve("/health"))
                    .POST(HttpRequest.BodyPublishers.noBody()).build()).status()).isEqualTo(405);

            // Quorum lost: keep one member, stop the other two.
            int survivor = follower;
            for (int i = 0; i < 3; i++) if (i != survivor) cluster.stop(i);
            Reply unhealthy = awaitStatus(cluster.opsUrl(survivor), "/health", 503);
            assertThat(unhealthy.body()).startsWith("{\"health\":\"false\",\"reason\":\"").endsWith("\"}");
            Reply notReady = awaitStatus(cluster.opsUrl(survivor), "/readyz", 503);
            assertThat(notReady.body()).contains("[-]linearizable_read failed").contains("[+]serializable_read ok")
                    .endsWith("readyz check failed\n");
            assertThat(get(cluster.opsUrl(survivor), "/livez")).isEqualTo(new Reply(200, "ok\n"));
            assertThat(get(cluster.opsUrl(survivor), "/health?serializable=true").status()).isEqualTo(200);
            assertThat(value(metrics(cluster, survivor), "etcd_server_health_failures_total")).isGreaterThanOrEqualTo(1);
        }
    }

    /** Polls until the probe answers {@code status}; the member needs an election timeout or so to notice. */
    private Reply awaitStatus(URI base, String path, int status) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        Reply r = get(base, path);
        while (r.status() != status && System.nanoTime() < deadline) {
            Thread.sleep(100);
            r = get(base, path);
        }
        assertThat(r.status()).as("%s: %s", path, r.body()).isEqualTo(status);
        return r;
    }
}
