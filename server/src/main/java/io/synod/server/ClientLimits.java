package io.synod.server;

/**
 * The defensive limits of a member's client listener: how much one client (or all of them
 * together) may hold on this member at once, so that a client that floods the server gets
 * refusals instead of making the member run out of memory or starve the other clients. Each bound
 * has a flag; see the "Limits" section of {@code docs/operations.md} for what each one protects
 * and which error a client sees when it is reached.
 *
 * @param maxConcurrentStreams      gRPC calls (HTTP/2 streams) one client connection may have open at once
 *                                  (etcd's {@code --max-concurrent-streams}); further calls wait in the client
 * @param watchersMax               watches open on this member, over all streams; beyond it a create is refused
 * @param watchersPerStreamMax      watches one Watch stream may hold; beyond it a create is refused
 * @param watchQueuedBytesMax       event bytes queued for watch streams over all of them; beyond it only streams
 *                                  within their small reserve get live events, the others catch up from history later
 * @param leasesMax                 leases in the cluster; the leader refuses a grant beyond it
 * @param expensiveRequestsMax      expensive reads (large ranges, txns containing one) served at once, each
 *                                  until its response has been sent
 * @param expensiveRequestsQueueMax expensive reads waiting for one of those permits; more are refused at once
 * @param rangeResponseBytesMax     a range read whose keys and values exceed this many bytes is refused
 *                                  (0: no limit, as etcd)
 */
public record ClientLimits(
        int maxConcurrentStreams,
        int watchersMax,
        int watchersPerStreamMax,
        long watchQueuedBytesMax,
        int leasesMax,
        int expensiveRequestsMax,
        int expensiveRequestsQueueMax,
        long rangeResponseBytesMax) {
    public static final int DEFAULT_MAX_CONCURRENT_STREAMS = 10_000;
    public static final int DEFAULT_WATCHERS_MAX = 100_000;
    public static final int DEFAULT_WATCHERS_PER_STREAM_MAX = 100_000;
    public static final long DEFAULT_WATCH_QUEUED_BYTES_MAX = 256L << 20;
    public static final int DEFAULT_LEASES_MAX = 1_000_000;
    public static final int DEFAULT_EXPENSIVE_REQUESTS_MAX = 4;
    public static final int DEFAULT_EXPENSIVE_REQUESTS_QUEUE_MAX = 64;

    public static final ClientLimits DEFAULTS = new ClientLimits(DEFAULT_MAX_CONCURRENT_STREAMS, DEFAULT_WATCHERS_MAX,
            DEFAULT_WATCHERS_PER_STREAM_MAX, DEFAULT_WATCH_QUEUED_BYTES_MAX, DEFAULT_LEASES_MAX, DEFAULT_EXPENSIVE_REQUESTS_MAX, DEFAULT_EXPENSIVE_REQUESTS_QUEUE_MAX, 0);

    /** The flags that set these limits, for {@link ServerConfig#fromArgs}. */
    static final java.util.List<String> FLAGS = java.util.List.of("max-concurrent-streams", "synod-watchers-max",
            "synod-watchers-per-stream-max", "synod-watch-queued-bytes-max", "synod-leases-max", "synod-expensive-requests-max", "synod-expensive-requests-queue-max",
            "synod-range-response-bytes-max");

    public ClientLimits {
        require(maxConcurrentStreams >= 1, "--max-concurrent-streams must be positive, got %d", maxConcurrentStreams);
        require(watchersMax >= 1, "--synod-watchers-max must be positive, got %d", watchersMax);
        require(watchersPerStreamMax >= 1, "--synod-watchers-per-stream-max must be positive, got %d", watchersPerStreamMax);
        require(watchQueuedBytesMax >= 1, "--synod-watch-queued-bytes-max must be positive, got %d", watchQueuedBytesMax);
        require(leasesMax >= 1, "--synod-leases-max must be positive, got %d", leasesMax);
        require(expensiveRequestsMax >= 1, "--synod-expensive-requests-max must be positive, got %d", expensiveRequestsMax);
        require(expensiveRequestsQueueMax >= 0, "--synod-expensive-requests-queue-max must not be negative, got %d",
                expensiveRequestsQueueMax);
        require(rangeResponseBytesMax >= 0, "--synod-range-response-bytes-max must not be negative, got %d", rangeResponseBytesMax);
    }

    private static void require(boolean ok, String format, long value) {
        if (!ok) throw new IllegalArgumentException(String.format(format, value));
    }

    /**
     * The limits the flags in {@code flags} ask for, the others at their defaults. etcd's
     * {@code --max-concurrent-streams} is an unsigned 32-bit count whose default (4294967295) means
     * "no limit"; values beyond what gRPC-Java takes (2^31 - 1) are clamped to it.
     */
    static ClientLimits fromFlags(java.util.Map<String, String> flags) {
        long streams = Long.parseLong(flags.getOrDefault("max-concurrent-streams", Integer.toString(DEFAULT_MAX_CONCURRENT_STREAMS)));
        require(streams >= 1 && streams <= 0xffff_ffffL, "--max-concurrent-streams must be in [1, 4294967295], got %d", streams);
        return new ClientLimits((int) Math.min(streams, Integer.MAX_VALUE),
                Integer.parseInt(flags.getOrDefault("synod-watchers-max", Integer.toString(DEFAULT_WATCHERS_MAX))),
                Integer.parseInt(flags.getOrDefault("synod-watchers-per-stream-max", Integer.toString(DEFAULT_WATCHERS_PER_STREAM_MAX))),
                Long.parseLong(flags.getOrDefault("synod-watch-queued-bytes-max", Long.toString(DEFAULT_WATCH_QUEUED_BYTES_MAX))),
                Integer.parseInt(flags.getOrDefault("synod-leases-max", Integer.toString(DEFAULT_LEASES_MAX))),
                Integer.parseInt(flags.getOrDefault("synod-expensive-requests-max", Integer.toString(DEFAULT_EXPENSIVE_REQUESTS_MAX))),
                Integer.parseInt(flags.getOrDefault("synod-expensive-requests-queue-max", Integer.toString(DEFAULT_EXPENSIVE_REQUESTS_QUEUE_MAX))),
                Long.parseLong(flags.getOrDefault("synod-range-response-bytes-max", "0")));
    }

    public ClientLimits withMaxConcurrentStreams(int n) {
        return new ClientLimits(n, watchersMax, watchersPerStreamMax, watchQueuedBytesMax, leasesMax, expensiveRequestsMax,
                expensiveRequestsQueueMax, rangeResponseBytesMax);
    }

    public ClientLimits withWatchers(int member, int perStream) {
        return new ClientLimits(maxConcurrentStreams, member, perStream, watchQueuedBytesMax, leasesMax, expensiveRequestsMax,
                expensiveRequestsQueueMax, rangeResponseBytesMax);
    }

    public ClientLimits withWatchQueuedBytesMax(long bytes) {
        return new ClientLimits(maxConcurrentStreams, watchersMax, watchersPerStreamMax, bytes, leasesMax, expensiveRequestsMax,
                expensiveRequestsQueueMax, rangeResponseBytesMax);
    }

    public ClientLimits withLeasesMax(int n) {
        return new ClientLimits(maxConcurrentStreams, watchersMax, watchersPerStreamMax, watchQueuedBytesMax, n, expensiveRequestsMax,
                expensiveRequestsQueueMax, rangeResponseBytesMax);
    }

    public ClientLimits withExpensiveRequests(int permits, int queue) {
        return new ClientLimits(maxConcurrentStreams, watchersMax, watchersPerStreamMax, watchQueuedBytesMax, leasesMax, permits, queue,
                rangeResponseBytesMax);
    }

    public ClientLimits withRangeResponseBytesMax(long bytes) {
        return new ClientLimits(maxConcurrentStreams, watchersMax, watchersPerStreamMax, watchQueuedBytesMax, leasesMax, expensiveRequestsMax,
                expensiveRequestsQueueMax, bytes);
    }
}
