package io.synod.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * {@code synod bench}: the parent of the benchmark subcommands, {@code raft} (the consensus core
 * alone, JMH) and {@code storage} (the write-ahead log on this machine's disk). Without a
 * subcommand it prints its usage.
 */
@Command(name = "bench", mixinStandardHelpOptions = true, description = "Benchmarks: the Raft core in memory, the WAL on disk.",
        subcommands = {RaftBenchCommand.class, StorageBenchCommand.class, BenchRunCommand.class, BenchCompareCommand.class,
                BenchTraceCommand.class})
public final class BenchCommand implements Runnable {
    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }
}
