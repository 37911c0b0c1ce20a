package io.synod.bench.load;

import java.util.List;

/**
 * One load run: where to send, what, how hard and for how long. Every limit is explicit so a
 * run always ends by itself.
 *
 * @param endpoints     host:port of each member; clients are spread over them round-robin
 * @param clients       concurrent closed-loop clients (each has one request in flight)
 * @param connections   gRPC channels opened (spread over the endpoints)
 * @param ratePerSecond 0 for closed loop; otherwise the target rate (open loop, requests are not delayed by slow responses)
 * @param pids          server process ids whose CPU time and peak RSS are reported (may be empty)
 * @param preload       write every key once before measuring (for read workloads on a fresh cluster)
 * @param scenario      knobs of the watch, lease and lock workloads
 */
public record LoadOptions(
        List<String> endpoints,
        Workload workload,
        int clients,
        int connections,
        int keys,
        int valueBytes,
        double warmupSeconds,
        double durationSeconds,
        double ratePerSecond,
        List<Long> pids,
        boolean preload,
        ScenarioOptions scenario) {

    public static final int CLIENTS_MAX = 10_000;
    public static final double DURATION_MAX_SECONDS = 3600;

    public LoadOptions {
        if (endpoints.isEmpty()) throw new IllegalArgumentException("at least one endpoint is required");
        if (clients < 1 || clients > CLIENTS_MAX) throw new IllegalArgumentException("clients must be 1.." + CLIENTS_MAX + ", got " + clients);
        if (connections < 1) throw new IllegalArgumentException("connections must be >= 1, got " + connections);
        if (keys < 1) throw new IllegalArgumentException("keys must be >= 1, got " + keys);
        if (valueBytes < 0 || valueBytes > 1 << 20) throw new IllegalArgumentException("valueBytes must be 0..1MiB, got " + valueBytes);
        if (durationSeconds <= 0 || durationSeconds > DURATION_MAX_SECONDS || warmupSeconds < 0) {
            throw new IllegalArgumentException("duration must be in (0, " + DURATION_MAX_SECONDS + "] s and warmup >= 0");
        }
        if (ratePerSecond > 0 && !workload.isKv()) {
            throw new IllegalArgumentException("--rate (open loop) applies to the key-value workloads only, not " + workload.cliName);
        }
        if (ratePerSecond < 0) throw new IllegalArgumentException("rate must be >= 0, got " + ratePerSecond);
        endpoints = List.copyOf(endpoints);
        pids = List.copyOf(pids);
    }

    /** A run with the default {@link ScenarioOptions}. */
    public LoadOptions(List<String> endpoints, Workload workload, int clients, int connections, int keys, int valueBytes, double warmupSeconds,
            double durationSeconds, double ratePerSecond, List<Long> pids, boolean preload) {
        this(endpoints, workload, clients, connections, keys, valueBytes, warmupSeconds, durationSeconds, ratePerSecond, pids, preload,
                ScenarioOptions.DEFAULTS);
    }
}
