package io.synod.server;

import static io.synod.server.ClusterTest.b;
import static io.synod.server.ClusterTest.s;
import static org.assertj.core.api.Assertions.assertThat;

import io.etcd.jetcd.Client;
import io.etcd.jetcd.options.PutOption;
import io.etcd.jetcd.options.WatchOption;
import io.etcd.jetcd.watch.WatchEvent;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The same client session against one-, three- and five-member clusters: writes through one
 * member, a watch on another, a leased key and its revoke, and — with more than one member —
 * the loss of the leader with the watch continuing on its member.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ClusterSizesTest {
    @TempDir Path dir;

    @ParameterizedTest(name = "{0} members")
    @ValueSource(ints = {1, 3, 5})
    void kvWatchAndLeaseWorkAtEverySize(int size) throws Exception {
        try (var cluster = new TestCluster(dir.resolve("c" + size), size)) {
            int leader = cluster.awaitLeader(20_000);
            int writer = (leader + 1) % size;
            int watcher = size == 1 ? 0 : (leader + 2) % size;
            try (Client w = ClusterTest.client(cluster, writer); Client o = ClusterTest.client(cluster, watcher)) {
                List<String> seen = new CopyOnWriteArrayList<>();
                var watch = o.getWatchClient().watch(b("s/"), WatchOption.builder().isPrefix(true).build(), r -> {
                    for (WatchEvent e : r.getEvents()) seen.add(e.getEventType() + " " + s(e.getKeyValue().getKey()));
                });
                Thread.sleep(300);
                w.getKVClient().put(b("s/a"), b("1")).get(15, TimeUnit.SECONDS);
                long lease = w.getLeaseClient().grant(60).get(15, TimeUnit.SECONDS).getID();
                w.getKVClient().put(b("s/leased"), b("x"), PutOption.builder().withLeaseId(lease).build()).get(15, TimeUnit.SECONDS);
                w.getLeaseClient().revoke(lease).get(15, TimeUnit.SECONDS);
                if (size > 1) {
                    cluster.stop(leader);
                    cluster.awaitLeader(20_000);
                    // The writer may have been the one stopped only if size were 1; here it survives.
                    w.getKVClient().put(b("s/after"), b("2")).get(30, TimeUnit.SECONDS);
                }
                List<String> expected = size > 1 ? List.of("PUT s/a", "PUT s/leased", "DELETE s/leased", "PUT s/after")
                        : List.of("PUT s/a", "PUT s/leased", "DELETE s/leased");
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
                while (seen.size() < expected.size() && System.nanoTime() < deadline) Thread.sleep(50);
                assertThat(seen).isEqualTo(expected);
                watch.close();
            }
        }
    }
}
