package io.synod.bench.load;

/**
 * The knobs of the coordination workloads (watch fan-out, lease keep-alive, lock contention),
 * which the key-value workloads ignore. Defaults are issue 6's: 1,000 watchers, 10,000 leases.
 *
 * @param watchers          watchers on the fan-out prefix
 * @param watchersPerStream watchers sharing one Watch stream (streams are spread over the connections)
 * @param leases            leases kept alive by the keep-alive workload
 * @param expiryLeases      short leases granted after the keep-alive run to measure expiry accuracy (0: skip); half are let expire
 * @param expiryTtlSeconds  their TTL (at least etcd's minimum, 1.5 election timeouts rounded up: 2 s by default)
 * @param lockName          the one lock the lock-contention clients fight over
 */
public record ScenarioOptions(int watchers, int watchersPerStream, int leases, int expiryLeases, long expiryTtlSeconds, String lockName) {
    public static final ScenarioOptions DEFAULTS = new ScenarioOptions(1_000, 100, 10_000, 100, 3, "synod-bench-lock");

    public static final int WATCHERS_MAX = 100_000;
    public static final int LEASES_MAX = 1_000_000;
    public static final long EXPIRY_TTL_MAX_SECONDS = 60;

    public ScenarioOptions {
        if (watchers < 1 || watchers > WATCHERS_MAX) throw new IllegalArgumentException("watchers must be 1.." + WATCHERS_MAX + ", got " + watchers);
        if (watchersPerStream < 1) throw new IllegalArgumentException("watchers per stream must be >= 1, got " + watchersPerStream);
        if (leases < 1 || leases > LEASES_MAX) throw new IllegalArgumentException("leases must be 1.." + LEASES_MAX + ", got " + leases);
        if (expiryLeases < 0 || expiryLeases > LEASES_MAX) throw new IllegalArgumentException("expiry leases must be 0.." + LEASES_MAX);
        if (expiryTtlSeconds < 1 || expiryTtlSeconds > EXPIRY_TTL_MAX_SECONDS) {
            throw new IllegalArgumentException("expiry TTL must be 1.." + EXPIRY_TTL_MAX_SECONDS + " s, got " + expiryTtlSeconds);
        }
        if (lockName == null || lockName.isEmpty()) throw new IllegalArgumentException("lock name must not be empty");
    }

    /** Watch streams opened: watchers divided by watchers per stream, rounded up. */
    public int streams() {
        return (watchers + watchersPerStream - 1) / watchersPerStream;
    }

    public ScenarioOptions withWatchers(int w) {
        return new ScenarioOptions(w, watchersPerStream, leases, expiryLeases, expiryTtlSeconds, lockName);
    }

    public ScenarioOptions withLeases(int l) {
        return new ScenarioOptions(watchers, watchersPerStream, l, expiryLeases, expiryTtlSeconds, lockName);
    }
}
