package io.synod.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code synod} command line: one entry point for every tool the project ships (the
 * deterministic simulator, benchmarks, storage inspection and, later, the server). Each
 * subcommand lives in its own class so that the launcher stays a thin dispatcher.
 */
@Command(
        name = "synod",
        mixinStandardHelpOptions = true,
        version = "synod 0.1.0-SNAPSHOT",
        description = "Synod: a replicated, strongly consistent key-value and coordination store.",
        subcommands = {CommandLine.HelpCommand.class, SimCommand.class, ServerCommand.class, ClusterCommand.class, BenchCommand.class,
                WalCommand.class, SnapshotCommand.class, ChaosCommand.class})
public final class Main implements Runnable {
    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    public static void main(String[] args) {
        System.exit(new CommandLine(new Main()).execute(args));
    }
}
