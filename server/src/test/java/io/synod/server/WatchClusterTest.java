package io.synod.server;

import static io.synod.server.ClusterTest.b;
import static io.synod.server.ClusterTest.s;
import static org.assertj.core.api.Assertions.assertThat;

import io.etcd.jetcd.Client;
import io.etcd.jetcd.KV;
import io.etcd.jetcd.Watch;
import io.etcd.jetcd.common.exception.CompactedException;
import io.etcd.jetcd.options.WatchOption;
import io.etcd.jetcd.watch.WatchEvent;
import io.etcd.jetcd.watch.WatchResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Watches through the jetcd client against a three-member cluster: every member serves watches
 * from its own applied state (key, prefix, historical start, start 0, prev_kv, filters, compacted
 * start, progress requests), and a watch whose member is stopped (the leader, while writes go on
 * through the others) resumes elsewhere without a gap or a repeated event.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class WatchClusterTest {
    @TempDir Path dir;

    /** A jetcd listener that records events (as "TYPE key=value@rev"), errors and progress notifications. */
    static final class Recorder implements Watch.Listener {
        final List<WatchEvent> events = new CopyOnWriteArrayList<>();
        final List<Long> eventRevisions = new CopyOnWriteArrayList<>();
        final List<Throwable> errors = new CopyOnWriteArrayList<>();
        final List<Long> progress = new CopyOnWriteArrayList<>();
        final Set<Long> members = ConcurrentHashMap.newKeySet();
        final CountDownLatch created = new CountDownLatch(1);

        @Override
        public void onNext(WatchResponse r) {
            members.add(r.getHeader().getMemberId());
            if (r.isCreatedNotify()) {
                created.countDown();
            } else if (r.isProgressNotify()) {
                progress.add(r.getHeader().getRevision());
            }
            for (WatchEvent e : r.getEvents()) {
                events.add(e);
                eventRevisions.add(e.getKeyValue().getModRevision());
            }
        }

        @Override
        public void onError(Throwable t) {
            errors.add(t);
        }

        @Override
        public void onCompleted() {}

        List<String> described() {
            List<String> out = new ArrayList<>();
            for (WatchEvent e : events) {
                out.add(e.getEventType() + " " + s(e.getKeyValue().getKey()) + "=" + s(e.getKeyValue().getValue()) + "@"
                        + e.getKeyValue().getModRevision() + (e.getPrevKV().getKey().isEmpty() ? "" : " prev=" + s(e.getPrevKV().getValue())));
            }
            return out;
        }
    }

    static void await(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) throw new AssertionError("timed out waiting for " + what);
            Thread.sleep(10);
        }
    }

    static Recorder watch(Client c, String key, WatchOption option) throws InterruptedException {
        var r = new Recorder();
        c.getWatchClient().watch(b(key), withCreateNotify(option), r);
        assertThat(r.created.await(20, TimeUnit.SECONDS)).as("watch on %s created", key).isTrue();
        return r;
    }

    /** Every watch in these tests asks for its created notification, so writes can wait for it. */
    private static WatchOption withCreateNotify(WatchOption o) {
        var b = WatchOption.builder().withCreateNotify(true).withRevision(o.getRevision()).withPrevKV(o.isPrevKV())
                .withNoPut(o.isNoPut()).withNoDelete(o.isNoDelete()).withProgressNotify(o.isProgressNotify()).isPrefix(o.isPrefix());
        o.getEndKey().ifPresent(b::withRange);
        return b.build();
    }

    @Test
    void everyMemberServesWatchesWithEtcdSemantics() throws Exception {
        try (var cluster = new TestCluster(dir, 3)) {
            int leader = cluster.awaitLeader(10_000);
            int f1 = (leader + 1) % 3, f2 = (leader + 2) % 3;
            try (Client cl = ClusterTest.client(cluster, leader); Client c1 = ClusterTest.client(cluster, f1);
                    Client c2 = ClusterTest.client(cluster, f2)) {
                KV kv = cl.getKVClient();
                long r1 = kv.put(b("foo"), b("1")).get(10, TimeUnit.SECONDS).getHeader().getRevision();
                long r2 = kv.put(b("foo"), b("2")).get(10, TimeUnit.SECONDS).getHeader().getRevision();
                kv.put(b("p/1"), b("1")).get(10, TimeUnit.SECONDS);

                var historical = watch(c1, "foo", WatchOption.builder().withRevision(r1).build());
                var prefix = watch(c2, "p/", WatchOption.builder().isPrefix(true).withPrevKV(true).build());
                var deletesOnly = watch(cl, "foo", WatchOption.builder().withNoPut(true).build());
                var fromNow = watch(c1, "foo", WatchOption.builder().build());

                long r4 = kv.put(b("p/1"), b("x")).get(10, TimeUnit.SECONDS).getHeader().getRevision();
                long r5 = kv.put(b("foo"), b("3")).get(10, TimeUnit.SECONDS).getHeader().getRevision();
                long r6 = kv.delete(b("foo")).get(10, TimeUnit.SECONDS).getHeader().getRevision();
                long r7 = kv.put(b("p/2"), b("y")).get(10, TimeUnit.SECONDS).getHeader().getRevision();

                await(() -> historical.events.size() >= 4 && prefix.events.size() >= 2 && deletesOnly.events.size() >= 1
                        && fromNow.events.size() >= 2, "all watch events");
                assertThat(historical.described()).containsExactly("PUT foo=1@" + r1, "PUT foo=2@" + r2, "PUT foo=3@" + r5,
                        "DELETE foo=@" + r6);
                assertThat(prefix.described()).containsExactly("PUT p/1=x@" + r4 + " prev=1", "PUT p/2=y@" + r7);
                assertThat(deletesOnly.described()).containsExactly("DELETE foo=@" + r6);
                // Start revision 0: strictly after the revision current at creation, nothing older.
                assertThat(fromNow.eventRevisions).containsExactly(r5, r6);
                assertThat(historical.members).containsExactly(cluster.servers[f1].memberId());
                assertThat(prefix.members).containsExactly(cluster.servers[f2].memberId());

                // Progress request: a bookmark at the member's current revision, after the events up to it.
                var idle = watch(c2, "idle", WatchOption.builder().build());
                c2.getWatchClient().requestProgress();
                await(() -> !idle.progress.isEmpty(), "progress notification");
                assertThat(idle.progress.get(0)).isGreaterThanOrEqualTo(r7);

                // A start below the compaction is canceled with the compact revision.
                cl.getKVClient().compact(r5).get(10, TimeUnit.SECONDS);
                // The leader answers the compaction once it applied it; a linearizable read through c1 waits until c1 has
                // too (otherwise the watch could start there from history before the compaction reaches it).
                c1.getKVClient().get(b("foo")).get(10, TimeUnit.SECONDS);
                var compacted = new Recorder();
                c1.getWatchClient().watch(b("foo"), WatchOption.builder().withRevision(r2).build(), compacted);
                await(() -> !compacted.errors.isEmpty(), "compaction error");
                assertThat(compacted.errors.get(0)).isInstanceOf(CompactedException.class);
                assertThat(((CompactedException) compacted.errors.get(0)).getCompactedRevision()).isEqualTo(r5);
                assertThat(compacted.events).isEmpty();
                assertThat(historical.errors).isEmpty();
            }
        }
    }

    @Test
    void aWatchResumesOnAnotherMemberWhenItsMemberStopsWithNoGapOrDuplicate() throws Exception {
        try (var cluster = new TestCluster(dir, 3)) {
            int leader = cluster.awaitLeader(10_000);
            int f1 = (leader + 1) % 3, f2 = (leader + 2) % 3;
            // pick_first: the watch goes to the leader, and to a follower once the leader is gone.
            try (Client watcher = Client.builder().endpoints(cluster.endpoint(leader), cluster.endpoint(f1)).loadBalancerPolicy("pick_first").build();
                    Client writer = Client.builder().endpoints(cluster.endpoint(f1), cluster.endpoint(f2)).build()) {
                long start = writer.getKVClient().put(b("r/start"), b("0")).get(10, TimeUnit.SECONDS).getHeader().getRevision() + 1;
                var rec = new Recorder();
                watcher.getWatchClient().watch(b("r/"), WatchOption.builder().isPrefix(true).withRevision(start).build(), rec);

                var stop = new AtomicBoolean();
                var lastWritten = new long[1];
                var writes = CompletableFuture.runAsync(() -> {
                    for (int i = 0; !stop.get(); i++) {
                        try {
                            lastWritten[0] = writer.getKVClient().put(b("r/" + (i % 20)), b("v" + i)).get(10, TimeUnit.SECONDS)
                                    .getHeader().getRevision();
                        } catch (Exception e) {
                            // during the election; the put may or may not have happened, history decides
                        }
                    }
                });
                await(() -> rec.events.size() >= 50, "first 50 events");
                long servedBy = rec.members.iterator().next();
                int stopped = -1;
                for (int i = 0; i < 3; i++) if (cluster.servers[i].memberId() == servedBy) stopped = i;
                cluster.stop(stopped);
                int before = rec.events.size();
                await(() -> rec.events.size() >= before + 100, "100 events after the stop");
                stop.set(true);
                writes.get(30, TimeUnit.SECONDS);
                long last = lastWritten[0];
                await(() -> !rec.eventRevisions.isEmpty() && rec.eventRevisions.get(rec.eventRevisions.size() - 1) >= last, "the last write");

                // The truth: the same watch, from the same start, on a member that never stopped.
                int survivor = stopped == f2 ? f1 : f2;
                try (Client fresh = ClusterTest.client(cluster, survivor)) {
                    var truth = new Recorder();
                    fresh.getWatchClient().watch(b("r/"), WatchOption.builder().isPrefix(true).withRevision(start).build(), truth);
                    await(() -> truth.eventRevisions.size() >= rec.eventRevisions.size(), "history from a survivor");
                    assertThat(rec.described()).isEqualTo(truth.described().subList(0, rec.events.size()));
                }
                for (int i = 1; i < rec.eventRevisions.size(); i++) {
                    assertThat(rec.eventRevisions.get(i)).isGreaterThan(rec.eventRevisions.get(i - 1));
                }
                assertThat(stopped).isEqualTo(leader);
                assertThat(rec.members).hasSizeGreaterThanOrEqualTo(2); // it really moved
            }
        }
    }
}
