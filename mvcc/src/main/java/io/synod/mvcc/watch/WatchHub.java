package io.synod.mvcc.watch;

import io.synod.common.Assert;
import io.synod.mvcc.Bytes;
import io.synod.mvcc.ChangeListener;
import io.synod.mvcc.Changes;
import io.synod.mvcc.Event;
import io.synod.mvcc.MvccError;
import io.synod.mvcc.MvccException;
import io.synod.mvcc.MvccStore;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Fans the store's change feed out to watchers, etcd's watchable store without gRPC. Watchers
 * live in {@link WatchStream}s (one per client stream, each with one bounded queue) and are in one
 * of two groups:
 *
 * <ul>
 *   <li><b>synced</b>: they have been queued every matching event up to the hub's
 *       {@link #revision()}, and the live listener ({@link #onChanges}, on the apply thread) queues
 *       each new revision's events for them;
 *   <li><b>unsynced</b>: they need history first. The catch-up thread reads pages of history with
 *       {@link EventHistory#changesSince}, one read for up to {@code catchUpWatchersMax} watchers
 *       from the lowest revision any of them needs, and queues each watcher's share, as much as its
 *       queue has room for.
 * </ul>
 *
 * <p>Joining the synced group is the delicate step (etcd lost and repeated events here): a watcher
 * joins only while holding the hub lock, and only if its next needed revision is above the last
 * revision the listener has fanned out. The listener takes the same lock, so every revision from
 * there on reaches the watcher live, and every revision below was in the history it read. Live
 * revisions below a synced watcher's {@code nextRevision} (the history read can run ahead of the
 * listener, which is called after the store lock is released) are skipped.
 *
 * <p>Slow consumers. The listener never waits: when a synced watcher's stream queue (or its own
 * share of it) is full, the watcher is moved to the unsynced group at the revision it missed, and
 * catches up from history once the consumer has drained the queue. If history has meanwhile been
 * compacted past that revision, the watcher is canceled with the compact revision, as in etcd.
 * Memory per stream is therefore bounded by {@link WatchOptions} (overshooting by at most one
 * revision's events), whatever the client does; and over all streams by
 * {@link WatchOptions#queuedBytesMax()} plus each stream's {@link WatchOptions#streamReservedBytes()},
 * the reserve that keeps streams whose clients stopped reading from taking every live stream's room.
 */
public final class WatchHub implements ChangeListener, AutoCloseable {
    /** A create request's watch id asking the stream to choose one (etcd's AutoWatchID). */
    public static final long AUTO_WATCH_ID = 0;
    /** The id etcd reports for a refused create and for stream-wide progress responses. */
    public static final long NO_WATCH_ID = -1;

    /** etcd's texts (mvcc.ErrWatcherDuplicateID, ErrEmptyWatcherRange, ErrCompacted). */
    public static final String DUPLICATE_WATCH_ID = "mvcc: duplicate watch ID provided on the WatchStream";
    public static final String EMPTY_RANGE = "mvcc: watcher range is empty";
    public static final String COMPACTED = "mvcc: required revision has been compacted";
    public static final String TOO_MANY_WATCHERS = "synod: too many watchers on one stream";
    /**
     * The refusal when the hub holds {@link WatchOptions#watchersMax()} watchers over all its streams:
     * etcd's overload text, which etcd's clients turn into their typed "too many requests" error (a
     * condition to back off from and retry), as other etcd-compatible servers do for watch quotas.
     */
    public static final String TOO_MANY_WATCHERS_IN_HUB = "etcdserver: too many requests";
    public static final String NEGATIVE_WATCH_ID = "synod: watch id must not be negative";

    /** Counters for tests and status; read with {@link #stats()}. */
    public record Stats(int synced, int unsynced, long historyReads, long demotions, long compactedCancels, long queuedBytes) {}

    private final EventHistory history;
    final WatchOptions options;
    final ReentrantLock lock = new ReentrantLock();
    private final Condition catchUpWork = lock.newCondition();
    private final Thread catchUpThread;
    private volatile Runnable detach = () -> {};
    private volatile Optional<RuntimeException> failure = Optional.empty();

    // Guarded by lock.
    /** The last revision fanned out by the listener (the store's revision when the hub started). */
    private long revision;
    /** Revisions written while the hub was being attached, before any watcher existed; their late notifications are ignored. */
    private long skipThrough;
    private final Map<Bytes, Set<Watcher>> syncedKeys = new HashMap<>();
    private final Set<Watcher> syncedRanges = new LinkedHashSet<>();
    private int syncedCount;
    /** In the order catch-up serves them; a served watcher that is still behind goes to the end. */
    private final Set<Watcher> unsynced = new LinkedHashSet<>();
    private final Set<WatchStream> streams = new HashSet<>();
    private boolean closed;
    private long historyReads;
    /** Invariant: the sum of every open stream's queued event bytes, bounded by {@link WatchOptions#queuedBytesMax()} beyond the reserves. */
    long queuedBytes;
    private long demotions;
    /** Events sent without their previous value because reading it from history failed. */
    private long prevKvReadFailures;
    /** Watchers that asked for previous values; written under the lock, read by writes without it. */
    private volatile int prevKvWatchers;
    private long compactedCancels;

    public WatchHub(EventHistory history, WatchOptions options) {
        this.history = history;
        this.options = options;
        this.revision = history.currentRevision();
        this.catchUpThread = new Thread(this::catchUpLoop, "synod-watch-catch-up");
        catchUpThread.setDaemon(true);
    }

    /**
     * Starts the catch-up thread. A hub that is not started serves unsynced watchers only when its
     * owner calls {@link #catchUpStep()} (deterministic tests do).
     */
    public WatchHub start() {
        catchUpThread.start();
        return this;
    }

    /**
     * A hub fed by {@code store}'s change feed. A write applied between reading the store's revision
     * and registering the listener shows up as a revision gap, which the hub repairs from history.
     */
    public static WatchHub attach(MvccStore store, WatchOptions options) {
        var hub = new WatchHub(EventHistory.of(store), options);
        store.addListener(hub);
        hub.detach = () -> store.removeListener(hub);
        hub.skipThrough(store.currentRevision());
        return hub.start();
    }

    /**
     * A hub fed through {@code subscribe} (which registers the listener and returns how to remove
     * it) and reading history from {@code history}, for owners whose store can be replaced under
     * them (a snapshot install); they call {@link #storeReplaced} after each replacement.
     */
    public static WatchHub attach(EventHistory history, java.util.function.Function<io.synod.mvcc.ChangeListener, Runnable> subscribe,
            WatchOptions options) {
        var hub = new WatchHub(history, options);
        hub.detach = subscribe.apply(hub);
        hub.skipThrough(history.currentRevision());
        return hub.start();
    }

    /**
     * The store was replaced by one at {@code currentRevision} (a snapshot install), so the live
     * feed skipped the revisions in between without events: every synced watcher goes back to
     * history from where it was, and the feed continues after the new revision.
     */
    public void storeReplaced(long currentRevision) {
        lock.lock();
        try {
            if (closed) return;
            for (Watcher w : new ArrayList<>(allSynced())) demote(w, Math.max(w.nextRevision, revision + 1));
            revision = Math.max(revision, currentRevision);
        } finally {
            lock.unlock();
        }
    }

    /** Called once, before any watcher exists: the hub starts at {@code current} even if some of its notifications are still in flight. */
    private void skipThrough(long current) {
        lock.lock();
        try {
            Assert.that(streams.isEmpty(), "skipThrough with %d streams open", streams.size());
            skipThrough = current;
            revision = Math.max(revision, current);
        } finally {
            lock.unlock();
        }
    }

    /** A new, empty stream; {@code onUpdate} is called (quickly, without the hub lock) whenever updates are queued for it. */
    public WatchStream openStream(Runnable onUpdate) {
        var s = new WatchStream(this, onUpdate);
        lock.lock();
        try {
            if (closed) {
                s.closed = true;
            } else {
                streams.add(s);
            }
        } finally {
            lock.unlock();
        }
        return s;
    }

    /** The last revision the live feed has fanned out. */
    public long revision() {
        lock.lock();
        try {
            return revision;
        } finally {
            lock.unlock();
        }
    }

    /** The invariant violation that stopped the catch-up thread, if any. */
    public Optional<RuntimeException> failure() {
        return failure;
    }

    /** Watchers held over all streams (hub lock held): each one is either synced or waiting for catch-up. */
    private int watcherCount() {
        int n = syncedCount + unsynced.size();
        Assert.that(n >= 0 && syncedCount >= 0, "watcher count: synced %d, unsynced %d", syncedCount, unsynced.size());
        return n;
    }

    public Stats stats() {
        lock.lock();
        try {
            return new Stats(syncedCount, unsynced.size(), historyReads, demotions, compactedCancels, queuedBytes);
        } finally {
            lock.unlock();
        }
    }

    // ---- the live feed (apply thread) ---------------------------------------------------------

    @Override
    public void onChanges(long rev, List<Event> events) {
        List<WatchStream> touched = new ArrayList<>();
        lock.lock();
        try {
            if (closed || rev <= skipThrough) return;
            Assert.that(rev > revision, "change feed went back: revision %d after %d", rev, revision);
            if (rev != revision + 1) {
                // Every write makes events, so a skipped revision means the feed missed one (e.g. the
                // listener was attached late): serve everyone from history rather than risk a gap.
                for (Watcher w : new ArrayList<>(allSynced())) demote(w, Math.max(w.nextRevision, revision + 1));
            } else {
                fanOut(rev, events, touched);
            }
            revision = rev;
        } finally {
            lock.unlock();
        }
        signalStreams(touched);
    }

    private void fanOut(long rev, List<Event> events, List<WatchStream> touched) {
        Map<Watcher, List<Event>> perWatcher = new LinkedHashMap<>();
        for (Event e : events) {
            Bytes key = e.kv().key();
            Event[] whole = {null}; // e with its previous value, read once if a watcher wants it and the write did not
            for (Watcher w : syncedKeys.getOrDefault(key, Set.of())) add(perWatcher, w, e, whole);
            for (Watcher w : syncedRanges) {
                if (w.spec.covers(key)) add(perWatcher, w, e, whole);
            }
        }
        for (var entry : perWatcher.entrySet()) {
            Watcher w = entry.getKey();
            if (rev < w.nextRevision) continue; // a future start, or history already queued this revision
            if (!w.stream.hasRoom(w, 0, 0)) {
                demote(w, rev);
                continue;
            }
            queueEvents(w, entry.getValue(), touched);
        }
    }

    private void add(Map<Watcher, List<Event>> perWatcher, Watcher w, Event e, Event[] whole) {
        if (e.prevKvUnread() && w.spec.prevKv()) {
            if (whole[0] == null) whole[0] = readPrevKv(e);
            e = whole[0];
        }
        w.view(e).ifPresent(v -> perWatcher.computeIfAbsent(w, k -> new ArrayList<>()).add(v));
    }

    /**
     * {@code e} with its previous value read from history; without it if that read fails (as etcd sends
     * an event whose previous value it could not read), so that the live feed, which runs on the apply
     * thread under this hub's lock, never stops half-way through a revision.
     */
    private Event readPrevKv(Event e) {
        try {
            return history.withPrevKv(e);
        } catch (RuntimeException ex) {
            prevKvReadFailures++;
            return new Event(e.type(), e.kv(), java.util.Optional.empty(), e.revision());
        }
    }

    /** Events sent without their previous value because reading it from history failed (for tests and metrics). */
    long prevKvReadFailures() {
        lock.lock();
        try {
            return prevKvReadFailures;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Whether a write must read the value it replaces for this hub: only while some watcher asked
     * for previous values. A watcher that registers after the answer gets such an event read from
     * history in {@link #fanOut} (catch-up from history always carries previous values).
     */
    @Override
    public boolean wantsPrevKv(Bytes key) {
        return prevKvWatchers > 0;
    }

    // ---- stream operations (consumer threads) -------------------------------------------------

    long watch(WatchStream s, WatchSpec spec) {
        long now = history.currentRevision(); // read outside the hub lock: the store has its own
        long id;
        lock.lock();
        try {
            if (s.closed) return NO_WATCH_ID;
            Optional<String> refusal = refusal(s, spec);
            if (refusal.isPresent()) {
                s.enqueueControl(new WatchUpdate.Refused(now, refusal.get()));
                id = NO_WATCH_ID;
            } else {
                id = spec.watchId() == AUTO_WATCH_ID ? s.nextFreeId() : spec.watchId();
                // etcd: start 0 means "after the revision current now", which the created response reports.
                long start = spec.startRevision() == 0 ? now + 1 : Math.max(1, spec.startRevision());
                var w = new Watcher(s, id, spec, start);
                s.watchers.put(id, w);
                if (spec.prevKv()) prevKvWatchers++;
                s.enqueueControl(new WatchUpdate.Created(id, now));
                if (start > revision) {
                    addSynced(w);
                } else {
                    addUnsynced(w);
                }
            }
        } finally {
            lock.unlock();
        }
        s.onUpdate.run();
        return id;
    }

    private Optional<String> refusal(WatchStream s, WatchSpec spec) {
        if (spec.watchId() < 0) return Optional.of(NEGATIVE_WATCH_ID);
        if (spec.watchId() != AUTO_WATCH_ID && s.watchers.containsKey(spec.watchId())) return Optional.of(DUPLICATE_WATCH_ID);
        if (spec.emptyRange()) return Optional.of(EMPTY_RANGE);
        if (s.watchers.size() >= options.watchersPerStreamMax()) return Optional.of(TOO_MANY_WATCHERS);
        // Every watcher that is not removed is in exactly one group, so the two counts are all the hub holds.
        if (watcherCount() >= options.watchersMax()) return Optional.of(TOO_MANY_WATCHERS_IN_HUB);
        return Optional.empty();
    }

    boolean cancel(WatchStream s, long watchId) {
        long now = history.currentRevision();
        lock.lock();
        try {
            Watcher w = s.watchers.remove(watchId);
            if (w == null || s.closed) return false;
            remove(w);
            s.enqueueControl(new WatchUpdate.Canceled(watchId, now, 0, ""));
            answerPendingProgress(s);
        } finally {
            lock.unlock();
        }
        s.onUpdate.run();
        return true;
    }

    void requestProgress(WatchStream s) {
        lock.lock();
        try {
            if (s.closed) return;
            s.progressRequested = true;
            answerPendingProgress(s);
        } finally {
            lock.unlock();
        }
        s.onUpdate.run();
    }

    void progressTick(WatchStream s) {
        boolean queued = false;
        lock.lock();
        try {
            for (Watcher w : s.watchers.values()) {
                if (!w.spec.progressNotify()) continue;
                // As etcd: only synced watchers, and only if no events went out since the last tick.
                if (w.synced && !w.eventsSinceTick) {
                    s.enqueueControl(new WatchUpdate.Progress(w.id, revision));
                    queued = true;
                }
                w.eventsSinceTick = false;
            }
        } finally {
            lock.unlock();
        }
        if (queued) s.onUpdate.run();
    }

    Optional<WatchUpdate> poll(WatchStream s) {
        lock.lock();
        try {
            WatchStream.Queued q = s.queue.poll();
            if (q == null) return Optional.empty();
            if (q.owner().isPresent()) {
                boolean hubWasFull = queuedBytes >= options.queuedBytesMax();
                s.queuedEvents -= q.events();
                s.queuedBytes -= q.bytes();
                queuedBytes -= q.bytes();
                q.owner().get().queuedEvents -= q.events();
                Assert.that(s.queuedEvents >= 0 && s.queuedBytes >= 0 && q.owner().get().queuedEvents >= 0 && queuedBytes >= 0,
                        "queue accounting: stream events %d bytes %d, watcher events %d, hub bytes %d", s.queuedEvents, s.queuedBytes,
                        q.owner().get().queuedEvents, queuedBytes);
                // Room in the shared budget may let any stream's lagging watchers go on, not only this one's.
                if (s.unsyncedCount > 0 || (hubWasFull && !unsynced.isEmpty())) catchUpWork.signal();
            } else {
                s.queuedControls--;
            }
            return Optional.of(q.update());
        } finally {
            lock.unlock();
        }
    }

    void closeStream(WatchStream s) {
        lock.lock();
        try {
            if (s.closed) return;
            s.closed = true;
            for (Watcher w : s.watchers.values()) remove(w);
            s.watchers.clear();
            s.queue.clear();
            queuedBytes -= s.queuedBytes;
            Assert.that(queuedBytes >= 0, "hub queued bytes %d after closing a stream of %d", queuedBytes, s.queuedBytes);
            if (!unsynced.isEmpty()) catchUpWork.signal();
            s.queuedEvents = 0;
            s.queuedBytes = 0;
            s.queuedControls = 0;
            streams.remove(s);
        } finally {
            lock.unlock();
        }
    }

    // ---- catch-up (its own thread) ------------------------------------------------------------

    private void catchUpLoop() {
        while (true) {
            List<Watcher> batch;
            lock.lock();
            try {
                batch = eligible();
                while (!closed && batch.isEmpty()) {
                    // Signalled on every new unsynced watcher and every poll; the timeout is only a safety net.
                    catchUpWork.await(1, TimeUnit.SECONDS);
                    batch = eligible();
                }
                if (closed) return;
            } catch (InterruptedException e) {
                return;
            } finally {
                lock.unlock();
            }
            try {
                catchUp(batch);
            } catch (Assert.InvariantViolation e) {
                failure = Optional.of(e); // a bug: stop serving catch-up loudly rather than guess
                throw e;
            } catch (MvccException | IllegalStateException e) {
                // The store is closing or failed; watchers stay unsynced and are retried.
                try {
                    Thread.sleep(options.catchUpRetryMillis());
                } catch (InterruptedException ie) {
                    return;
                }
            }
        }
    }

    /**
     * One round of catch-up on the caller's thread: cancels compacted watchers and serves one
     * history page to the unsynced watchers whose queues have room. False when there was nothing to do.
     */
    public boolean catchUpStep() {
        List<Watcher> batch;
        lock.lock();
        try {
            batch = eligible();
        } finally {
            lock.unlock();
        }
        if (batch.isEmpty()) return false;
        catchUp(batch);
        return true;
    }

    /** Unsynced watchers whose queues have room, at most catchUpWatchersMax of them. */
    private List<Watcher> eligible() {
        List<Watcher> out = new ArrayList<>();
        for (Watcher w : unsynced) {
            if (out.size() >= options.catchUpWatchersMax()) break;
            if (w.stream.hasRoom(w, 0, 0)) out.add(w);
        }
        return out;
    }

    private void catchUp(List<Watcher> batch) {
        long compact = history.compactRevision();
        List<WatchStream> touched = new ArrayList<>();
        long from = Long.MAX_VALUE;
        lock.lock();
        try {
            for (Watcher w : batch) {
                if (w.removed || w.synced) continue;
                if (w.nextRevision <= compact) {
                    cancelCompacted(w, compact, touched);
                } else {
                    from = Math.min(from, w.nextRevision);
                }
            }
        } finally {
            lock.unlock();
        }
        try {
            if (from == Long.MAX_VALUE) return;
            Changes page;
            try {
                page = history.changesSince(from);
            } catch (MvccException e) {
                if (e.error().equals(MvccError.COMPACTED)) return; // compacted since we looked: the next round cancels
                throw e;
            }
            lock.lock();
            try {
                historyReads++;
                for (Watcher w : batch) {
                    if (!w.removed && !w.synced && w.nextRevision >= from) deliver(w, page, touched);
                }
            } finally {
                lock.unlock();
            }
        } finally {
            signalStreams(touched);
        }
    }

    /** Queues {@code w}'s share of {@code page} (whole revisions, while its queue has room), then lets it join the synced group if it can. */
    private void deliver(Watcher w, Changes page, List<WatchStream> touched) {
        List<Event> events = page.events();
        List<Event> out = new ArrayList<>();
        long outBytes = 0;
        long next = w.nextRevision;
        boolean full = false;
        int i = 0;
        while (i < events.size()) {
            long rev = events.get(i).revision().main();
            int j = i;
            while (j < events.size() && events.get(j).revision().main() == rev) j++;
            if (rev >= w.nextRevision) {
                if (!w.stream.hasRoom(w, out.size(), outBytes)) {
                    next = rev;
                    full = true;
                    break;
                }
                for (Event e : w.select(events.subList(i, j))) {
                    out.add(e);
                    outBytes += bytes(e);
                }
                next = rev + 1;
            }
            i = j;
        }
        if (!full) next = Math.max(next, page.nextRevision());
        Assert.that(next >= w.nextRevision, "catch-up went back for %s: next %d", w, next);
        if (!out.isEmpty()) {
            w.stream.enqueueEvents(w, new WatchUpdate.Events(w.id, out), outBytes);
            touched.add(w.stream);
        }
        w.nextRevision = next;
        if (next > revision) {
            // Everything below next is queued, and the listener (which needs this lock) has fanned
            // out nothing at or above it: from here on it delivers every revision >= next exactly once.
            unsynced.remove(w);
            w.stream.unsyncedCount--;
            addSynced(w);
            if (answerPendingProgress(w.stream)) touched.add(w.stream);
        } else {
            unsynced.remove(w); // to the back of the line, so catch-up is shared fairly
            unsynced.add(w);
        }
    }

    private void cancelCompacted(Watcher w, long compact, List<WatchStream> touched) {
        WatchStream s = w.stream;
        s.watchers.remove(w.id);
        remove(w);
        // etcd reports the compact revision; this store cannot serve from the compact revision
        // itself (see MvccStore.changesSince), so a watch that needs exactly it learns compact + 1.
        long restartFrom = Math.max(compact, w.nextRevision + 1);
        s.enqueueControl(new WatchUpdate.Canceled(w.id, revision, restartFrom, COMPACTED));
        compactedCancels++;
        answerPendingProgress(s);
        touched.add(s);
    }

    // ---- group membership (hub lock held) -----------------------------------------------------

    private void queueEvents(Watcher w, List<Event> events, List<WatchStream> touched) {
        long bytes = 0;
        for (Event e : events) bytes += bytes(e);
        w.stream.enqueueEvents(w, new WatchUpdate.Events(w.id, events), bytes);
        if (touched.isEmpty() || touched.get(touched.size() - 1) != w.stream) touched.add(w.stream);
    }

    private void addSynced(Watcher w) {
        w.synced = true;
        syncedCount++;
        if (w.singleKey()) {
            syncedKeys.computeIfAbsent(w.spec.key(), k -> new LinkedHashSet<>()).add(w);
        } else {
            syncedRanges.add(w);
        }
    }

    private void removeSynced(Watcher w) {
        w.synced = false;
        syncedCount--;
        if (w.singleKey()) {
            Set<Watcher> set = syncedKeys.get(w.spec.key());
            set.remove(w);
            if (set.isEmpty()) syncedKeys.remove(w.spec.key());
        } else {
            syncedRanges.remove(w);
        }
    }

    private void addUnsynced(Watcher w) {
        unsynced.add(w);
        w.stream.unsyncedCount++;
        catchUpWork.signal();
    }

    /** A synced watcher that missed revision {@code from} (its queue was full) catches up from there. */
    private void demote(Watcher w, long from) {
        removeSynced(w);
        w.nextRevision = from;
        addUnsynced(w);
        demotions++;
    }

    private void remove(Watcher w) {
        if (w.removed) return;
        w.removed = true;
        if (w.spec.prevKv()) prevKvWatchers--;
        Assert.that(prevKvWatchers >= 0, "hub counts %d watchers of previous values", prevKvWatchers);
        if (w.synced) {
            removeSynced(w);
        } else {
            unsynced.remove(w);
            w.stream.unsyncedCount--;
        }
    }

    private List<Watcher> allSynced() {
        List<Watcher> out = new ArrayList<>(syncedRanges);
        for (Set<Watcher> set : syncedKeys.values()) out.addAll(set);
        return out;
    }

    /** Queues a requested stream-wide progress update once no watcher of the stream is behind. */
    private boolean answerPendingProgress(WatchStream s) {
        Assert.that(s.unsyncedCount >= 0, "stream unsynced count %d", s.unsyncedCount);
        if (!s.progressRequested || s.unsyncedCount > 0 || s.closed) return false;
        s.progressRequested = false;
        s.enqueueControl(new WatchUpdate.Progress(NO_WATCH_ID, revision));
        return true;
    }

    /** Approximate memory of a queued event: key, value, previous value and a fixed overhead. */
    static long bytes(Event e) {
        long b = 64 + e.kv().key().size() + e.kv().value().size();
        if (e.prevKv().isPresent()) b += e.prevKv().get().key().size() + e.prevKv().get().value().size();
        return b;
    }

    private static void signalStreams(List<WatchStream> touched) {
        if (touched.isEmpty()) return;
        for (WatchStream s : new LinkedHashSet<>(touched)) s.onUpdate.run();
    }

    /** Stops catch-up, detaches from the store and closes every stream. */
    @Override
    public void close() {
        lock.lock();
        try {
            if (closed) return;
            closed = true;
            for (WatchStream s : new ArrayList<>(streams)) {
                s.closed = true;
                s.watchers.clear();
                s.queue.clear();
            }
            streams.clear();
            queuedBytes = 0;
            syncedKeys.clear();
            syncedRanges.clear();
            unsynced.clear();
            catchUpWork.signalAll();
        } finally {
            lock.unlock();
        }
        detach.run();
        if (!catchUpThread.isAlive()) return;
        try {
            catchUpThread.join(TimeUnit.SECONDS.toMillis(5));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
