package io.synod.storage.wal;

import static io.synod.storage.wal.WalTestSupport.SMALL;
import static io.synod.storage.wal.WalTestSupport.payload;
import static io.synod.storage.wal.WalTestSupport.readAll;
import static io.synod.storage.wal.WalTestSupport.segments;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WalTest {
    @TempDir Path dir;

    private static List<WalWrite> writes(long from, int n, int len) {
        var l = new ArrayList<WalWrite>();
        for (int i = 0; i < n; i++) l.add(new WalWrite((byte) 7, payload(from + i, len)));
        return l;
    }

    /** Appends records 1..n (payload(i, len)) one batch of 5 at a time and returns their positions. */
    private List<WalPosition> fill(int n, int len) throws IOException {
        var positions = new ArrayList<WalPosition>();
        try (Wal wal = Wal.open(dir, SMALL)) {
            for (int i = 1; i <= n; i += 5) {
                var r = wal.appendSync(writes(i, Math.min(5, n - i + 1), len));
                assertThat(r.firstIndex()).isEqualTo(i);
                positions.addAll(r.positions());
            }
        }
        return positions;
    }

    private static void assertRecords(List<WalRecord> recs, int n, int len) {
        assertThat(recs).hasSize(n);
        for (int i = 0; i < n; i++) {
            assertThat(recs.get(i).index()).isEqualTo(i + 1);
            assertThat(recs.get(i).type()).isEqualTo((byte) 7);
            assertThat(recs.get(i).payload()).isEqualTo(payload(i + 1, len));
        }
    }

    @Test
    void appendsSurviveReopenAcrossSegments() throws IOException {
        fill(200, 300);
        assertThat(segments(dir).size()).isGreaterThan(5);
        try (var files = Files.list(dir)) {
            assertThat(files.filter(p -> p.toString().endsWith(".tmp")).toList()).as("spare segment left behind").isEmpty();
        }
        assertRecords(readAll(dir, SMALL), 200, 300);
        try (Wal wal = Wal.open(dir, SMALL)) {
            assertThat(wal.nextIndex()).isEqualTo(201);
            assertThat(wal.recoveryReport().truncatedTornTail()).isFalse();
            assertThat(wal.appendSync(writes(201, 1, 300)).firstIndex()).isEqualTo(201);
        }
        assertRecords(readAll(dir, SMALL), 201, 300);
    }

    @Test
    void segmentsArePreallocatedAndStartWithAHeader() throws IOException {
        fill(3, 10);
        Path seg = segments(dir).get(0);
        assertThat(Files.size(seg)).isEqualTo(SMALL.segmentBytes());
        var h = SegmentHeader.decode(ByteBuffer.wrap(Files.readAllBytes(seg)));
        assertThat(h).isEqualTo(new SegmentHeader(0, 1));
    }

    @Test
    void readByPosition() throws IOException {
        var positions = fill(50, 100);
        try (Wal wal = Wal.open(dir, SMALL)) {
            for (int i = 0; i < 50; i++) assertThat(wal.read(positions.get(i)).payload()).isEqualTo(payload(i + 1, 100));
        }
    }

    @Test
    void groupCommitFromManyThreads() throws Exception {
        int threads = 16;
        int perThread = 300;
        var seen = ConcurrentHashMap.<Long>newKeySet();
        var expected = new ConcurrentHashMap<Long, byte[]>();
        try (Wal wal = Wal.open(dir, SMALL.withSyncMode(SyncMode.UNSAFE_NO_SYNC).withPendingRecordsMax(100_000))) {
            var ts = new ArrayList<Thread>();
            for (int t = 0; t < threads; t++) {
                int tid = t;
                ts.add(Thread.ofPlatform().start(() -> {
                    var fs = new ArrayList<CompletableFuture<Long>>();
                    var ps = new ArrayList<byte[]>();
                    for (int i = 0; i < perThread; i++) {
                        byte[] p = payload(tid * 1_000_000L + i, 1 + (i % 200));
                        ps.add(p);
                        fs.add(wal.append((byte) 3, p));
                    }
                    for (int i = 0; i < perThread; i++) {
                        long idx = fs.get(i).join();
                        assertThat(seen.add(idx)).isTrue();
                        expected.put(idx, ps.get(i));
                    }
                }));
            }
            for (Thread t : ts) t.join();
        }
        assertThat(seen).hasSize(threads * perThread);
        var recs = readAll(dir, SMALL);
        assertThat(recs).hasSize(threads * perThread);
        for (WalRecord r : recs) assertThat(r.payload()).isEqualTo(expected.get(r.index()));
    }

    @Test
    void groupCommitBatchesRecords() throws Exception {
        try (Wal wal = Wal.open(dir, SMALL)) {
            var fs = new ArrayList<CompletableFuture<Long>>();
            for (int i = 0; i < 500; i++) fs.add(wal.append((byte) 1, payload(i, 16)));
            for (var f : fs) f.join();
            // 500 records with batchRecordsMax 64 need at least 8 flushes; one per record would be 500.
            assertThat(wal.syncCount()).isBetween(8L, 499L);
        }
    }

    @Test
    void fullQueueFailsFast() throws Exception {
        var opts = SMALL.withPendingRecordsMax(2).withSyncMode(SyncMode.FSYNC).withBatch(1, 1 << 20);
        int overloaded = 0;
        var fs = new ArrayList<CompletableFuture<Long>>();
        try (Wal wal = Wal.open(dir, opts)) {
            for (int i = 0; i < 2000 && overloaded == 0; i++) {
                try {
                    fs.add(wal.append((byte) 1, payload(i, 8)));
                } catch (WalOverloadedException e) {
                    assertThat(e).hasMessageContaining("2 pending");
                    overloaded++;
                }
            }
            for (var f : fs) f.join();
        }
        assertThat(overloaded).isEqualTo(1);
        assertThat(readAll(dir, opts)).hasSize(fs.size());
    }

    @Test
    void oversizeAndReservedTypeAreRejected() throws IOException {
        try (Wal wal = Wal.open(dir, SMALL)) {
            assertThatThrownBy(() -> wal.append((byte) 1, new byte[1025])).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("recordBytesMax");
            assertThatThrownBy(() -> wal.append((byte) 0, new byte[1])).isInstanceOf(IllegalArgumentException.class);
        }
    }

    @Test
    void secondOpenOfSameDirectoryIsRefused() throws IOException {
        try (Wal wal = Wal.open(dir, SMALL)) {
            assertThat(wal.nextIndex()).isEqualTo(1);
            assertThatThrownBy(() -> Wal.open(dir, SMALL)).isInstanceOf(IOException.class).hasMessageContaining("locked");
        }
    }

    @Test
    void closedWalRejectsAppends() throws IOException {
        Wal wal = Wal.open(dir, SMALL);
        wal.close();
        assertThatThrownBy(() -> wal.append((byte) 1, new byte[1])).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void anyWriteFailureFailsTheWalForGood() throws Exception {
        try (Wal wal = Wal.open(dir, SMALL)) {
            // Squat on the next segment's name so that rolling over fails.
            Files.write(dir.resolve("0000000000000001.wal"), new byte[0]);
            assertThatThrownBy(() -> {
                for (int i = 0; i < 100; i++) wal.appendSync(writes(i, 1, 500));
            }).isInstanceOf(IOException.class);
            Files.delete(dir.resolve("0000000000000001.wal"));
            // Even with the cause gone, nothing more is accepted: the on-disk state is unknown.
            assertThatThrownBy(() -> wal.appendSync(writes(1, 1, 10))).isInstanceOf(IOException.class).hasMessageContaining("failed earlier");
            assertThat(wal.append((byte) 1, new byte[1])).failsWithin(java.time.Duration.ofSeconds(5));
        }
        // What was acknowledged before the failure is still there.
        var recs = readAll(dir, SMALL);
        assertThat(recs).isNotEmpty();
    }

    @Test
    void optionsRejectImpossibleLimits() {
        assertThatThrownBy(() -> SMALL.withSegmentBytes(100)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("cannot hold one record");
        assertThatThrownBy(() -> SMALL.withBatch(0, 10)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> SMALL.withSegmentBytes(WalOptions.SEGMENT_BYTES_LIMIT + 1)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> SMALL.withPendingRecordsMax(0)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void unflushedBatchesAreWrittenAndFlushedByTheNextFlush() throws IOException {
        try (Wal wal = Wal.open(dir, SMALL)) {
            wal.appendBatch(writes(1, 2, 10), false);
            assertThat(wal.syncCount()).isZero();
            wal.appendBatch(writes(3, 1, 10), true);
            assertThat(wal.syncCount()).isEqualTo(1);
        }
        assertRecords(readAll(dir, SMALL), 3, 10);
    }

    @Test
    void fsyncModeWorksToo() throws IOException {
        try (Wal wal = Wal.open(dir, SMALL.withSyncMode(SyncMode.FSYNC))) {
            wal.appendSync(writes(1, 3, 10));
            assertThat(wal.syncCount()).isEqualTo(1);
        }
        assertRecords(readAll(dir, SMALL), 3, 10);
    }

    // ------------------------------------------------------------- torn tails and corruption

    @Test
    void truncatedMidRecordIsATornTail() throws IOException {
        var positions = fill(40, 200);
        WalPosition last = positions.get(39);
        Path seg = segments(dir).getLast();
        try (FileChannel ch = FileChannel.open(seg, StandardOpenOption.WRITE)) {
            ch.truncate(last.offset() + 50);
        }
        try (Wal wal = Wal.open(dir, SMALL)) {
            assertThat(wal.recoveryReport().truncatedTornTail()).isTrue();
            assertThat(wal.recoveryReport().tornTailOffset()).isEqualTo(last.offset());
            assertThat(wal.nextIndex()).isEqualTo(40);
            wal.appendSync(writes(40, 3, 200));
        }
        assertRecords(readAll(dir, SMALL), 42, 200);
    }

    @Test
    void truncatedInsideRecordHeaderIsATornTail() throws IOException {
        var positions = fill(10, 200);
        try (FileChannel ch = FileChannel.open(segments(dir).getLast(), StandardOpenOption.WRITE)) {
            ch.truncate(positions.get(9).offset() + 4);
        }
        assertRecords(readAll(dir, SMALL), 9, 200);
    }

    @Test
    void garbageAfterTheLastRecordIsATornTail() throws IOException {
        var positions = fill(12, 100);
        WalPosition last = positions.get(11);
        long end = last.offset() + RecordFormat.frameBytes(100);
        byte[] garbage = new byte[700];
        new Random(42).nextBytes(garbage);
        try (FileChannel ch = FileChannel.open(segments(dir).getLast(), StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(garbage), end);
        }
        try (Wal wal = Wal.open(dir, SMALL)) {
            assertThat(wal.recoveryReport().tornTailOffset()).isEqualTo(end);
            assertThat(wal.recoveryReport().tornTailBytes()).isEqualTo(700);
        }
        assertRecords(readAll(dir, SMALL), 12, 100);
        // The torn bytes were zeroed on disk, so a second open finds a clean end.
        try (Wal wal = Wal.open(dir, SMALL)) {
            assertThat(wal.recoveryReport().truncatedTornTail()).isFalse();
        }
    }

    @Test
    void badCrcInTheLastRecordIsATornTail() throws IOException {
        var positions = fill(12, 100);
        flip(segments(dir).getLast(), positions.get(11).offset() + RecordFormat.HEADER_BYTES + 50);
        assertRecords(readAll(dir, SMALL), 11, 100);
    }

    @Test
    void flippedBitInTheMiddleIsCorruptionNamingFileAndOffset() throws IOException {
        var positions = fill(12, 100);
        WalPosition victim = positions.get(5);
        Path seg = segments(dir).getLast();
        flip(seg, victim.offset() + RecordFormat.HEADER_BYTES + 3);
        assertThatThrownBy(() -> Wal.open(dir, SMALL))
                .isInstanceOfSatisfying(WalCorruptionException.class, e -> {
                    assertThat(e.file()).isEqualTo(seg);
                    assertThat(e.offset()).isEqualTo(victim.offset());
                })
                .hasMessageContaining(seg.toString())
                .hasMessageContaining("offset " + victim.offset())
                .hasMessageContaining("CRC mismatch");
        // Refusing must not have changed the file: fixing the bit makes it readable again.
        flip(seg, victim.offset() + RecordFormat.HEADER_BYTES + 3);
        assertRecords(readAll(dir, SMALL), 12, 100);
    }

    @Test
    void flippedLengthInTheMiddleIsCorruption() throws IOException {
        var positions = fill(12, 100);
        flip(segments(dir).getLast(), positions.get(4).offset() + 3);
        assertThatThrownBy(() -> Wal.open(dir, SMALL)).isInstanceOf(WalCorruptionException.class);
    }

    @Test
    void damageInTheLastRecordOfAnOlderSegmentIsCorruption() throws IOException {
        var positions = fill(100, 300);
        // the last record of segment 0
        WalPosition lastOfFirst = positions.stream().filter(p -> p.segmentSeq() == 0).reduce((a, b) -> b).orElseThrow();
        Path seg0 = segments(dir).get(0);
        flip(seg0, lastOfFirst.offset() + RecordFormat.HEADER_BYTES + 1);
        assertThatThrownBy(() -> Wal.open(dir, SMALL))
                .isInstanceOf(WalCorruptionException.class)
                .hasMessageContaining(seg0.toString())
                .hasMessageContaining("not the last segment");
    }

    @Test
    void zeroedRecordsFollowedByRecordsAreCorruption() throws IOException {
        var positions = fill(12, 100);
        try (FileChannel ch = FileChannel.open(segments(dir).getLast(), StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.allocate(RecordFormat.frameBytes(100) * 2), positions.get(3).offset());
        }
        assertThatThrownBy(() -> Wal.open(dir, SMALL)).isInstanceOf(WalCorruptionException.class).hasMessageContaining("zero record header");
    }

    @Test
    void missingMiddleSegmentIsCorruption() throws IOException {
        fill(100, 300);
        var segs = segments(dir);
        Files.delete(segs.get(2));
        assertThatThrownBy(() -> Wal.open(dir, SMALL)).isInstanceOf(WalCorruptionException.class).hasMessageContaining("gap");
    }

    @Test
    void damagedSegmentHeaderIsCorruption() throws IOException {
        fill(100, 300);
        Path seg = segments(dir).get(1);
        flip(seg, 17);
        assertThatThrownBy(() -> Wal.open(dir, SMALL)).isInstanceOf(WalCorruptionException.class).hasMessageContaining("header");
    }

    @Test
    void leftoverTemporaryFilesAreRemoved() throws IOException {
        fill(3, 10);
        Files.write(dir.resolve("0000000000000001.tmp"), new byte[100]);
        assertRecords(readAll(dir, SMALL), 3, 10);
        assertThat(Files.exists(dir.resolve("0000000000000001.tmp"))).isFalse();
    }

    // ------------------------------------------------------------- truncation and release

    @Test
    void truncateSuffixAcrossSegments() throws IOException {
        fill(100, 300);
        int before = segments(dir).size();
        try (Wal wal = Wal.open(dir, SMALL)) {
            wal.truncateAfter(37);
            assertThat(wal.nextIndex()).isEqualTo(38);
            assertThat(wal.segmentCount()).isLessThan(before);
            var r = wal.appendSync(writes(1000, 3, 300));
            assertThat(r.firstIndex()).isEqualTo(38);
            assertThat(wal.read(r.positions().get(2)).payload()).isEqualTo(payload(1002, 300));
        }
        try (var files = Files.list(dir)) {
            assertThat(files.filter(p -> p.toString().endsWith(".tmp")).toList()).isEmpty();
        }
        var recs = readAll(dir, SMALL);
        assertThat(recs).hasSize(40);
        for (int i = 0; i < 37; i++) assertThat(recs.get(i).payload()).isEqualTo(payload(i + 1, 300));
        for (int i = 0; i < 3; i++) assertThat(recs.get(37 + i).payload()).isEqualTo(payload(1000 + i, 300));
    }

    @Test
    void truncateToEmptyAndAtSegmentStart() throws IOException {
        var positions = fill(100, 300);
        long firstOfSeg1 = positions.indexOf(positions.stream().filter(p -> p.segmentSeq() == 1).findFirst().orElseThrow()) + 1;
        try (Wal wal = Wal.open(dir, SMALL)) {
            wal.truncateAfter(firstOfSeg1 - 1);
            assertThat(wal.nextIndex()).isEqualTo(firstOfSeg1);
        }
        assertRecords(readAll(dir, SMALL), (int) firstOfSeg1 - 1, 300);
        try (Wal wal = Wal.open(dir, SMALL)) {
            wal.truncateAfter(0);
            assertThat(wal.nextIndex()).isEqualTo(1);
            wal.appendSync(writes(1, 2, 300));
        }
        assertRecords(readAll(dir, SMALL), 2, 300);
    }

    @Test
    void releaseDropsWholeSegmentsOnly() throws IOException {
        var positions = fill(100, 300);
        try (Wal wal = Wal.open(dir, SMALL)) {
            int before = wal.segmentCount();
            int released = wal.releaseBefore(50);
            assertThat(released).isPositive();
            assertThat(wal.segmentCount()).isEqualTo(before - released);
            assertThat(wal.firstIndex()).isLessThanOrEqualTo(50).isGreaterThan(1);
            assertThat(wal.read(positions.get(49)).payload()).isEqualTo(payload(50, 300));
            int left = wal.segmentCount();
            // Everything before "infinity" may go, except the active segment.
            assertThat(wal.releaseBefore(Long.MAX_VALUE)).isEqualTo(left - 1);
            assertThat(wal.segmentCount()).isEqualTo(1);
        }
        var recs = readAll(dir, SMALL);
        assertThat(recs.getLast().index()).isEqualTo(100);
        for (WalRecord r : recs) assertThat(r.payload()).isEqualTo(payload(r.index(), 300));
        try (Wal wal = Wal.open(dir, SMALL)) {
            assertThat(wal.firstIndex()).isEqualTo(recs.getFirst().index());
            assertThat(wal.appendSync(writes(101, 1, 300)).firstIndex()).isEqualTo(101);
        }
    }

    static void flip(Path file, long offset) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            var b = ByteBuffer.allocate(1);
            ch.read(b, offset);
            b.put(0, (byte) (b.get(0) ^ 0x10));
            b.rewind();
            ch.write(b, offset);
        }
    }

}
