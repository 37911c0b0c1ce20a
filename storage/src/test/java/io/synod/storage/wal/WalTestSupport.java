package io.synod.storage.wal;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/** Helpers shared by the WAL tests. */
final class WalTestSupport {
    private WalTestSupport() {}

    /** Small segments so tests cross segment boundaries often. */
    static final WalOptions SMALL = new WalOptions(8192, 1024, 64, 16 * 1024, 1024, SyncMode.FDATASYNC);

    static long seed(String name) {
        String prop = System.getProperty("synod.seed");
        long seed = prop != null ? Long.parseLong(prop) : System.nanoTime();
        System.out.println(name + " seed=" + seed + " (rerun with -Dsynod.seed=" + seed + ")");
        return seed;
    }

    static List<WalRecord> readAll(Path dir, WalOptions options) throws IOException {
        var out = new ArrayList<WalRecord>();
        Wal.open(dir, options, out::add).close();
        return out;
    }

    static List<Path> segments(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().endsWith(".wal")).sorted().toList();
        }
    }

    static byte[] payload(long n, int len) {
        var b = new byte[len];
        var r = new java.util.Random(n);
        r.nextBytes(b);
        return b;
    }
}
