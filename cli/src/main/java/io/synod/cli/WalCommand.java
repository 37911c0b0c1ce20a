package io.synod.cli;

import io.synod.storage.wal.WalDump;
import io.synod.storage.wal.WalOptions;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code synod wal}: operator tools for a write-ahead log directory. {@code synod wal dump DIR}
 * lists every record (index, type, length, CRC status) and reports damage with file and byte
 * offset, exiting 1 when the server would refuse to open the log; it never modifies the files.
 */
@Command(name = "wal", mixinStandardHelpOptions = true, description = "Inspect a write-ahead log directory.",
        subcommands = {WalCommand.Dump.class})
public final class WalCommand implements Runnable {
    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    /** {@code synod wal dump DIR}: a thin wrapper over {@link WalDump}. */
    @Command(name = "dump", mixinStandardHelpOptions = true,
            description = "Print every record of the WAL in DIR; exit 1 if it is corrupt (a torn tail is not corruption).")
    public static final class Dump implements Callable<Integer> {
        @Parameters(index = "0", paramLabel = "DIR", description = "WAL directory") Path dir;

        @Option(names = "--record-bytes-max", description = "largest record length to accept (default: ${DEFAULT-VALUE})")
        int recordBytesMax = WalOptions.DEFAULTS.recordBytesMax();

        @Option(names = "--summary", description = "print only segments and problems, not every record")
        boolean summary;

        @Override
        public Integer call() throws Exception {
            return WalDump.dump(dir, recordBytesMax, summary, System.out);
        }
    }
}
