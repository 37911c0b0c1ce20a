package io.synod.mvcc.watch;

import io.synod.common.Assert;

/**
 * The limits of a {@link WatchHub}. Every queue a watch feeds is bounded here, so that a client
 * that stops reading costs a fixed amount of memory and never slows the apply thread: a watcher
 * that would overflow a bound stops receiving live events and later catches up from history.
 *
 * @param streamQueuedEventsMax  events queued for one stream (all its watchers together) before
 *                               further live events for it are refused; one item may overshoot
 * @param streamQueuedBytesMax   the same bound in approximate bytes (keys, values, previous values)
 * @param watcherQueuedEventsMax events queued for one watcher, so one busy watcher cannot push the
 *                               other watchers of its stream out of the live path
 * @param watchersPerStreamMax   watchers one stream may hold; beyond it a create is refused
 * @param watchersMax            watchers the hub holds over all its streams; beyond it a create is refused
 * @param queuedBytesMax         approximate bytes of events queued over all streams together: a stream
 *                               beyond its reserve queues more only while the total is below this, so
 *                               clients that stop reading cannot fill the member's memory between them
 * @param streamReservedBytes    what each stream may queue whatever the total, so that streams that
 *                               stopped reading and hold the shared room cannot stall the others
 * @param catchUpWatchersMax     unsynced watchers served by one history read (etcd: 512)
 * @param catchUpRetryMillis     pause after a failed history read (store closing, I/O error)
 */
public record WatchOptions(
        int streamQueuedEventsMax,
        long streamQueuedBytesMax,
        int watcherQueuedEventsMax,
        int watchersPerStreamMax,
        int watchersMax,
        long queuedBytesMax,
        long streamReservedBytes,
        int catchUpWatchersMax,
        long catchUpRetryMillis) {
    public WatchOptions {
        Assert.that(streamQueuedEventsMax > 0, "streamQueuedEventsMax must be positive: %d", streamQueuedEventsMax);
        Assert.that(streamQueuedBytesMax > 0, "streamQueuedBytesMax must be positive: %d", streamQueuedBytesMax);
        Assert.that(watcherQueuedEventsMax > 0 && watcherQueuedEventsMax <= streamQueuedEventsMax,
                "watcherQueuedEventsMax must be in (0, streamQueuedEventsMax=%d]: %d", streamQueuedEventsMax, watcherQueuedEventsMax);
        Assert.that(watchersPerStreamMax > 0, "watchersPerStreamMax must be positive: %d", watchersPerStreamMax);
        Assert.that(watchersMax > 0, "watchersMax must be positive: %d", watchersMax);
        Assert.that(queuedBytesMax > 0, "queuedBytesMax must be positive: %d", queuedBytesMax);
        Assert.that(streamReservedBytes > 0 && streamReservedBytes <= streamQueuedBytesMax,
                "streamReservedBytes must be in (0, streamQueuedBytesMax=%d]: %d", streamQueuedBytesMax, streamReservedBytes);
        Assert.that(catchUpWatchersMax > 0, "catchUpWatchersMax must be positive: %d", catchUpWatchersMax);
        Assert.that(catchUpRetryMillis > 0, "catchUpRetryMillis must be positive: %d", catchUpRetryMillis);
    }

    public static WatchOptions defaults() {
        return new WatchOptions(8192, 16L << 20, 4096, 100_000, 100_000, 256L << 20, 256L << 10, 512, 100);
    }

    public WatchOptions withQueueLimits(int streamEvents, long streamBytes, int watcherEvents) {
        return new WatchOptions(streamEvents, streamBytes, watcherEvents, watchersPerStreamMax, watchersMax, queuedBytesMax,
                Math.min(streamReservedBytes, streamBytes), catchUpWatchersMax, catchUpRetryMillis);
    }

    public WatchOptions withWatchersPerStreamMax(int n) {
        return new WatchOptions(streamQueuedEventsMax, streamQueuedBytesMax, watcherQueuedEventsMax, n, watchersMax, queuedBytesMax,
                streamReservedBytes, catchUpWatchersMax, catchUpRetryMillis);
    }

    public WatchOptions withWatchersMax(int n) {
        return new WatchOptions(streamQueuedEventsMax, streamQueuedBytesMax, watcherQueuedEventsMax, watchersPerStreamMax, n, queuedBytesMax,
                streamReservedBytes, catchUpWatchersMax, catchUpRetryMillis);
    }

    public WatchOptions withCatchUpWatchersMax(int n) {
        return new WatchOptions(streamQueuedEventsMax, streamQueuedBytesMax, watcherQueuedEventsMax, watchersPerStreamMax, watchersMax,
                queuedBytesMax, streamReservedBytes, n, catchUpRetryMillis);
    }

    /** With a hub-wide budget of {@code bytes} and a reserve of {@code reserved} bytes per stream. */
    public WatchOptions withQueuedBytes(long bytes, long reserved) {
        return new WatchOptions(streamQueuedEventsMax, streamQueuedBytesMax, watcherQueuedEventsMax, watchersPerStreamMax, watchersMax, bytes,
                reserved, catchUpWatchersMax, catchUpRetryMillis);
    }
}
