package io.synod.server;

import static io.synod.server.ClusterTest.b;
import static org.assertj.core.api.Assertions.assertThat;

import io.etcd.jetcd.Client;
import io.etcd.jetcd.KV;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code etcdctl watch} (the real etcd 3.4 client) against a three-member cluster, run as
 * processes whose output is read while writes happen: a key from now, a prefix, a historical
 * {@code --rev}, and {@code --prev-kv}. Skipped when etcdctl is not installed.
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class EtcdctlWatchTest {
    @TempDir Path dir;

    /** One running {@code etcdctl watch}; its stdout (and stderr) lines are collected as they come. */
    static final class WatchProcess implements AutoCloseable {
        final Process process;
        final List<String> lines = new ArrayList<>();
        final Thread reader;

        WatchProcess(Path etcdctl, String endpoint, String... args) throws Exception {
            var cmd = new ArrayList<>(List.of(etcdctl.toString(), "--endpoints=" + endpoint, "watch"));
            cmd.addAll(List.of(args));
            var pb = new ProcessBuilder(cmd).redirectErrorStream(true);
            pb.environment().put("ETCDCTL_API", "3");
            process = pb.start();
            process.getOutputStream().close();
            reader = new Thread(() -> {
                try (var in = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                    for (String line = in.readLine(); line != null; line = in.readLine()) {
                        synchronized (lines) {
                            lines.add(line);
                        }
                    }
                } catch (java.io.IOException e) {
                    // the process was stopped
                }
            }, "etcdctl-watch-reader");
            reader.start();
        }

        List<String> lines() {
            synchronized (lines) {
                return List.copyOf(lines);
            }
        }

        boolean await(Predicate<List<String>> done, long millis) throws InterruptedException {
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
            while (System.nanoTime() < deadline) {
                if (done.test(lines())) return true;
                Thread.sleep(10);
            }
            return done.test(lines());
        }

        @Override
        public void close() throws InterruptedException {
            process.destroy();
            if (!process.waitFor(5, TimeUnit.SECONDS)) process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            reader.join(5000);
        }
    }

    static List<String> tail(List<String> lines, int n) {
        return lines.subList(Math.max(0, lines.size() - n), lines.size());
    }

    @Test
    void etcdctlWatchKeyPrefixRevAndPrevKv() throws Exception {
        Path etcdctl = EtcdctlTest.etcdctl();
        Assumptions.assumeTrue(etcdctl != null, "etcdctl is not installed (apt-get install etcd-client); skipping the etcdctl watch test");
        try (var cluster = new TestCluster(dir, 3)) {
            cluster.awaitLeader(10_000);
            String[] e = new String[3];
            for (int i = 0; i < 3; i++) e[i] = cluster.endpoint(i).replace("http://", "");
            try (Client client = ClusterTest.client(cluster, 1)) {
                KV kv = client.getKVClient();
                long r1 = kv.put(b("foo"), b("v0")).get(10, TimeUnit.SECONDS).getHeader().getRevision();
                List<String> fooValues = new ArrayList<>(List.of("v0"));
                try (var key = new WatchProcess(etcdctl, e[0], "foo");
                        var prefix = new WatchProcess(etcdctl, e[1], "--prefix", "p/");
                        var rev = new WatchProcess(etcdctl, e[2], "--rev=" + r1, "foo");
                        var prev = new WatchProcess(etcdctl, e[0], "--prev-kv", "foo")) {
                    // etcdctl prints nothing when its watch is created: write until every from-now watch has printed.
                    for (int i = 0; !(key.lines().size() > 0 && prefix.lines().size() > 0 && prev.lines().size() > 0); i++) {
                        assertThat(i).as("etcdctl watches never printed: %s %s %s", key.lines(), prefix.lines(), prev.lines()).isLessThan(100);
                        kv.put(b("foo"), b("prime" + i)).get(10, TimeUnit.SECONDS);
                        fooValues.add("prime" + i);
                        kv.put(b("p/0"), b("prime" + i)).get(10, TimeUnit.SECONDS);
                        key.await(l -> !l.isEmpty(), 300);
                    }
                    String lastPrime = fooValues.get(fooValues.size() - 1);
                    kv.put(b("foo"), b("one")).get(10, TimeUnit.SECONDS);
                    fooValues.add("one");
                    kv.put(b("p/1"), b("x")).get(10, TimeUnit.SECONDS);
                    kv.put(b("q/1"), b("not in the prefix")).get(10, TimeUnit.SECONDS);
                    kv.delete(b("foo")).get(10, TimeUnit.SECONDS);

                    var keyTail = List.of("PUT", "foo", "one", "DELETE", "foo", "");
                    assertThat(key.await(l -> l.size() >= 6 && tail(l, 6).equals(keyTail), 20_000)).as("etcdctl watch foo: %s", key.lines()).isTrue();
                    var prefixTail = List.of("PUT", "p/1", "x");
                    assertThat(prefix.await(l -> l.size() >= 3 && tail(l, 3).equals(prefixTail), 20_000))
                            .as("etcdctl watch --prefix p/: %s", prefix.lines()).isTrue();
                    assertThat(prefix.lines()).doesNotContain("q/1");
                    // --prev-kv prints the previous key and value before the new ones.
                    var prevTail = List.of("PUT", "foo", lastPrime, "foo", "one", "DELETE", "foo", "one", "foo", "");
                    assertThat(prev.await(l -> l.size() >= 10 && tail(l, 10).equals(prevTail), 20_000))
                            .as("etcdctl watch --prev-kv foo: %s", prev.lines()).isTrue();
                    // --rev: every change of foo since r1, in order, each once.
                    List<String> expected = new ArrayList<>();
                    for (String v : fooValues) expected.addAll(List.of("PUT", "foo", v));
                    expected.addAll(List.of("DELETE", "foo", ""));
                    assertThat(rev.await(l -> l.equals(expected), 20_000)).as("etcdctl watch --rev=%d foo: %s", r1, rev.lines()).isTrue();
                }
            }
        }
    }
}
