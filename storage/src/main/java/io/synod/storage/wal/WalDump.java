package io.synod.storage.wal;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.stream.Stream;

/**
 * Read-only inspection of a WAL directory for operators: lists every record and applies the same
 * torn-tail-versus-corruption rule as {@link Wal#open}, but never repairs anything and takes no
 * lock, so it can look at the log of a running or refusing-to-start server.
 */
public final class WalDump {
    private WalDump() {}

    /** Exit code when the directory is intact (a torn tail, which open would cut, counts as intact). */
    public static final int OK = 0;
    /** Exit code when open would refuse the directory with a {@link WalCorruptionException}. */
    public static final int CORRUPT = 1;

    /**
     * Prints one line per record ({@code index type length crc offset}) unless {@code summaryOnly},
     * and one line per segment and per problem.
     *
     * @return {@link #OK} or {@link #CORRUPT}
     */
    public static int dump(Path dir, int recordBytesMax, boolean summaryOnly, PrintStream out) throws IOException {
        if (!Files.isDirectory(dir)) throw new IOException(dir + " is not a directory");
        List<Path> files;
        try (Stream<Path> s = Files.list(dir)) {
            files = s.filter(p -> p.getFileName().toString().endsWith(".wal")).sorted().toList();
        }
        if (files.isEmpty()) {
            out.println("no segments in " + dir);
            return OK;
        }
        int status = OK;
        long expectedFirst = -1;
        long records = 0;
        for (int i = 0; i < files.size(); i++) {
            Path file = files.get(i);
            boolean last = i == files.size() - 1;
            try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
                long size = ch.size();
                if (size > WalOptions.SEGMENT_BYTES_LIMIT) {
                    out.printf("CORRUPTION in %s at byte offset 0: segment of %d bytes exceeds the limit%n", file, size);
                    status = CORRUPT;
                    continue;
                }
                MappedByteBuffer map = ch.map(FileChannel.MapMode.READ_ONLY, 0, size);
                var result = SegmentScanner.scan(map, recordBytesMax, (index, type, buf, off, len) -> {
                    if (!summaryOnly) out.printf("  record %d type %d length %d crc ok offset %d%n", index, type & 0xFF, len, off);
                });
                records += result.recordCount();
                if (result.header().isEmpty()) {
                    out.printf("CORRUPTION in %s at byte offset 0: bad segment header: %s%n", file, result.problem().orElseThrow().reason());
                    status = CORRUPT;
                    expectedFirst = -1;
                    continue;
                }
                SegmentHeader h = result.header().get();
                out.printf("segment %s seq %d first record %d records %d end offset %d size %d%n",
                        file.getFileName(), h.segmentSeq(), h.firstIndex(), result.recordCount(), result.endOffset(), size);
                if (expectedFirst >= 0 && h.firstIndex() != expectedFirst) {
                    out.printf("CORRUPTION in %s at byte offset 16: segment starts at record %d, previous segment ended before %d%n", file, h.firstIndex(), expectedFirst);
                    status = CORRUPT;
                }
                expectedFirst = h.firstIndex() + result.recordCount();
                if (result.problem().isPresent()) {
                    var p = result.problem().get();
                    if (last && p.nextIntactFrame().isEmpty()) {
                        out.printf("torn tail in %s at byte offset %d: %s (%d bytes; open would clear them)%n", file, p.offset(), p.reason(), Math.max(0, result.dataEnd() - p.offset()));
                    } else {
                        String why = last ? "an intact record frame follows at offset " + p.nextIntactFrame().getAsInt() : "not the last segment";
                        out.printf("CORRUPTION in %s at byte offset %d: %s; %s%n", file, p.offset(), p.reason(), why);
                        status = CORRUPT;
                    }
                }
            }
        }
        out.printf("%d segments, %d records, %s%n", files.size(), records, status == OK ? "intact" : "CORRUPT");
        return status;
    }
}
