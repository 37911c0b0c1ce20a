package io.synod.server;

import static io.synod.server.EtcdctlTest.etcdctl;
import static io.synod.server.EtcdctlTest.run;
import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * etcd's documented procedure for growing and shrinking a cluster, with the real etcdctl (3.4)
 * against a three-member cluster: {@code member add --learner} prints the flags for the new member
 * (its {@code ETCD_INITIAL_CLUSTER} is used as-is), the member is started with
 * {@code --initial-cluster-state existing}, {@code member promote} succeeds once it caught up,
 * {@code member update} moves a peer URL, {@code member remove} removes it again, and
 * {@code member list} shows every step. Skipped, saying so, when etcdctl is not installed.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class EtcdctlMemberTest {
    @TempDir Path dir;

    /** etcdctl exiting non-zero, with its output. */
    static String runAllowingFailure(Path etcdctl, String endpoints, String... args) throws Exception {
        var cmd = new ArrayList<String>(List.of(etcdctl.toString(), "--endpoints=" + endpoints, "--command-timeout=10s"));
        cmd.addAll(List.of(args));
        var pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().put("ETCDCTL_API", "3");
        Process p = pb.start();
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor(30, TimeUnit.SECONDS);
        return p.exitValue() + ":" + out;
    }

    static String field(String output, String name) {
        Matcher m = Pattern.compile(name + "=\"([^\"]*)\"").matcher(output);
        assertThat(m.find()).as("%s in %s", name, output).isTrue();
        return m.group(1);
    }

    @Test
    void memberAddLearnerStartPromoteUpdateRemoveList() throws Exception {
        Path etcdctl = etcdctl();
        Assumptions.assumeTrue(etcdctl != null, "etcdctl is not installed (apt-get install etcd-client); skipping the etcdctl test");
        try (var cluster = new TestCluster(dir, 3)) {
            cluster.awaitLeader(10_000);
            String all = String.join(",", cluster.endpoint(0), cluster.endpoint(1), cluster.endpoint(2)).replace("http://", "");
            run(etcdctl, all, null, "put", "before", "join");

            ServerConfig planned = cluster.joinerConfig("m4", cluster.initialCluster());
            String added = run(etcdctl, all, null, "member", "add", "m4", "--peer-urls=" + planned.peerUrl(), "--learner");
            Matcher id = Pattern.compile("Member\\s+([0-9a-f]+) added to cluster\\s+([0-9a-f]+)").matcher(added);
            assertThat(id.find()).as(added).isTrue();
            long m4 = Long.parseUnsignedLong(id.group(1), 16);
            assertThat(Long.parseUnsignedLong(id.group(2), 16)).isEqualTo(cluster.servers[0].config().clusterId());
            assertThat(field(added, "ETCD_INITIAL_CLUSTER_STATE")).isEqualTo("existing");
            // Start it exactly with the flags etcdctl printed.
            var joiner = TestCluster.withPeer(planned, planned.peerUrl(), ServerConfig.parseCluster(field(added, "ETCD_INITIAL_CLUSTER")));
            assertThat(joiner.initialClusterState()).isEqualTo("existing");
            String listed = run(etcdctl, all, null, "member", "list");
            assertThat(listed).contains(id.group(1) + ", unstarted, , " + planned.peerUrl() + ", , true");

            SynodServer s4 = cluster.startExtra(joiner);
            SynodServer started = s4;
            assertThat(started.memberId()).isEqualTo(m4);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            String promoted;
            do {
                promoted = runAllowingFailure(etcdctl, all, "member", "promote", id.group(1));
                if (promoted.startsWith("0:")) break;
                assertThat(promoted).contains("can only promote a learner member which is in sync with leader");
                Thread.sleep(200);
            } while (System.nanoTime() < deadline);
            assertThat(promoted).startsWith("0:").contains(id.group(1) + " promoted in cluster");
            String own = joiner.clientUrl().toString().replace("http://", "");
            assertThat(run(etcdctl, own, null, "get", "before", "--print-value-only", "--consistency=s")).isEqualTo("join\n");

            long listDeadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (!run(etcdctl, all, null, "member", "list").contains(id.group(1) + ", started, m4, " + joiner.peerUrl() + ", "
                    + joiner.clientUrl() + ", false")) {
                assertThat(System.nanoTime()).as("m4 listed as a started voter").isLessThan(listDeadline);
                Thread.sleep(100);
            }

            URI moved = URI.create("http://127.0.0.1:" + TestCluster.freePorts(1)[0]);
            assertThat(run(etcdctl, all, null, "member", "update", id.group(1), "--peer-urls=" + moved)).contains("updated in cluster");
            assertThat(run(etcdctl, all, null, "member", "list")).contains(id.group(1) + ", started, m4, " + moved);
            String dup = runAllowingFailure(etcdctl, all, "member", "add", "m5", "--peer-urls=" + moved);
            assertThat(dup).doesNotStartWith("0:").contains("Peer URLs already exists");
            // The operator restarts m4 on its new peer URL (etcd's procedure for a moved member).
            s4.close();
            cluster.extras.remove(s4);
            var movedCluster = new java.util.LinkedHashMap<>(joiner.initialCluster());
            movedCluster.put("m4", moved);
            s4 = cluster.startExtra(TestCluster.withPeer(joiner, moved, movedCluster));
            run(etcdctl, all, null, "put", "while", "moved");
            long caughtUp = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (!runAllowingFailure(etcdctl, own, "get", "while", "--print-value-only", "--consistency=s").equals("0:moved\n")) {
                assertThat(System.nanoTime()).as("m4 reachable at its new peer URL").isLessThan(caughtUp);
                Thread.sleep(100);
            }

            assertThat(run(etcdctl, all, null, "member", "remove", id.group(1))).contains("removed from cluster");
            long stopDeadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            SynodServer removed = s4;
            while (!removed.isClosed()) {
                assertThat(System.nanoTime()).as("the removed member stopped itself").isLessThan(stopDeadline);
                Thread.sleep(50);
            }
            String after = run(etcdctl, all, null, "member", "list");
            assertThat(after).doesNotContain(id.group(1)).contains(", started, m1, ").contains(", started, m2, ").contains(", started, m3, ");
            assertThat(runAllowingFailure(etcdctl, all, "member", "remove", id.group(1))).contains("member not found");
            run(etcdctl, all, null, "put", "after", "remove");
        }
    }
}
