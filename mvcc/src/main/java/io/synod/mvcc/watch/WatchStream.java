package io.synod.mvcc.watch;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * A group of watchers whose updates travel together, in order, to one consumer: an etcd Watch RPC
 * stream. The hub appends {@link WatchUpdate}s to the stream's bounded queue (live events from the
 * apply thread, history pages from the catch-up thread, and answers to the consumer's own
 * requests) and calls {@code onUpdate}; the consumer drains the queue with {@link #poll()} at its
 * own pace. Because everything for a stream goes through one FIFO queue, a watch's
 * {@link WatchUpdate.Created} precedes its events, and a progress notification follows every
 * event at or below its revision. Thread-safe; state is guarded by the hub's lock.
 */
public final class WatchStream implements AutoCloseable {
    /** One queued update; {@code owner} is the watcher whose event count it holds, if any. */
    record Queued(WatchUpdate update, Optional<Watcher> owner, int events, long bytes) {}

    final WatchHub hub;
    final Runnable onUpdate;

    // Guarded by hub.lock.
    final Map<Long, Watcher> watchers = new HashMap<>();
    final ArrayDeque<Queued> queue = new ArrayDeque<>();
    /** Invariant: the sums of events / bytes of the queued {@link WatchUpdate.Events}. */
    long queuedEvents;
    long queuedBytes;
    int queuedControls;
    /** Invariant: the number of this stream's watchers in the hub's unsynced group. */
    int unsyncedCount;
    long nextAutoId;
    /** A stream-wide progress request is waiting for every watcher to be synced. */
    boolean progressRequested;
    boolean closed;

    WatchStream(WatchHub hub, Runnable onUpdate) {
        this.hub = hub;
        this.onUpdate = onUpdate;
    }

    /**
     * Registers a watch and queues its {@link WatchUpdate.Created} (or {@link WatchUpdate.Refused});
     * returns the watch id, or {@link WatchHub#NO_WATCH_ID} when refused or closed.
     */
    public long watch(WatchSpec spec) {
        return hub.watch(this, spec);
    }

    /** Ends a watch and queues its {@link WatchUpdate.Canceled}; false (and nothing queued) if unknown. */
    public boolean cancel(long watchId) {
        return hub.cancel(this, watchId);
    }

    /**
     * Queues a stream-wide {@link WatchUpdate.Progress} ({@link WatchHub#NO_WATCH_ID}) as soon as
     * every watcher of the stream is synced, so its revision is a true bookmark for all of them.
     */
    public void requestProgress() {
        hub.requestProgress(this);
    }

    /** The periodic progress_notify tick: watchers that asked for it and got no events since the last tick get a progress update. */
    public void progressTick() {
        hub.progressTick(this);
    }

    /** The next update to deliver, if any; frees queue room, which lets lagging watchers catch up. */
    public Optional<WatchUpdate> poll() {
        return hub.poll(this);
    }

    /** Control updates (created, canceled, progress) waiting in the queue; consumers bound their request intake by it. */
    public int queuedControls() {
        hub.lock.lock();
        try {
            return queuedControls;
        } finally {
            hub.lock.unlock();
        }
    }

    public int watcherCount() {
        hub.lock.lock();
        try {
            return watchers.size();
        } finally {
            hub.lock.unlock();
        }
    }

    /** Removes every watcher of the stream and drops what is queued. */
    @Override
    public void close() {
        hub.closeStream(this);
    }

    // ---- helpers, called with hub.lock held --------------------------------------------------

    /**
     * Whether {@code w} may queue more beyond {@code extraEvents} / {@code extraBytes}: within the
     * stream's and the watcher's own bounds, and either within the stream's reserve or while the
     * hub's shared budget has room.
     */
    boolean hasRoom(Watcher w, long extraEvents, long extraBytes) {
        WatchOptions o = hub.options;
        return queuedEvents + extraEvents < o.streamQueuedEventsMax()
                && queuedBytes + extraBytes < o.streamQueuedBytesMax()
                && w.queuedEvents + extraEvents < o.watcherQueuedEventsMax()
                && (queuedBytes + extraBytes < o.streamReservedBytes() || hub.queuedBytes + extraBytes < o.queuedBytesMax());
    }

    void enqueueControl(WatchUpdate u) {
        queue.add(new Queued(u, Optional.empty(), 0, 0));
        queuedControls++;
    }

    void enqueueEvents(Watcher w, WatchUpdate.Events u, long bytes) {
        int n = u.events().size();
        queue.add(new Queued(u, Optional.of(w), n, bytes));
        queuedEvents += n;
        queuedBytes += bytes;
        hub.queuedBytes += bytes;
        w.queuedEvents += n;
        w.eventsSinceTick = true;
    }

    long nextFreeId() {
        while (watchers.containsKey(nextAutoId)) nextAutoId++;
        return nextAutoId++;
    }
}
