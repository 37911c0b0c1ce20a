package io.synod.server;

import static io.synod.server.EtcdctlTest.etcdctl;
import static io.synod.server.EtcdctlTest.run;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Debian's {@code etcdctl} lease commands against a three-member cluster, each through a different
 * member: grant, put with the lease, time-to-live with keys, list, keep-alive once, revoke (which
 * deletes the attached key). Skipped, saying so, when {@code etcdctl} is not installed.
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class EtcdctlLeaseTest {
    @TempDir Path dir;

    @Test
    void leaseGrantPutTimeToLiveListKeepAliveRevoke() throws Exception {
        Path etcdctl = etcdctl();
        Assumptions.assumeTrue(etcdctl != null, "etcdctl is not installed (apt-get install etcd-client); skipping the etcdctl test");
        try (var cluster = new TestCluster(dir, 3)) {
            cluster.awaitLeader(10_000);
            String e0 = cluster.endpoint(0).replace("http://", "");
            String e1 = cluster.endpoint(1).replace("http://", "");
            String e2 = cluster.endpoint(2).replace("http://", "");

            String granted = run(etcdctl, e0, null, "lease", "grant", "120");
            Matcher m = Pattern.compile("lease ([0-9a-f]+) granted with TTL\\(120s\\)").matcher(granted);
            assertThat(m.find()).as("grant output: %s", granted).isTrue();
            String id = m.group(1);

            assertThat(run(etcdctl, e1, null, "put", "--lease=" + id, "leased", "v")).contains("OK");
            assertThat(run(etcdctl, e2, null, "get", "leased", "--print-value-only")).isEqualTo("v\n");
            String ttl = run(etcdctl, e2, null, "lease", "timetolive", id, "--keys");
            assertThat(ttl).contains("lease " + id + " granted with TTL(120s), remaining(").contains("attached keys([leased])");
            assertThat(run(etcdctl, e1, null, "lease", "list")).contains("found 1 leases").contains(id);
            assertThat(run(etcdctl, e2, null, "lease", "keep-alive", "--once", id)).contains("lease " + id + " keepalived with TTL(120)");
            assertThat(run(etcdctl, e0, null, "lease", "revoke", id)).contains("lease " + id + " revoked");
            assertThat(run(etcdctl, e1, null, "get", "leased")).isEmpty();
            assertThat(run(etcdctl, e0, null, "lease", "timetolive", id)).contains("lease " + id + " already expired");
        }
    }
}
