package io.synod.mvcc.watch;

import static org.assertj.core.api.Assertions.assertThat;

import io.synod.mvcc.Bytes;
import io.synod.mvcc.Command;
import io.synod.mvcc.CompactRequest;
import io.synod.mvcc.DeleteRangeRequest;
import io.synod.mvcc.Event;
import io.synod.mvcc.MvccOptions;
import io.synod.mvcc.MvccStore;
import io.synod.mvcc.PutRequest;
import io.synod.mvcc.RequestOp;
import io.synod.mvcc.Result;
import io.synod.mvcc.TxnRequest;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The watch hub against a real store. The randomized tests interleave writes, a change feed that
 * lags behind the store (as the real one does: it runs after the store lock is released),
 * registrations at random revisions, cancels, compactions, progress requests and consumers that
 * read slowly or not at all, with queue limits small enough that watchers keep falling out of
 * the synced group; {@link WatchChecker} then demands that every watcher saw exactly its
 * matching history, once, in order. Each run prints its seed; replay with
 * {@code -Dsynod.watch.seed=N}.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class WatchHubTest {
    @TempDir Path dir;
    private final List<AutoCloseable> toClose = new ArrayList<>();

    static final String[] KEYS = {"a", "b", "c", "d", "e", "f"};
    static final WatchOptions TINY = WatchOptions.defaults().withQueueLimits(6, 1 << 20, 4).withCatchUpWatchersMax(3);

    static Bytes b(String s) {
        return Bytes.utf8(s);
    }

    /** A store with a recorded history and a change feed the test delivers to the hub by hand. */
    final class Fixture implements AutoCloseable {
        final MvccStore store;
        final WatchHub hub;
        final ConcurrentSkipListMap<Long, List<Event>> history = new ConcurrentSkipListMap<>();
        final ArrayDeque<Long> feed = new ArrayDeque<>();
        long index = 1;

        Fixture(Path path, int eventsPerCatchUp, WatchOptions options) throws IOException {
            store = MvccStore.open(path, MvccOptions.defaults().withMaxEventsPerCatchUp(eventsPerCatchUp));
            store.addListener((rev, events) -> {
                history.put(rev, events);
                synchronized (feed) {
                    feed.add(rev);
                }
            });
            hub = new WatchHub(EventHistory.of(store), options);
            toClose.add(this);
        }

        Result apply(Command c) {
            return store.apply(index++, c);
        }

        long put(String k, String v) {
            apply(PutRequest.of(b(k), b(v)));
            return store.currentRevision();
        }

        /** Hands the next {@code n} pending notifications to the hub. */
        void deliver(int n) {
            for (int i = 0; i < n; i++) {
                Long rev;
                synchronized (feed) {
                    rev = feed.poll();
                }
                if (rev == null) return;
                hub.onChanges(rev, history.get(rev));
            }
        }

        void deliverAll() {
            deliver(Integer.MAX_VALUE);
        }

        @Override
        public void close() {
            hub.close();
            store.close();
        }
    }

    @AfterEach
    void closeAll() throws Exception {
        for (AutoCloseable c : toClose) c.close();
    }

    static List<WatchUpdate> drain(WatchStream s) {
        List<WatchUpdate> out = new ArrayList<>();
        for (Optional<WatchUpdate> u = s.poll(); u.isPresent(); u = s.poll()) out.add(u.get());
        return out;
    }

    static List<Long> revisions(List<WatchUpdate> updates) {
        List<Long> out = new ArrayList<>();
        for (WatchUpdate u : updates) {
            if (u instanceof WatchUpdate.Events e) for (Event ev : e.events()) out.add(ev.revision().main());
        }
        return out;
    }

    // ---- semantics, one at a time -------------------------------------------------------------

    @Test
    void startRevisionZeroMeansAfterTheCurrentRevisionEvenWhenTheFeedLags() throws IOException {
        var f = new Fixture(dir, 100, WatchOptions.defaults());
        f.put("a", "1");
        long current = f.put("a", "2"); // the feed has delivered neither
        var s = f.hub.openStream(() -> {});
        long id = s.watch(WatchSpec.key(b("a")));
        f.deliverAll();
        long next = f.put("a", "3");
        f.deliverAll();
        var updates = drain(s);
        assertThat(updates.get(0)).isEqualTo(new WatchUpdate.Created(id, current));
        assertThat(revisions(updates)).containsExactly(next);
    }

    @Test
    void historicalWatchCatchesUpInPagesThenFollowsLive() throws IOException {
        var f = new Fixture(dir, 2, WatchOptions.defaults());
        for (int i = 0; i < 10; i++) f.put(KEYS[i % 3], "v" + i);
        f.deliverAll();
        var s = f.hub.openStream(() -> {});
        s.watch(WatchSpec.prefix(b("")).withRangeEnd(Bytes.ZERO).withStartRevision(3));
        while (f.hub.catchUpStep()) {
            // pages of two events
        }
        long live = f.put("z", "live");
        f.deliverAll();
        assertThat(revisions(drain(s))).containsExactly(3L, 4L, 5L, 6L, 7L, 8L, 9L, 10L, 11L, live);
        assertThat(f.hub.stats().historyReads()).isGreaterThanOrEqualTo(4);
    }

    @Test
    void refusesDuplicateIdsEmptyRangesAndNegativeIdsAsEtcdDoes() throws IOException {
        var f = new Fixture(dir, 100, WatchOptions.defaults().withWatchersPerStreamMax(2));
        var s = f.hub.openStream(() -> {});
        assertThat(s.watch(WatchSpec.key(b("a")).withWatchId(7))).isEqualTo(7);
        assertThat(s.watch(WatchSpec.key(b("a")).withWatchId(7))).isEqualTo(WatchHub.NO_WATCH_ID);
        assertThat(s.watch(WatchSpec.key(b("b")).withRangeEnd(b("a")))).isEqualTo(WatchHub.NO_WATCH_ID);
        assertThat(s.watch(WatchSpec.key(b("b")).withWatchId(-5))).isEqualTo(WatchHub.NO_WATCH_ID);
        assertThat(s.watch(WatchSpec.key(b("b")))).isEqualTo(0); // auto ids start at 0, as in etcd
        assertThat(s.watch(WatchSpec.key(b("c")))).isEqualTo(WatchHub.NO_WATCH_ID);
        var updates = drain(s);
        assertThat(updates).extracting(u -> u instanceof WatchUpdate.Refused r ? r.reason() : "ok")
                .containsExactly("ok", WatchHub.DUPLICATE_WATCH_ID, WatchHub.EMPTY_RANGE, WatchHub.NEGATIVE_WATCH_ID, "ok",
                        WatchHub.TOO_MANY_WATCHERS);
        assertThat(s.cancel(7)).isTrue();
        assertThat(s.cancel(7)).isFalse();
        assertThat(drain(s)).containsExactly(new WatchUpdate.Canceled(7, 1, 0, ""));
    }

    @Test
    void refusesWatchersBeyondTheHubWideLimitUntilOneEnds() throws IOException {
        var f = new Fixture(dir, 100, WatchOptions.defaults().withWatchersMax(3));
        var s1 = f.hub.openStream(() -> {});
        var s2 = f.hub.openStream(() -> {});
        assertThat(s1.watch(WatchSpec.key(b("a")))).isEqualTo(0);
        assertThat(s1.watch(WatchSpec.key(b("b")).withStartRevision(1))).isEqualTo(1); // an unsynced one counts too
        assertThat(s2.watch(WatchSpec.key(b("c")))).isEqualTo(0);
        assertThat(s2.watch(WatchSpec.key(b("d")))).isEqualTo(WatchHub.NO_WATCH_ID);
        assertThat(drain(s2)).extracting(u -> u instanceof WatchUpdate.Refused r ? r.reason() : "ok")
                .containsExactly("ok", WatchHub.TOO_MANY_WATCHERS_IN_HUB);
        assertThat(s1.cancel(1)).isTrue();
        assertThat(s2.watch(WatchSpec.key(b("d")))).isEqualTo(1);
        s1.close(); // closing a stream frees its watchers' places
        assertThat(s2.watch(WatchSpec.key(b("e")))).isEqualTo(2);
        assertThat(s2.watch(WatchSpec.key(b("f")))).isEqualTo(WatchHub.NO_WATCH_ID);
    }

    @Test
    void streamsThatStopReadingShareOneBudgetAndLiveStreamsKeepTheirReserve() throws IOException {
        long budget = 4096, reserve = 1024;
        var f = new Fixture(dir, 20, WatchOptions.defaults().withQueuedBytes(budget, reserve));
        var stalled1 = f.hub.openStream(() -> {});
        var stalled2 = f.hub.openStream(() -> {});
        var live = f.hub.openStream(() -> {});
        for (var s : List.of(stalled1, stalled2, live)) {
            s.watch(WatchSpec.key(b("a")));
            drain(s);
        }
        String value = "v".repeat(100); // about 170 bytes per queued event
        List<Long> written = new ArrayList<>();
        List<Long> liveGot = new ArrayList<>();
        long mostQueued = 0;
        for (int i = 0; i < 100; i++) {
            written.add(f.put("a", value));
            f.deliverAll();
            while (f.hub.catchUpStep()) {
                // nothing to catch up while the stalled streams hold the shared room
            }
            mostQueued = Math.max(mostQueued, f.hub.stats().queuedBytes());
            liveGot.addAll(revisions(drain(live)));
        }
        assertThat(liveGot).as("the live stream is never pushed off the live path").isEqualTo(written);
        assertThat(mostQueued).as("queued bytes over all streams").isLessThan(budget + 2 * reserve + 2 * 200);
        assertThat(f.hub.stats().demotions()).isEqualTo(2);

        // Once the stalled clients read again, they catch up from history, every event exactly once.
        for (var s : List.of(stalled1, stalled2)) {
            List<Long> got = new ArrayList<>();
            for (int round = 0; round < 200 && got.size() < written.size(); round++) {
                got.addAll(revisions(drain(s)));
                f.hub.catchUpStep();
            }
            assertThat(got).isEqualTo(written);
        }
        stalled1.close();
        stalled2.close();
        live.close();
        assertThat(f.hub.stats().queuedBytes()).isZero();
    }

    @Test
    void filtersAndPrevKv() throws IOException {
        var f = new Fixture(dir, 100, WatchOptions.defaults());
        var s = f.hub.openStream(() -> {});
        long noPut = s.watch(WatchSpec.key(b("k")).withFilters(true, false));
        long noDelete = s.watch(WatchSpec.key(b("k")).withFilters(false, true).withPrevKv(true));
        f.put("k", "1");
        f.put("k", "2");
        f.apply(DeleteRangeRequest.single(b("k")));
        f.deliverAll();
        List<Event> gotNoPut = new ArrayList<>(), gotNoDelete = new ArrayList<>();
        for (WatchUpdate u : drain(s)) {
            if (u instanceof WatchUpdate.Events e) (e.watchId() == noPut ? gotNoPut : gotNoDelete).addAll(e.events());
        }
        assertThat(gotNoPut).extracting(Event::type).containsExactly(Event.Type.DELETE);
        assertThat(gotNoPut.get(0).prevKv()).isEmpty();
        assertThat(gotNoDelete).extracting(Event::type).containsExactly(Event.Type.PUT, Event.Type.PUT);
        assertThat(gotNoDelete.get(0).prevKv()).isEmpty();
        assertThat(gotNoDelete.get(1).prevKv().orElseThrow().value()).isEqualTo(b("1"));
        assertThat(noDelete).isNotEqualTo(noPut);
    }

    @Test
    void compactedStartIsCanceledWithTheRevisionItCanRestartFrom() throws IOException {
        var f = new Fixture(dir, 100, WatchOptions.defaults());
        for (int i = 0; i < 6; i++) f.put("a", "v" + i); // revisions 2..7
        f.apply(new CompactRequest(5));
        f.deliverAll();
        var s = f.hub.openStream(() -> {});
        long below = s.watch(WatchSpec.key(b("a")).withStartRevision(3));
        long at = s.watch(WatchSpec.key(b("a")).withStartRevision(5));
        long above = s.watch(WatchSpec.key(b("a")).withStartRevision(6));
        while (f.hub.catchUpStep()) {
            // until every watcher is synced or canceled
        }
        var updates = drain(s);
        assertThat(updates).contains(new WatchUpdate.Canceled(below, 7, 5, WatchHub.COMPACTED),
                new WatchUpdate.Canceled(at, 7, 6, WatchHub.COMPACTED));
        assertThat(revisions(updates)).containsExactly(6L, 7L);
        assertThat(updates).filteredOn(u -> u instanceof WatchUpdate.Events).allMatch(u -> u.watchId() == above);
    }

    @Test
    void streamProgressWaitsUntilEveryWatcherIsSynced() throws IOException {
        var f = new Fixture(dir, 100, WatchOptions.defaults());
        for (int i = 0; i < 5; i++) f.put("a", "v" + i);
        f.deliverAll();
        var s = f.hub.openStream(() -> {});
        s.watch(WatchSpec.key(b("a")).withStartRevision(2));
        s.requestProgress();
        assertThat(drain(s)).hasSize(1).allMatch(u -> u instanceof WatchUpdate.Created); // still behind: no bookmark yet
        f.hub.catchUpStep();
        var updates = drain(s);
        assertThat(updates.get(updates.size() - 1)).isEqualTo(new WatchUpdate.Progress(WatchHub.NO_WATCH_ID, 6));
        assertThat(revisions(updates)).containsExactly(2L, 3L, 4L, 5L, 6L);
    }

    @Test
    void periodicProgressOnlyForIdleSyncedWatchersThatAskedForIt() throws IOException {
        var f = new Fixture(dir, 100, WatchOptions.defaults());
        var s = f.hub.openStream(() -> {});
        long asked = s.watch(WatchSpec.key(b("a")).withProgressNotify(true));
        s.watch(WatchSpec.key(b("a")));
        drain(s);
        f.put("a", "1");
        f.deliverAll();
        s.progressTick(); // events went out since the last tick: elided
        assertThat(drain(s)).noneMatch(u -> u instanceof WatchUpdate.Progress);
        s.progressTick();
        assertThat(drain(s)).containsExactly(new WatchUpdate.Progress(asked, 2));
    }

    @Test
    void aSlowWatcherFallsBackToHistoryWithoutStallingOthers() throws IOException {
        var f = new Fixture(dir, 3, TINY);
        var slow = f.hub.openStream(() -> {});
        var fast = f.hub.openStream(() -> {});
        slow.watch(WatchSpec.key(b("a")));
        fast.watch(WatchSpec.key(b("a")));
        drain(slow);
        List<Long> fastGot = new ArrayList<>();
        List<Long> written = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            written.add(f.put("a", "v" + i));
            f.deliverAll();
            fastGot.addAll(revisions(drain(fast)));
        }
        assertThat(fastGot).isEqualTo(written);
        assertThat(f.hub.stats().demotions()).isEqualTo(1);
        assertThat(f.hub.stats().unsynced()).isEqualTo(1);
        List<Long> slowGot = new ArrayList<>();
        for (int round = 0; round < 100 && slowGot.size() < written.size(); round++) {
            slowGot.addAll(revisions(drain(slow)));
            f.hub.catchUpStep();
        }
        assertThat(slowGot).isEqualTo(written);
        assertThat(f.hub.stats().unsynced()).isZero();
    }

    @Test
    void aSlowWatcherWhoseHistoryIsCompactedIsCanceled() throws IOException {
        var f = new Fixture(dir, 100, TINY);
        var slow = f.hub.openStream(() -> {});
        long id = slow.watch(WatchSpec.key(b("a")));
        long last = 0;
        for (int i = 0; i < 20; i++) last = f.put("a", "v" + i);
        f.apply(new CompactRequest(last));
        f.deliverAll();
        assertThat(revisions(drain(slow))).containsExactly(2L, 3L, 4L, 5L); // then its queue share was full
        f.hub.catchUpStep();
        var updates = drain(slow);
        assertThat(updates.get(updates.size() - 1)).isEqualTo(new WatchUpdate.Canceled(id, last, last, WatchHub.COMPACTED));
    }

    @Test
    void aRevisionTheFeedSkippedIsServedFromHistory() throws IOException {
        var f = new Fixture(dir, 100, WatchOptions.defaults());
        var s = f.hub.openStream(() -> {});
        s.watch(WatchSpec.key(b("a")));
        long lost = f.put("a", "1");
        synchronized (f.feed) {
            f.feed.clear(); // the hub never hears of this revision
        }
        long next = f.put("a", "2");
        f.deliverAll();
        while (f.hub.catchUpStep()) {
            // the gap sends the watcher back to history
        }
        assertThat(revisions(drain(s))).containsExactly(lost, next);
    }

    @Test
    void attachingToABusyStoreMissesNothing() throws Exception {
        var store = MvccStore.open(dir, MvccOptions.defaults());
        toClose.add(store);
        var stop = new AtomicBoolean();
        var writer = new Thread(() -> {
            for (long i = 1; !stop.get(); i++) store.apply(i, PutRequest.of(b("a"), b("v" + i)));
        });
        writer.start();
        try {
            for (int round = 0; round < 20; round++) {
                var hub = WatchHub.attach(store, WatchOptions.defaults());
                var s = hub.openStream(() -> {});
                long from = Math.max(2, store.currentRevision() - 1);
                s.watch(WatchSpec.key(b("a")).withStartRevision(from));
                List<Long> got = new ArrayList<>();
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                while (got.size() < 50 && System.nanoTime() < deadline) {
                    got.addAll(revisions(drain(s)));
                    Thread.onSpinWait();
                }
                hub.close();
                assertThat(got.size()).isGreaterThanOrEqualTo(50);
                for (int i = 0; i < got.size(); i++) assertThat(got.get(i)).isEqualTo(from + i);
                assertThat(hub.failure()).isEmpty();
            }
        } finally {
            stop.set(true);
            writer.join();
        }
    }

    // ---- randomized -----------------------------------------------------------------------------

    @Test
    void randomInterleavingsDeliverExactlyTheMatchingHistory() throws IOException {
        long first = Long.getLong("synod.watch.seed", 0);
        int seeds = first != 0 ? 1 : Integer.getInteger("synod.watch.seeds", 150);
        long demotions = 0, compacted = 0, reads = 0, progress = 0;
        for (int i = 0; i < seeds; i++) {
            long seed = first != 0 ? first : 1000 + i;
            try {
                WatchHub.Stats st = runRandom(seed, dir.resolve("seed-" + seed));
                demotions += st.demotions();
                compacted += st.compactedCancels();
                reads += st.historyReads();
            } catch (AssertionError | RuntimeException e) {
                throw new AssertionError("seed=" + seed + ", replay: mvn -pl mvcc test -Dtest=WatchHubTest#randomInterleavingsDeliverExactlyTheMatchingHistory -Dsynod.watch.seed=" + seed, e);
            }
        }
        // The runs are only meaningful if they exercised the hard paths.
        if (first == 0) {
            assertThat(demotions).as("demotions of slow watchers").isGreaterThan(50);
            assertThat(compacted).as("compaction cancels").isGreaterThan(5);
            assertThat(reads).as("history reads").isGreaterThan(200);
        }
    }

    private WatchHub.Stats runRandom(long seed, Path path) throws IOException {
        var random = new SplittableRandom(seed);
        var f = new Fixture(path, 1 + random.nextInt(8), TINY);
        int streamCount = 1 + random.nextInt(4);
        var streams = new ArrayList<WatchStream>();
        var checkers = new ArrayList<WatchChecker>();
        for (int i = 0; i < streamCount; i++) {
            streams.add(f.hub.openStream(() -> {}));
            checkers.add(new WatchChecker("seed " + seed + " stream " + i));
        }
        int steps = 300 + random.nextInt(300);
        for (int step = 0; step < steps; step++) {
            int r = random.nextInt(100);
            int si = random.nextInt(streamCount);
            if (r < 30) {
                randomWrite(f, random, step);
            } else if (r < 45) {
                f.deliver(1 + random.nextInt(3));
            } else if (r < 53) {
                WatchSpec spec = randomSpec(f, random);
                checkers.get(si).registered(spec, streams.get(si).watch(spec));
            } else if (r < 55) {
                var active = checkers.get(si).watches.values().stream().filter(w -> !w.canceled).toList();
                if (!active.isEmpty()) streams.get(si).cancel(active.get(random.nextInt(active.size())).id);
            } else if (r < 78) {
                // Stream 0 is the slow reader: it polls a tenth as often.
                if (si != 0 || random.nextInt(10) == 0) poll(streams.get(si), checkers.get(si), 1 + random.nextInt(6));
            } else if (r < 92) {
                f.hub.catchUpStep();
            } else if (r < 94) {
                long current = f.store.currentRevision(), compact = f.store.compactRevision();
                if (current > compact + 1) f.apply(new CompactRequest(compact + 1 + random.nextLong(current - compact)));
            } else if (r < 97) {
                streams.get(si).requestProgress();
            } else {
                streams.get(si).progressTick();
            }
        }
        // Quiesce: feed delivered, history caught up, queues drained.
        f.deliverAll();
        for (int round = 0; round < 10_000; round++) {
            boolean worked = f.hub.catchUpStep();
            for (int i = 0; i < streamCount; i++) worked |= poll(streams.get(i), checkers.get(i), Integer.MAX_VALUE) > 0;
            if (!worked && f.hub.stats().unsynced() == 0) break;
        }
        assertThat(f.hub.stats().unsynced()).as("unsynced after quiescing").isZero();
        for (WatchChecker c : checkers) c.verify(WatchChecker.copy(f.history), f.store.compactRevision(), true);
        assertThat(f.hub.failure()).isEmpty();
        var stats = f.hub.stats();
        f.close();
        toClose.remove(f);
        return stats;
    }

    private static int poll(WatchStream s, WatchChecker c, int max) {
        int n = 0;
        for (; n < max; n++) {
            Optional<WatchUpdate> u = s.poll();
            if (u.isEmpty()) break;
            c.accept(u.get());
        }
        return n;
    }

    private static void randomWrite(Fixture f, SplittableRandom random, int step) {
        int kind = random.nextInt(10);
        String k = KEYS[random.nextInt(KEYS.length)];
        if (kind < 5) {
            f.apply(PutRequest.of(b(k), b("v" + step)));
        } else if (kind < 7) {
            f.apply(DeleteRangeRequest.single(b(k)));
        } else if (kind < 8) {
            f.apply(DeleteRangeRequest.of(b("b"), b("e")));
        } else {
            // A txn: several events in one revision, which must never be split or partly delivered.
            List<RequestOp> ops = new ArrayList<>();
            int start = random.nextInt(KEYS.length);
            int n = 2 + random.nextInt(3);
            for (int i = 0; i < n; i++) {
                Bytes key = b(KEYS[(start + i) % KEYS.length]);
                ops.add(random.nextInt(4) == 0 ? DeleteRangeRequest.single(key) : PutRequest.of(key, b("t" + step + "." + i)));
            }
            f.apply(new TxnRequest(List.of(), ops, List.of()));
        }
    }

    private static WatchSpec randomSpec(Fixture f, SplittableRandom random) {
        WatchSpec spec = switch (random.nextInt(4)) {
            case 0 -> WatchSpec.key(b(KEYS[random.nextInt(KEYS.length)]));
            case 1 -> WatchSpec.key(b("b")).withRangeEnd(b("e"));
            case 2 -> WatchSpec.key(b("c")).withRangeEnd(Bytes.ZERO);
            default -> WatchSpec.prefix(b(""));
        };
        long current = f.store.currentRevision(), compact = f.store.compactRevision();
        long start = switch (random.nextInt(4)) {
            case 0 -> 0;
            case 1 -> current + 1 + random.nextInt(3); // the future
            default -> Math.max(1, compact - 1 + random.nextLong(current - compact + 3));
        };
        return spec.withStartRevision(start).withFilters(random.nextInt(6) == 0, random.nextInt(6) == 0)
                .withPrevKv(random.nextBoolean()).withProgressNotify(random.nextInt(3) == 0);
    }

    // ---- concurrent -----------------------------------------------------------------------------

    /**
     * The real threads: the store's apply thread feeding the hub, the catch-up thread, and consumers
     * that register watches while writes flow and read at uneven speeds (one barely reads).
     */
    @Test
    void concurrentWritersWatchersAndSlowConsumers() throws Exception {
        long seed = Long.getLong("synod.watch.seed", System.nanoTime());
        try {
            runConcurrent(seed);
        } catch (AssertionError | Exception e) {
            throw new AssertionError("seed=" + seed + " (thread timing is not replayable; the seed fixes the choices)", e);
        }
    }

    private void runConcurrent(long seed) throws Exception {
        var store = MvccStore.open(dir.resolve("concurrent"), MvccOptions.defaults().withMaxEventsPerCatchUp(16));
        toClose.add(store);
        var history = new ConcurrentSkipListMap<Long, List<Event>>();
        store.addListener(history::put);
        var hub = WatchHub.attach(store, WatchOptions.defaults().withQueueLimits(20, 1 << 20, 10).withCatchUpWatchersMax(4));
        toClose.add(hub);
        var writing = new AtomicBoolean(true);
        var writer = new Thread(() -> {
            var random = new SplittableRandom(seed);
            long index = 1;
            for (int step = 0; step < 4000; step++) {
                String k = KEYS[random.nextInt(KEYS.length)];
                if (random.nextInt(5) == 0) {
                    store.apply(index++, DeleteRangeRequest.single(b(k)));
                } else {
                    store.apply(index++, PutRequest.of(b(k), b("v" + step)));
                }
                if (step % 1000 == 999) {
                    long current = store.currentRevision();
                    store.apply(index++, new CompactRequest(current - 200)); // slow watchers far behind get canceled
                }
            }
            writing.set(false);
        }, "test-writer");
        int consumers = 4;
        var checkers = new ArrayList<WatchChecker>();
        var threads = new ArrayList<Thread>();
        var failures = new ConcurrentSkipListMap<Integer, Throwable>();
        for (int c = 0; c < consumers; c++) {
            int ci = c;
            var checker = new WatchChecker("consumer " + c);
            checkers.add(checker);
            var s = hub.openStream(() -> {});
            threads.add(new Thread(() -> {
                try {
                    var random = new SplittableRandom(seed + ci);
                    int registered = 0;
                    while (writing.get() || registered < 8) {
                        if (registered < 8 && random.nextInt(50) == 0) {
                            long current = store.currentRevision();
                            WatchSpec spec = (random.nextBoolean() ? WatchSpec.prefix(b("")) : WatchSpec.key(b(KEYS[random.nextInt(KEYS.length)])))
                                    .withStartRevision(random.nextBoolean() ? 0 : Math.max(1, current - random.nextInt(300)))
                                    .withPrevKv(random.nextBoolean());
                            checker.registered(spec, s.watch(spec));
                            registered++;
                        }
                        poll(s, checker, ci == 0 ? 1 : 50); // consumer 0 reads one update at a time
                        if (ci == 0) Thread.sleep(1);
                    }
                    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                    while (System.nanoTime() < deadline) {
                        if (poll(s, checker, Integer.MAX_VALUE) == 0) {
                            if (hub.stats().unsynced() == 0 && caughtUp(checker, store.currentRevision(), history)) break;
                            Thread.sleep(1);
                        }
                    }
                } catch (Throwable t) {
                    failures.put(ci, t);
                }
            }, "test-consumer-" + c));
        }
        writer.start();
        threads.forEach(Thread::start);
        writer.join();
        for (Thread t : threads) t.join();
        if (!failures.isEmpty()) throw new AssertionError("consumer failed", failures.firstEntry().getValue());
        for (WatchChecker c : checkers) c.verify(new TreeMap<>(history), store.compactRevision(), true);
        assertThat(hub.failure()).isEmpty();
        assertThat(hub.stats().demotions()).as("slow consumers must have been demoted").isPositive();
    }

    /** True once every active watch of the checker has received all its history up to {@code current}. */
    private static boolean caughtUp(WatchChecker c, long current, ConcurrentSkipListMap<Long, List<Event>> history) {
        if (!history.isEmpty() && history.lastKey() < current) return false;
        var snapshot = new TreeMap<>(history.headMap(current, true));
        for (WatchChecker.Watch w : c.all) {
            if (w.canceled || w.start == -1) continue;
            if (w.received.size() < WatchChecker.expected(w, snapshot).size()) return false;
        }
        return true;
    }
}
