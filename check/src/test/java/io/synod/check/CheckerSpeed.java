package io.synod.check;

import io.synod.check.kv.KvInput;
import io.synod.check.kv.KvModel;
import io.synod.check.kv.KvOutput;
import io.synod.check.kv.RandomRegisterHistories;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.List;

/**
 * Prints how long the checker takes on a large correct key-value history (default 10,000 ops over
 * 50 keys, ~10 operations outstanding per key). A manual speed probe rather than a timed unit test,
 * because wall-clock assertions are flaky on a shared machine.
 *
 * <p>Usage: {@code CheckerSpeed [keys] [opsPerKey] [concurrency] [unknownFraction] [seed] [cas|nocas]}.
 */
public final class CheckerSpeed {
    private CheckerSpeed() {}

    public static void main(String[] args) {
        int keys = args.length > 0 ? Integer.parseInt(args[0]) : 50;
        int opsPerKey = args.length > 1 ? Integer.parseInt(args[1]) : 200;
        int concurrency = args.length > 2 ? Integer.parseInt(args[2]) : 10;
        double unknown = args.length > 3 ? Double.parseDouble(args[3]) : 0.0;
        long seed = args.length > 4 ? Long.parseLong(args[4]) : 1L;
        boolean withCas = args.length <= 5 || !args[5].equals("nocas");
        KvModel model = new KvModel();
        List<Operation<KvInput, KvOutput>> history =
                RandomRegisterHistories.generate(seed, keys, opsPerKey, concurrency, unknown, withCas);
        System.out.printf("history: %d ops, %d keys, ~%d concurrent per key, %.0f%% unknown, %s, seed %d%n",
                history.size(), keys, concurrency, unknown * 100, withCas ? "put/get/cas" : "put/get only", seed);
        // The first runs include JIT warm-up; both cold and warm figures matter to a caller.
        // CPU time of this thread is reported too: on a shared machine wall time mostly measures
        // the neighbours (and the first run's JIT compilation happens on other threads).
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        for (int run = 1; run <= 5; run++) {
            long cpuStart = threads.getCurrentThreadCpuTime();
            long start = System.nanoTime();
            CheckResult r = LinearizabilityChecker.check(model, history, 60_000);
            long wallMicros = (System.nanoTime() - start) / 1_000;
            long cpuMicros = (threads.getCurrentThreadCpuTime() - cpuStart) / 1_000;
            System.out.printf("run %d: %s in %.1f ms wall, %.1f ms CPU%n", run, r.verdict(), wallMicros / 1000.0, cpuMicros / 1000.0);
        }
    }
}
