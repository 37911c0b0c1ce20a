package io.synod.cli;

import io.synod.mvcc.Lease;
import io.synod.mvcc.MvccOptions;
import io.synod.mvcc.MvccStore;
import io.synod.mvcc.RangeRequest;
import io.synod.mvcc.SnapshotFile;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/**
 * {@code synod snapshot}: the offline side of backups taken with {@code etcdctl snapshot save}
 * (etcd's Maintenance.Snapshot). {@code status FILE} verifies a backup end to end and reports the
 * state it holds; {@code restore FILE --data-dir DIR} turns it into the data directory of a member
 * of a new cluster: start each member restored from the same file with
 * {@code synod server --initial-cluster-state new --initial-cluster ...}. Keys, revisions and
 * leases survive; the old cluster's log and membership do not (as with {@code etcdctl snapshot restore}).
 */
@Command(name = "snapshot", mixinStandardHelpOptions = true, description = "Verify or restore a backup made with 'etcdctl snapshot save'.",
        subcommands = {SnapshotCommand.Status.class, SnapshotCommand.Restore.class})
public final class SnapshotCommand implements Runnable {
    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    /** {@code synod snapshot status FILE}. */
    @Command(name = "status", mixinStandardHelpOptions = true,
            description = "Verify FILE (every checksum) and print its revision, keys, leases and size; exit 1 if it is damaged.")
    public static final class Status implements Callable<Integer> {
        @Parameters(index = "0", paramLabel = "FILE") Path file;

        @Override
        public Integer call() throws Exception {
            Path tmp = Files.createTempDirectory("synod-snapshot-status");
            try {
                var header = SnapshotFile.restore(file, tmp.resolve("mvcc"), MvccOptions.defaults());
                try (MvccStore store = MvccStore.open(tmp.resolve("mvcc"), MvccOptions.defaults())) {
                    long keys = store.range(RangeRequest.all().countOnly(true)).count();
                    System.out.printf("ok: %s%n  format %d, taken at log index %d%n  revision %d (compacted at %d)%n  keys %d, leases %d%n  file %d bytes%n",
                            file, header.version(), header.appliedIndex(), store.currentRevision(), store.compactRevision(), keys,
                            store.leases().size(), Files.size(file));
                    for (Lease l : store.leases().stream().limit(5).toList()) {
                        System.out.printf("  lease %x ttl %ds%n", l.id(), l.ttlSeconds());
                    }
                }
                return 0;
            } catch (IOException e) {
                System.err.println("synod snapshot: " + file + " is damaged or not a Synod snapshot: " + e.getMessage());
                return 1;
            } finally {
                deleteTree(tmp);
            }
        }
    }

    /** {@code synod snapshot restore FILE --data-dir DIR}. */
    @Command(name = "restore", mixinStandardHelpOptions = true,
            description = "Create the data directory DIR of a new cluster's member from FILE (DIR must not hold a member yet).")
    public static final class Restore implements Callable<Integer> {
        @Parameters(index = "0", paramLabel = "FILE") Path file;

        @CommandLine.Option(names = "--data-dir", required = true, description = "the new member's data directory") Path dataDir;

        @Override
        public Integer call() throws Exception {
            if (Files.exists(dataDir.resolve("wal")) || Files.exists(dataDir.resolve("mvcc"))) {
                System.err.println("synod snapshot: " + dataDir + " already holds a member's data; restore into an empty directory");
                return 1;
            }
            Files.createDirectories(dataDir);
            try {
                var header = SnapshotFile.restore(file, dataDir.resolve("mvcc"), MvccOptions.defaults());
                try (MvccStore store = MvccStore.open(dataDir.resolve("mvcc"), MvccOptions.defaults())) {
                    System.out.printf("restored %s (taken at log index %d, revision %d) into %s%n", file, header.appliedIndex(),
                            store.currentRevision(), dataDir);
                }
                System.out.println("start it with: synod server --data-dir " + dataDir
                        + " --initial-cluster-state new --initial-cluster <every restored member> ...");
                return 0;
            } catch (IOException e) {
                System.err.println("synod snapshot: cannot restore " + file + ": " + e.getMessage());
                return 1;
            }
        }
    }

    static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) return;
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        }
    }
}
