package io.synod.server.watch;

import io.synod.common.Assert;
import io.synod.mvcc.watch.WatchOptions;

/**
 * Limits and intervals of the etcd Watch service on top of the hub's own {@link WatchOptions}.
 *
 * @param hub                    queue bounds and catch-up batching of the watch hub
 * @param progressIntervalMillis how often watchers created with progress_notify get a progress
 *                               response when idle (etcd: 10 minutes)
 * @param responseBytesMax       a response with more event bytes than this is split at revision
 *                               boundaries, and a single larger revision is fragmented for watchers
 *                               that asked for fragments (etcd: max request bytes + 512 KiB)
 * @param queuedControlsMax      created / canceled / progress responses waiting to be sent beyond
 *                               which the stream stops reading requests (gRPC flow control then
 *                               pushes back on the client; etcd buffers 16)
 * @param senderThreads          threads that turn queued updates into gRPC messages for all streams
 */
public record WatchServiceOptions(
        WatchOptions hub,
        long progressIntervalMillis,
        int responseBytesMax,
        int queuedControlsMax,
        int senderThreads) {
    /** etcd's default progress notification interval. */
    public static final long DEFAULT_PROGRESS_INTERVAL_MILLIS = 10 * 60 * 1000;
    /** etcd's allowance for gRPC overhead on top of the request size limit. */
    public static final int GRPC_OVERHEAD_BYTES = 512 * 1024;

    public WatchServiceOptions {
        Assert.that(progressIntervalMillis > 0, "progressIntervalMillis must be positive: %d", progressIntervalMillis);
        Assert.that(responseBytesMax >= 1024, "responseBytesMax must be at least 1 KiB: %d", responseBytesMax);
        Assert.that(queuedControlsMax > 0, "queuedControlsMax must be positive: %d", queuedControlsMax);
        Assert.that(senderThreads > 0, "senderThreads must be positive: %d", senderThreads);
    }

    public static WatchServiceOptions defaults(int requestBytesMax) {
        return new WatchServiceOptions(WatchOptions.defaults(), DEFAULT_PROGRESS_INTERVAL_MILLIS, requestBytesMax + GRPC_OVERHEAD_BYTES, 16, 2);
    }

    public WatchServiceOptions withHub(WatchOptions o) {
        return new WatchServiceOptions(o, progressIntervalMillis, responseBytesMax, queuedControlsMax, senderThreads);
    }

    public WatchServiceOptions withProgressIntervalMillis(long millis) {
        return new WatchServiceOptions(hub, millis, responseBytesMax, queuedControlsMax, senderThreads);
    }

    public WatchServiceOptions withResponseBytesMax(int bytes) {
        return new WatchServiceOptions(hub, progressIntervalMillis, bytes, queuedControlsMax, senderThreads);
    }
}
