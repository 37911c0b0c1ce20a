package io.synod.cli;

import io.synod.bench.raft.RaftBench;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code synod bench raft}: committed entries per second of a three-member Raft group driven in
 * memory in one thread, for batches of 1, 64 and 1024 proposals (JMH, see
 * {@link io.synod.bench.raft.RaftThroughputBench}); a thin wrapper over {@link RaftBench}. The
 * last output line is {@code raft_entries_per_second batch1=X batch64=Y batch1024=Z}.
 */
@Command(name = "raft", mixinStandardHelpOptions = true,
        description = "Raft core throughput (JMH): 3 members in one thread, batches of 1, 64 and 1024 proposals of 100 bytes.")
public final class RaftBenchCommand implements Callable<Integer> {
    @Option(names = "--quick", description = "a few seconds in all, in this JVM (checks the benchmark runs; figures are not meaningful)")
    boolean quick;

    @Option(names = "--forks", description = "JMH forks (default: 1; 0 runs in this JVM)")
    Integer forks;

    @Option(names = "--iterations", description = "measurement iterations per batch size (default: 5)")
    Integer iterations;

    @Option(names = "--seconds", description = "seconds per measurement iteration (default: 3)")
    Double seconds;

    @Option(names = "--prof", description = "JMH profiler to add, with options as on JMH's command line: gc, stack, jfr:dir=DIR (repeatable)")
    List<String> profilers = new ArrayList<>();

    @Override
    public Integer call() throws Exception {
        RaftBench.Settings d = quick ? RaftBench.Settings.quick() : RaftBench.Settings.full();
        var s = new RaftBench.Settings(forks != null ? forks : d.forks(), d.warmupIterations(), d.warmupSeconds(),
                iterations != null ? iterations : d.iterations(), seconds != null ? seconds : d.iterationSeconds(), List.copyOf(profilers));
        RaftBench.run(s, System.out);
        return 0;
    }
}
