package io.synod.server;

import static io.synod.server.ClusterTest.b;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.maintenance.AlarmType;
import io.etcd.jetcd.options.CompactOption;
import io.etcd.jetcd.options.DeleteOption;
import java.nio.file.Path;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The backend quota and the NOSPACE alarm, as etcd does them: filling a small quota raises the
 * alarm on every member (it is replicated); then puts, txns that put and lease grants are refused
 * with "database space exceeded" while reads and deletes are served; after deleting, compacting
 * and defragmenting, {@code etcdctl alarm disarm} clears it and writes are accepted again.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class QuotaAlarmTest {
    @TempDir Path dir;

    static final long QUOTA = 2L << 20;

    @Test
    void fillingTheQuotaRaisesNospaceAndDisarmRestoresWrites() throws Exception {
        Path etcdctl = EtcdctlTest.etcdctl();
        Assumptions.assumeTrue(etcdctl != null, "etcdctl is not installed (apt-get install etcd-client); skipping the etcdctl test");
        try (var cluster = new TestCluster(dir, 3, c -> c.withLimits(c.limits().withQuotaBackendBytes(QUOTA)))) {
            int leader = cluster.awaitLeader(10_000);
            String follower = cluster.endpoint((leader + 1) % 3).replace("http://", "");
            try (Client c = ClusterTest.client(cluster, (leader + 1) % 3); Client other = ClusterTest.client(cluster, (leader + 2) % 3)) {
                ByteSequence big = ByteSequence.from(new byte[64 * 1024]);
                int written = 0;
                Throwable refusal = null;
                while (refusal == null && written < 1000) {
                    try {
                        c.getKVClient().put(b("fill/" + written), big).get(10, TimeUnit.SECONDS);
                        written++;
                    } catch (ExecutionException e) {
                        refusal = e.getCause();
                    }
                }
                assertThat(refusal).as("a put beyond the quota").isNotNull().hasMessageContaining("etcdserver: mvcc: database space exceeded");
                assertThat(written).as("puts accepted before the quota filled").isPositive();

                // Replicated: every member lists it and refuses growth; reads and deletes still work.
                String alarms = EtcdctlTest.run(etcdctl, follower, null, "alarm", "list");
                assertThat(alarms).contains("alarm:NOSPACE");
                assertThat(other.getMaintenanceClient().listAlarms().get(10, TimeUnit.SECONDS).getAlarms())
                        .extracting(a -> a.getAlarmType()).containsExactly(AlarmType.NOSPACE);
                assertThatThrownBy(() -> other.getKVClient().put(b("tiny"), b("x")).get(10, TimeUnit.SECONDS))
                        .hasMessageContaining("database space exceeded");
                assertThatThrownBy(() -> other.getLeaseClient().grant(60).get(10, TimeUnit.SECONDS))
                        .hasMessageContaining("database space exceeded");
                assertThat(other.getKVClient().get(b("fill/0")).get(10, TimeUnit.SECONDS).getCount()).isEqualTo(1);
                long rev = other.getKVClient().delete(b("fill/"), DeleteOption.builder().isPrefix(true).build()).get(10, TimeUnit.SECONDS)
                        .getHeader().getRevision();

                // The operator frees the space, then disarms.
                other.getKVClient().compact(rev, CompactOption.builder().withCompactPhysical(true).build()).get(30, TimeUnit.SECONDS);
                for (int i = 0; i < 3; i++) EtcdctlTest.run(etcdctl, cluster.endpoint(i).replace("http://", ""), null, "defrag");
                assertThat(EtcdctlTest.run(etcdctl, follower, null, "alarm", "disarm")).contains("alarm:NOSPACE");
                assertThat(EtcdctlTest.run(etcdctl, follower, null, "alarm", "list")).doesNotContain("NOSPACE");
                other.getKVClient().put(b("after"), b("disarm")).get(10, TimeUnit.SECONDS);
                assertThat(c.getKVClient().get(b("after")).get(10, TimeUnit.SECONDS).getCount()).isEqualTo(1);
            }
        }
    }
}
