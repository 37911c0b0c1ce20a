package io.synod.server;

import io.synod.common.Assert;

/**
 * Member limits that have no place of their own in {@link ServerConfig}: the backend quota, the
 * leader's lease timers, what clients may hold at once ({@link ClientLimits}) and the engine's
 * queues ({@link EngineLimits}). Grouped so that
 * a new limit is one more component here rather than another positional argument of every
 * configuration.
 *
 * @param quotaBackendBytes the store size beyond which writes raise the NOSPACE alarm and are
 *                          refused (etcd's {@code --quota-backend-bytes}; 2 GiB by default, as etcd)
 * @param lease             the lease timers' periods and batch limits
 * @param waitersMax        lock and election contenders (and observers) waiting on one member at once
 * @param snapshotDownloadsMax Maintenance.Snapshot streams served at once (each holds a checkpoint and a thread)
 * @param corruptCheckIntervalMillis how often the leader compares members' hashes (0: never, etcd's default)
 * @param clients              what clients may hold at once: streams per connection, watchers, leases, expensive reads
 * @param engine               the Raft loop's and the peer transport's queues, batches, frames and threads
 */
public record ServerLimits(long quotaBackendBytes, LeaseOptions lease, int waitersMax, int snapshotDownloadsMax,
        long corruptCheckIntervalMillis, ClientLimits clients, EngineLimits engine) {
    /** etcd's default backend quota. */
    public static final long DEFAULT_QUOTA_BACKEND_BYTES = 2L << 30;
    public static final ServerLimits DEFAULTS = new ServerLimits(DEFAULT_QUOTA_BACKEND_BYTES, LeaseOptions.DEFAULTS, 10_000, 2, 0,
            ClientLimits.DEFAULTS, EngineLimits.DEFAULTS);

    public ServerLimits {
        Assert.that(quotaBackendBytes > 0, "--quota-backend-bytes must be positive, got %d", quotaBackendBytes);
        java.util.Objects.requireNonNull(lease, "lease");
        Assert.that(waitersMax > 0 && snapshotDownloadsMax > 0, "waiter and snapshot download limits must be positive: %d, %d", waitersMax,
                snapshotDownloadsMax);
        Assert.that(corruptCheckIntervalMillis >= 0, "corrupt check interval must not be negative: %d", corruptCheckIntervalMillis);
        java.util.Objects.requireNonNull(clients, "clients");
        java.util.Objects.requireNonNull(engine, "engine");
    }

    /** The limits before {@link ClientLimits}: those take their defaults. */
    public ServerLimits(long quotaBackendBytes, LeaseOptions lease, int waitersMax, int snapshotDownloadsMax, long corruptCheckIntervalMillis) {
        this(quotaBackendBytes, lease, waitersMax, snapshotDownloadsMax, corruptCheckIntervalMillis, ClientLimits.DEFAULTS, EngineLimits.DEFAULTS);
    }

    public ServerLimits withClients(ClientLimits limits) {
        return new ServerLimits(quotaBackendBytes, lease, waitersMax, snapshotDownloadsMax, corruptCheckIntervalMillis, limits, engine);
    }

    public ServerLimits withQuotaBackendBytes(long bytes) {
        return new ServerLimits(bytes, lease, waitersMax, snapshotDownloadsMax, corruptCheckIntervalMillis, clients, engine);
    }

    public ServerLimits withLease(LeaseOptions options) {
        return new ServerLimits(quotaBackendBytes, options, waitersMax, snapshotDownloadsMax, corruptCheckIntervalMillis, clients, engine);
    }

    public ServerLimits withEngine(EngineLimits limits) {
        return new ServerLimits(quotaBackendBytes, lease, waitersMax, snapshotDownloadsMax, corruptCheckIntervalMillis, clients, limits);
    }

    public ServerLimits withCorruptCheckIntervalMillis(long millis) {
        return new ServerLimits(quotaBackendBytes, lease, waitersMax, snapshotDownloadsMax, millis, clients, engine);
    }
}
