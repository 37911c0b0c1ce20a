package io.synod.cli;

import io.synod.storage.bench.WalBenchmark;
import io.synod.storage.wal.SyncMode;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code synod bench storage}: measures the disk's raw flush rate and the WAL's group commit
 * throughput in a temporary directory; a thin wrapper over {@link WalBenchmark}. The last output
 * line is {@code fsyncs_per_second=F durable_records_per_second=R records_per_fsync=B}.
 */
@Command(name = "storage", mixinStandardHelpOptions = true, description = "WAL benchmark: raw fsync rate, then group commit with concurrent writers.")
public final class StorageBenchCommand implements Callable<Integer> {
    @Option(names = "--dir", description = "parent of the temporary benchmark directory (default: ${DEFAULT-VALUE})")
    Path dir = Path.of(System.getProperty("java.io.tmpdir"));

    @Option(names = "--raw-seconds", description = "duration of the raw fsync phase (default: ${DEFAULT-VALUE})")
    double rawSeconds = 5;

    @Option(names = "--seconds", description = "duration of the group commit phase (default: ${DEFAULT-VALUE})")
    double seconds = 10;

    @Option(names = "--writers", description = "concurrent writers (default: ${DEFAULT-VALUE})")
    int writers = 64;

    @Option(names = "--record-bytes", description = "payload bytes per record (default: ${DEFAULT-VALUE})")
    int recordBytes = 256;

    @Option(names = "--writer-threads", description = "one blocking platform thread per writer instead of asynchronous writers")
    boolean writerThreads;

    @Option(names = "--sync", description = "FDATASYNC, FSYNC or UNSAFE_NO_SYNC (default: ${DEFAULT-VALUE})")
    SyncMode sync = SyncMode.FDATASYNC;

    @Override
    public Integer call() throws Exception {
        var d = WalBenchmark.Options.defaults();
        var o = new WalBenchmark.Options(dir, (long) (rawSeconds * TimeUnit.SECONDS.toNanos(1)), (long) (seconds * TimeUnit.SECONDS.toNanos(1)),
                writers, recordBytes, d.wal().withSyncMode(sync), d.latencySamplesMax(), writerThreads);
        WalBenchmark.run(o, System.out);
        return 0;
    }
}
