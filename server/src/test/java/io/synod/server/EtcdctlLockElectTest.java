package io.synod.server;

import static io.synod.server.EtcdctlTest.etcdctl;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Debian's {@code etcdctl lock} and {@code etcdctl elect}, which build their recipes on the client
 * from KV, Txn, Watch and Lease (not the server-side Lock/Election services), against a
 * three-member cluster: a second contender waits until the holder is killed and its lease
 * expires, then gets the lock; an observer sees the election pass to the next candidate when
 * the first is interrupted and resigns.
 * Skipped, saying so, when {@code etcdctl} is not installed.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class EtcdctlLockElectTest {
    @TempDir Path dir;

    /** A long-running etcdctl whose output lines are collected as they come. */
    static final class Running implements AutoCloseable {
        final Process process;
        final List<String> lines = new CopyOnWriteArrayList<>();

        Running(Path etcdctl, String endpoints, String... args) throws IOException {
            var cmd = new ArrayList<>(List.of(etcdctl.toString(), "--endpoints=" + endpoints));
            cmd.addAll(List.of(args));
            var pb = new ProcessBuilder(cmd).redirectErrorStream(true);
            pb.environment().put("ETCDCTL_API", "3");
            process = pb.start();
            Thread t = new Thread(() -> {
                try (var r = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                    for (String l = r.readLine(); l != null; l = r.readLine()) lines.add(l);
                } catch (IOException ignored) {
                    // the process ended
                }
            });
            t.setDaemon(true);
            t.start();
        }

        boolean saw(Predicate<String> p) {
            return lines.stream().anyMatch(p);
        }

        void await(String what, Predicate<String> p, long seconds) throws InterruptedException {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
            while (!saw(p)) {
                assertThat(System.nanoTime()).as("%s; output so far: %s", what, lines).isLessThan(deadline);
                Thread.sleep(50);
            }
        }

        @Override
        public void close() throws InterruptedException {
            process.destroyForcibly();
            process.waitFor(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void lockHandsOverWhenTheHolderIsKilled() throws Exception {
        Path etcdctl = etcdctl();
        Assumptions.assumeTrue(etcdctl != null, "etcdctl is not installed (apt-get install etcd-client); skipping the etcdctl test");
        try (var cluster = new TestCluster(dir, 3)) {
            cluster.awaitLeader(10_000);
            String e0 = cluster.endpoint(0).replace("http://", "");
            String e1 = cluster.endpoint(1).replace("http://", "");
            try (var holder = new Running(etcdctl, e0, "lock", "--ttl=2", "biglock")) {
                holder.await("first contender holds the lock", l -> l.startsWith("biglock/"), 20);
                try (var waiter = new Running(etcdctl, e1, "lock", "--ttl=2", "biglock", "--", "sh", "-c", "echo acquired rev=$ETCD_LOCK_REV")) {
                    Thread.sleep(1500);
                    assertThat(waiter.saw(l -> l.startsWith("acquired"))).as("second contender while the first holds: %s", waiter.lines).isFalse();
                    holder.process.destroyForcibly(); // SIGKILL: no unlock, the lease must run out
                    waiter.await("second contender acquires after the holder's lease expires", l -> l.startsWith("acquired rev="), 30);
                    assertThat(waiter.process.waitFor(20, TimeUnit.SECONDS)).as("the command ran and the lock was released").isTrue();
                    assertThat(waiter.process.exitValue()).isZero();
                }
            }
        }
    }

    @Test
    void electionPassesToTheNextCandidateAndObserversSeeIt() throws Exception {
        Path etcdctl = etcdctl();
        Assumptions.assumeTrue(etcdctl != null, "etcdctl is not installed (apt-get install etcd-client); skipping the etcdctl test");
        try (var cluster = new TestCluster(dir, 3)) {
            cluster.awaitLeader(10_000);
            String e0 = cluster.endpoint(0).replace("http://", "");
            String e1 = cluster.endpoint(1).replace("http://", "");
            String e2 = cluster.endpoint(2).replace("http://", "");
            try (var first = new Running(etcdctl, e0, "elect", "chair", "alice")) {
                first.await("alice is elected", "alice"::equals, 20);
                try (var observer = new Running(etcdctl, e2, "elect", "-l", "chair");
                        var second = new Running(etcdctl, e1, "elect", "chair", "bob")) {
                    observer.await("the observer sees alice", "alice"::equals, 20);
                    Thread.sleep(1000);
                    assertThat(second.saw("bob"::equals)).as("bob while alice leads").isFalse();
                    // etcdctl elect has no --ttl (its session lives 60 s), so alice steps down by signal: she resigns.
                    first.process.destroy();
                    second.await("bob is elected after alice resigns", "bob"::equals, 30);
                    observer.await("the observer sees bob", "bob"::equals, 20);
                }
            }
        }
    }
}
