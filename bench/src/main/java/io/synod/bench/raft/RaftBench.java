package io.synod.bench.raft;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;

/**
 * Runs {@link RaftThroughputBench} through JMH's API with bounded settings and prints one summary
 * line, {@code raft_entries_per_second batch1=X batch64=Y batch1024=Z}; this is what
 * {@code synod bench raft} calls. The quick settings (one short in-process iteration per batch
 * size, a few seconds in all) only prove the benchmark still runs; the full ones give figures.
 */
public final class RaftBench {
    private RaftBench() {}

    /**
     * How to run: JMH forks (0 runs in this JVM), warmup and measurement iterations and their
     * seconds, and extra JMH profilers by name with optional options (for example {@code gc}, {@code stack} or
     * {@code jfr:dir=/tmp/jfr}).
     */
    public record Settings(int forks, int warmupIterations, double warmupSeconds, int iterations, double iterationSeconds, List<String> profilers) {
        /** A few seconds in total, in this JVM: for CI, to keep the benchmark working. */
        public static Settings quick() {
            return new Settings(0, 1, 0.5, 1, 0.5, List.of());
        }

        /** Bounded figures for a shared machine: one fork, 3 x 2 s warmup, 5 x 3 s measurement per batch size. */
        public static Settings full() {
            return new Settings(1, 3, 2, 5, 3, List.of());
        }
    }

    public static Collection<RunResult> run(Settings s, PrintStream out) throws RunnerException {
        ChainedOptionsBuilder o = new OptionsBuilder()
                .include(RaftThroughputBench.class.getName().replace(".", "\\.") + ".*")
                .forks(s.forks())
                .warmupIterations(s.warmupIterations())
                .warmupTime(TimeValue.milliseconds((long) (s.warmupSeconds() * 1000)))
                .measurementIterations(s.iterations())
                .measurementTime(TimeValue.milliseconds((long) (s.iterationSeconds() * 1000)))
                // Fixed fork flags, so figures do not depend on how the calling JVM was started (bin/synod adds -ea, ParallelGC).
                .jvmArgs("-Xms2g", "-Xmx2g");
        for (String p : s.profilers()) {
            // "name:options" as on JMH's command line, e.g. "jfr:dir=/tmp/jfr".
            int colon = p.indexOf(':');
            if (colon < 0) o.addProfiler(p);
            else o.addProfiler(p.substring(0, colon), p.substring(colon + 1));
        }
        Collection<RunResult> results = new Runner(o.build()).run();
        var parts = new ArrayList<String>();
        for (RunResult r : results) {
            String label = r.getParams().getBenchmark();
            label = label.substring(label.lastIndexOf('$') + 1).replace(".commit", "");
            label = label.substring(label.lastIndexOf('.') + 1).toLowerCase(Locale.ROOT);
            parts.add(label + "=" + Math.round(r.getPrimaryResult().getScore()));
        }
        parts.sort(java.util.Comparator.comparingInt(p -> Integer.parseInt(p.substring(5, p.indexOf('=')))));
        out.println("raft_entries_per_second " + String.join(" ", parts));
        return results;
    }

    /** {@code RaftBench [--quick]}: the same as {@code synod bench raft}, without the CLI. */
    public static void main(String[] args) throws RunnerException {
        run(List.of(args).contains("--quick") ? Settings.quick() : Settings.full(), System.out);
    }
}
