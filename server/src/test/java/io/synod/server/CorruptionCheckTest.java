package io.synod.server;

import static io.synod.server.ClusterTest.b;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.etcd.jetcd.Client;
import io.synod.mvcc.MvccOptions;
import io.synod.mvcc.MvccStore;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A member whose state silently diverges is caught by the leader's periodic HashKV comparison:
 * here a follower's store is made to forget that it applied its last entries (so it applies them
 * twice after a restart, giving the same writes other revisions). The leader raises CORRUPT
 * naming that member, every member lists the alarm, and writes are refused with etcd's
 * "etcdserver: corrupt cluster". Healthy members never raise it (the first half of the test).
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class CorruptionCheckTest {
    @TempDir Path dir;

    @Test
    void aDivergedMemberRaisesCorrupt() throws Exception {
        try (var cluster = new TestCluster(dir, 3, c -> c.withLimits(c.limits().withCorruptCheckIntervalMillis(200)))) {
            int leader = cluster.awaitLeader(10_000);
            int victim = (leader + 1) % 3;
            try (Client c = ClusterTest.client(cluster, leader)) {
                for (int i = 0; i < 20; i++) c.getKVClient().put(b("k" + i), b("v" + i)).get(10, TimeUnit.SECONDS);
                Thread.sleep(1500); // several check rounds over healthy members
                assertThat(c.getMaintenanceClient().listAlarms().get(10, TimeUnit.SECONDS).getAlarms()).as("alarms while healthy").isEmpty();

                long applied = cluster.servers[victim].driver().appliedIndex();
                cluster.stop(victim);
                try (MvccStore s = MvccStore.open(cluster.configs.get(victim).dataDir().resolve("mvcc"), MvccOptions.defaults())) {
                    s.rebase(applied - 3); // the store forgets three applied entries: replay applies them again
                }
                cluster.start(victim);
                c.getKVClient().put(b("after"), b("restart")).get(10, TimeUnit.SECONDS);

                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                while (c.getMaintenanceClient().listAlarms().get(10, TimeUnit.SECONDS).getAlarms().isEmpty()) {
                    assertThat(System.nanoTime()).as("CORRUPT raised").isLessThan(deadline);
                    Thread.sleep(100);
                }
                var alarms = c.getMaintenanceClient().listAlarms().get(10, TimeUnit.SECONDS).getAlarms();
                assertThat(alarms).allSatisfy(a -> assertThat(a.getMemberId()).isEqualTo(cluster.servers[victim].memberId()));
                assertThatThrownBy(() -> c.getKVClient().put(b("refused"), b("x")).get(10, TimeUnit.SECONDS))
                        .hasMessageContaining("etcdserver: corrupt cluster");
            }
        }
    }
}
