package io.synod.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The real etcd command-line client against a three-member cluster: put through one member, get
 * through another, delete, txn and endpoint status. Skipped, saying so, when {@code etcdctl} is
 * not on the PATH (CI installs Debian's {@code etcd-client}).
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class EtcdctlTest {
    @TempDir Path dir;

    static Path etcdctl() {
        for (String p : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            Path c = Path.of(p, "etcdctl");
            if (Files.isExecutable(c)) return c;
        }
        return null;
    }

    static String run(Path etcdctl, String endpoints, String stdin, String... args) throws Exception {
        var cmd = new ArrayList<String>(List.of(etcdctl.toString(), "--endpoints=" + endpoints, "--command-timeout=10s"));
        cmd.addAll(List.of(args));
        var pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().put("ETCDCTL_API", "3");
        Process p = pb.start();
        if (stdin != null) p.getOutputStream().write(stdin.getBytes(StandardCharsets.UTF_8));
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as("etcdctl %s failed: %s", cmd, out).isZero();
        return out;
    }

    @Test
    void etcdctlPutGetDeleteTxnStatus() throws Exception {
        Path etcdctl = etcdctl();
        Assumptions.assumeTrue(etcdctl != null, "etcdctl is not installed (apt-get install etcd-client); skipping the etcdctl test");
        try (var cluster = new TestCluster(dir, 3)) {
            cluster.awaitLeader(10_000);
            String e0 = cluster.endpoint(0).replace("http://", "");
            String e1 = cluster.endpoint(1).replace("http://", "");
            String e2 = cluster.endpoint(2).replace("http://", "");
            assertThat(run(etcdctl, e0, null, "put", "foo", "bar")).contains("OK");
            assertThat(run(etcdctl, e1, null, "get", "foo")).isEqualTo("foo\nbar\n");
            assertThat(run(etcdctl, e2, null, "get", "foo", "--consistency=s")).isIn("foo\nbar\n", "");
            assertThat(run(etcdctl, e2, null, "put", "a/1", "x")).contains("OK");
            assertThat(run(etcdctl, e1, null, "del", "a/", "--prefix")).isEqualTo("1\n");
            String txn = run(etcdctl, e2, "value(\"foo\") = \"bar\"\n\nput foo baz\n\nput foo nope\n\n", "txn");
            assertThat(txn).startsWith("SUCCESS");
            assertThat(run(etcdctl, e0 + "," + e1 + "," + e2, null, "get", "foo", "--print-value-only")).isEqualTo("baz\n");
            assertThat(run(etcdctl, e0 + "," + e1 + "," + e2, null, "endpoint", "status")).contains(e0).contains(e1).contains(e2);
        }
    }
}
