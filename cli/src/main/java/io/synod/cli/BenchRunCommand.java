package io.synod.cli;

import io.synod.bench.load.LoadGenerator;
import io.synod.bench.load.LoadOptions;
import io.synod.bench.load.LoadResult;
import io.synod.bench.load.ScenarioOptions;
import io.synod.bench.load.Workload;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code synod bench run}: drives any etcd-compatible cluster (Synod or etcd) with one workload
 * through the etcd v3 gRPC API and prints a table line and a JSON line of the figures.
 */
@Command(name = "run", mixinStandardHelpOptions = true, description = "Drive an etcd-compatible cluster with one workload.")
public final class BenchRunCommand implements Callable<Integer> {
    @Option(names = "--endpoints", required = true, split = ",", description = "host:port of the members")
    List<String> endpoints;

    @Option(names = "--workload", required = true, description = "put, get-linearizable, get-serializable, txn-cas, range-prefix, mixed, "
            + "watch-fanout, lease-keepalive, lock-contention")
    String workload;

    @Option(names = "--clients", description = "concurrent clients (default: 1 writer for watch-fanout, 16 otherwise)")
    Integer clients;

    @Option(names = "--connections", defaultValue = "4", description = "gRPC connections (default ${DEFAULT-VALUE})")
    int connections;

    @Option(names = "--keys", defaultValue = "100000", description = "key space (default ${DEFAULT-VALUE})")
    int keys;

    @Option(names = "--value-bytes", defaultValue = "256", description = "value size (default ${DEFAULT-VALUE})")
    int valueBytes;

    @Option(names = "--warmup-seconds", defaultValue = "2", description = "excluded from the figures (default ${DEFAULT-VALUE})")
    double warmup;

    @Option(names = "--seconds", defaultValue = "10", description = "measured duration (default ${DEFAULT-VALUE})")
    double seconds;

    @Option(names = "--rate", defaultValue = "0", description = "open-loop target ops/s; 0 = closed loop (default)")
    double rate;

    @Option(names = "--pids", split = ",", description = "server PIDs to measure CPU time and peak RSS of")
    List<Long> pids = List.of();

    @Option(names = "--preload", description = "write every key once first (for read workloads)")
    boolean preload;

    @Option(names = "--watchers", description = "watch-fanout: watchers on the prefix (default 1000)")
    int watchers = ScenarioOptions.DEFAULTS.watchers();

    @Option(names = "--watchers-per-stream", description = "watch-fanout: watchers per Watch stream (default 100)")
    int watchersPerStream = ScenarioOptions.DEFAULTS.watchersPerStream();

    @Option(names = "--leases", description = "lease-keepalive: leases kept alive (default 10000)")
    int leases = ScenarioOptions.DEFAULTS.leases();

    @Option(names = "--expiry-leases", description = "lease-keepalive: short leases of the expiry check, half let expire; 0 skips it (default 100)")
    int expiryLeases = ScenarioOptions.DEFAULTS.expiryLeases();

    @Option(names = "--expiry-ttl-seconds", description = "lease-keepalive: TTL of the expiry check's leases (default 3)")
    long expiryTtlSeconds = ScenarioOptions.DEFAULTS.expiryTtlSeconds();

    @Override
    public Integer call() throws Exception {
        Workload w = Workload.parse(workload);
        var scenario = new ScenarioOptions(watchers, watchersPerStream, leases, expiryLeases, expiryTtlSeconds, ScenarioOptions.DEFAULTS.lockName());
        var o = new LoadOptions(endpoints, w, clients(w, clients), connections, keys, valueBytes, warmup, seconds, rate, pids, preload, scenario);
        LoadResult r = LoadGenerator.run(o, System.err);
        System.out.println(r.table());
        System.out.println(r.json());
        return 0;
    }

    /** The given client count, else the workload's fixed one (one writer, 16 lock contenders), else 16. */
    static int clients(Workload w, Integer given) {
        if (given != null) return given;
        return w.fixedClients() > 0 ? w.fixedClients() : 16;
    }
}
