package io.synod.server;

import static io.synod.server.EtcdctlTest.etcdctl;
import static io.synod.server.EtcdctlTest.run;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The real etcd command-line client's operator commands against a three-member cluster:
 * {@code endpoint status|health|hashkv} (also with {@code --cluster}, which follows the client
 * URLs MemberList reports), {@code member list}, {@code defrag}, {@code alarm list},
 * {@code move-leader} and {@code check perf}. Skipped, saying so, when {@code etcdctl} is not
 * installed.
 */
class EtcdctlOpsTest {
    @TempDir Path dir;

    static String endpoints(TestCluster cluster) {
        var eps = new ArrayList<String>();
        for (int i = 0; i < cluster.servers.length; i++) eps.add(cluster.endpoint(i).replace("http://", ""));
        return String.join(",", eps);
    }

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void operatorCommands() throws Exception {
        Path etcdctl = etcdctl();
        Assumptions.assumeTrue(etcdctl != null, "etcdctl is not installed (apt-get install etcd-client); skipping the etcdctl test");
        try (var cluster = new TestCluster(dir, 3)) {
            int leader = cluster.awaitLeader(10_000);
            String all = endpoints(cluster);
            String one = cluster.endpoint((leader + 1) % 3).replace("http://", "");
            run(etcdctl, all, null, "put", "foo", "bar");
            run(etcdctl, all, null, "put", "foo", "baz");

            String members = run(etcdctl, one, null, "member", "list");
            assertThat(members.lines()).hasSize(3);
            for (int i = 0; i < 3; i++) {
                ServerConfig cfg = cluster.configs.get(i);
                assertThat(members).contains(Long.toHexString(cfg.memberId()) + ", started, " + cfg.name() + ", " + cfg.peerUrl() + ", "
                        + cfg.clientUrl() + ", false");
            }

            String status = run(etcdctl, one, null, "endpoint", "status", "--cluster", "-w", "table");
            for (int i = 0; i < 3; i++) assertThat(status).contains(cluster.endpoint(i));
            assertThat(status).contains("RAFT APPLIED INDEX").contains(MaintenanceService.API_VERSION);
            assertThat(status.lines().filter(l -> l.contains(" true |")).count()).as("one leader row in:\n%s", status).isEqualTo(1);

            String health = run(etcdctl, one, null, "endpoint", "health", "--cluster");
            assertThat(health.lines().filter(l -> l.contains("is healthy")).count()).as(health).isEqualTo(3);

            String hashes = run(etcdctl, all, null, "endpoint", "hashkv");
            var distinct = new HashSet<String>();
            for (String line : hashes.lines().toList()) distinct.add(line.substring(line.lastIndexOf(", ") + 2));
            assertThat(hashes.lines()).as(hashes).hasSize(3);
            assertThat(distinct).as("every member hashes the same history:\n%s", hashes).hasSize(1);

            assertThat(run(etcdctl, all, null, "defrag")).contains("Finished defragmenting etcd member[" + one + "]");
            assertThat(run(etcdctl, all, null, "alarm", "list")).isEmpty();

            int target = (leader + 2) % 3;
            String moved = run(etcdctl, all, null, "move-leader", Long.toHexString(cluster.servers[target].memberId()));
            assertThat(moved).contains("Leadership transferred from " + Long.toHexString(cluster.servers[leader].memberId()) + " to "
                    + Long.toHexString(cluster.servers[target].memberId()));
            assertThat(cluster.awaitLeader(10_000)).isEqualTo(target);
            assertThat(run(etcdctl, all, null, "get", "foo", "--print-value-only")).isEqualTo("baz\n");
        }
    }

    /**
     * {@code etcdctl check perf} writes for a fixed 60 s at 150 puts/s from 50 clients, then
     * deletes what it wrote (it uses no lease). Whether it prints PASS or FAIL depends on this
     * machine's speed, so only that it ran through, cleaned up and reported is checked.
     */
    @Test
    @Timeout(value = 240, unit = TimeUnit.SECONDS)
    void checkPerfRunsToTheEnd() throws Exception {
        Path etcdctl = etcdctl();
        Assumptions.assumeTrue(etcdctl != null, "etcdctl is not installed (apt-get install etcd-client); skipping the etcdctl test");
        try (var cluster = new TestCluster(dir, 3)) {
            cluster.awaitLeader(10_000);
            String all = endpoints(cluster);
            var cmd = new ArrayList<String>(List.of(etcdctl.toString(), "--endpoints=" + all, "--command-timeout=30s", "check", "perf",
                    "--load=s", "--auto-compact", "--auto-defrag"));
            var pb = new ProcessBuilder(cmd).redirectErrorStream(true);
            pb.environment().put("ETCDCTL_API", "3");
            Process p = pb.start();
            p.getOutputStream().close();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(p.waitFor(200, TimeUnit.SECONDS)).isTrue();
            assertThat(out).as(out).containsPattern("(PASS|FAIL): Throughput").containsPattern("Stddev")
                    .doesNotContain("Error");
            System.out.println("etcdctl check perf against Synod:\n" + out);
            assertThat(run(etcdctl, all, null, "get", "/etcdctl-check-perf/", "--prefix", "--keys-only")).as("check perf cleans up").isEmpty();
        }
    }
}
