package io.synod.server;

import io.synod.common.Assert;

/**
 * Limits and periods of the leader's lease timers.
 *
 * @param checkIntervalMillis      how often the leader looks for leases that have run out
 * @param expiriesPerCheckMax      most expiries proposed per check, so that a mass expiry (a
 *                                 client fleet disappearing) is spread out instead of flooding
 *                                 the log; with the defaults 1,000 per second, as etcd's revoke rate
 * @param checkpointIntervalMillis how often the leader records remaining TTLs in the log, which
 *                                 bounds how much a lease is extended by a change of leader
 * @param checkpointBatchMax       most leases in one checkpoint entry (must not exceed the codec's op limit)
 */
public record LeaseOptions(long checkIntervalMillis, int expiriesPerCheckMax, long checkpointIntervalMillis, int checkpointBatchMax) {
    public static final LeaseOptions DEFAULTS = new LeaseOptions(250, 250, 5_000, 1_000);

    public LeaseOptions {
        Assert.that(checkIntervalMillis > 0 && expiriesPerCheckMax > 0 && checkpointIntervalMillis > 0 && checkpointBatchMax > 0,
                "lease options must be positive: check=%d expiries=%d checkpoint=%d batch=%d", checkIntervalMillis,
                expiriesPerCheckMax, checkpointIntervalMillis, checkpointBatchMax);
    }
}
