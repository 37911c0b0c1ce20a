package io.synod.storage.wal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Feeds random and mutated segment files to recovery. Whatever the bytes, {@link Wal#open} either
 * succeeds or throws {@link WalCorruptionException}; any other exception (or an out-of-memory
 * from trusting a length field) fails the test. For single-byte damage to a valid log the outcome
 * is fully determined by the recovery rule, and is checked exactly.
 */
class WalFuzzTest {
    @TempDir Path tmp;

    static final WalOptions OPTS = new WalOptions(8192, 1024, 64, 16 * 1024, 1024, SyncMode.UNSAFE_NO_SYNC);

    private int dirs;

    private Path freshDir() throws IOException {
        return Files.createDirectories(tmp.resolve("d" + dirs++));
    }

    /** Opens, returning the records, or null for WalCorruptionException; anything else fails. */
    private static List<WalRecord> openOrCorrupt(Path dir, String what) {
        var recs = new ArrayList<WalRecord>();
        try (Wal wal = Wal.open(dir, OPTS, recs::add)) {
            // A recovered log must accept appends and read back cleanly.
            long next = wal.nextIndex();
            assertThat(wal.appendSync(List.of(new WalWrite((byte) 9, new byte[] {1, 2, 3}))).firstIndex()).isEqualTo(next);
        } catch (WalCorruptionException e) {
            assertThat(e.getMessage()).contains(e.file().toString()).contains("offset " + e.offset());
            return null;
        } catch (Throwable t) {
            fail(what + ": unexpected " + t, t);
        }
        var again = new ArrayList<WalRecord>();
        try {
            Wal.open(dir, OPTS, again::add).close();
            assertThat(again).hasSize(recs.size() + 1);
        } catch (Throwable t) {
            fail(what + ": reopen after recovery failed: " + t, t);
        }
        return recs;
    }

    @Test
    void randomFilesNeverCrashTheReader() throws IOException {
        var rnd = new Random(WalTestSupport.seed("WalFuzzTest.random"));
        for (int i = 0; i < 300; i++) {
            Path dir = freshDir();
            int len = rnd.nextInt(9000);
            var buf = ByteBuffer.allocate(Math.max(len, SegmentHeader.BYTES));
            byte[] noise = new byte[buf.capacity()];
            rnd.nextBytes(noise);
            buf.put(noise).flip();
            int mode = rnd.nextInt(4);
            if (mode >= 1) buf.put(0, new SegmentHeader(0, 1 + rnd.nextInt(5)).encode().array());
            if (mode == 2) {
                // plausible-looking frames with hostile length fields
                for (int off = SegmentHeader.BYTES; off + 9 <= buf.limit(); off += 9 + rnd.nextInt(50)) {
                    buf.putInt(off, rnd.nextBoolean() ? Integer.MAX_VALUE - rnd.nextInt(10) : -rnd.nextInt(1000) - 1);
                }
            }
            if (mode == 3) {
                // a few real records, then noise, then zeros
                int off = SegmentHeader.BYTES;
                for (int r = 0; r < 3; r++) {
                    byte[] p = new byte[rnd.nextInt(40)];
                    rnd.nextBytes(p);
                    var frame = ByteBuffer.allocate(RecordFormat.frameBytes(p.length));
                    RecordFormat.encode(frame, (byte) 1, p);
                    if (off + frame.capacity() > buf.limit()) break;
                    buf.put(off, frame.array());
                    off += frame.capacity();
                }
                for (int z = Math.min(buf.limit(), off + 200); z < buf.limit(); z++) buf.put(z, (byte) 0);
            }
            Files.write(dir.resolve("0000000000000000.wal"), buf.array());
            openOrCorrupt(dir, "random file mode " + mode);
        }
    }

    private record Image(List<byte[]> files, List<byte[]> payloads, List<WalPosition> positions) {}

    private Image buildLog(Random rnd) throws IOException {
        Path dir = freshDir();
        var payloads = new ArrayList<byte[]>();
        var positions = new ArrayList<WalPosition>();
        try (Wal wal = Wal.open(dir, OPTS)) {
            int n = 30 + rnd.nextInt(40);
            for (int i = 0; i < n; i++) {
                byte[] p = new byte[rnd.nextInt(700)];
                rnd.nextBytes(p);
                payloads.add(p);
                positions.addAll(wal.appendSync(List.of(new WalWrite((byte) (1 + rnd.nextInt(5)), p))).positions());
            }
        }
        // The last segment must hold at least two records for the "middle of last segment" cases.
        long lastSeq = positions.getLast().segmentSeq();
        if (positions.stream().filter(p -> p.segmentSeq() == lastSeq).count() < 2) return buildLog(rnd);
        var files = new ArrayList<byte[]>();
        for (Path f : WalTestSupport.segments(dir)) files.add(Files.readAllBytes(f));
        return new Image(files, payloads, positions);
    }

    private Path writeImage(List<byte[]> files) throws IOException {
        Path dir = freshDir();
        for (int i = 0; i < files.size(); i++) Files.write(dir.resolve(String.format("%016x.wal", i)), files.get(i));
        return dir;
    }

    @Test
    void singleByteDamageHasTheDocumentedOutcome() throws IOException {
        var rnd = new Random(WalTestSupport.seed("WalFuzzTest.singleByte"));
        for (int img = 0; img < 4; img++) {
            Image image = buildLog(rnd);
            int n = image.payloads().size();
            int lastSeg = image.files().size() - 1;
            WalPosition lastRec = image.positions().getLast();
            int lastFrameEnd = lastRec.offset() + RecordFormat.frameBytes(image.payloads().getLast().length);
            for (int iter = 0; iter < 150; iter++) {
                int seg = rnd.nextInt(image.files().size());
                byte[] original = image.files().get(seg);
                int dataEnd = seg == lastSeg ? lastFrameEnd : SegmentScanner.dataEnd(ByteBuffer.wrap(original));
                int off = rnd.nextInt(Math.min(original.length, dataEnd + 64));
                var files = new ArrayList<>(image.files());
                byte[] damaged = original.clone();
                damaged[off] ^= (byte) (1 << rnd.nextInt(8));
                files.set(seg, damaged);
                String what = "segment " + seg + " of " + (lastSeg + 1) + " byte " + off;
                List<WalRecord> recs = openOrCorrupt(writeImage(files), what);
                String expected;
                if (seg != lastSeg) expected = off >= 28 && off < 32 ? "all" : "corrupt";
                else if (off < 28) expected = "corrupt";
                else if (off < 32) expected = "all";
                else if (off < lastRec.offset()) expected = "corrupt";
                else if (off < lastFrameEnd) expected = "all-but-last";
                else expected = "all";
                switch (expected) {
                    case "corrupt" -> assertThat(recs).as(what).isNull();
                    case "all" -> assertPrefix(recs, image, n, what);
                    case "all-but-last" -> assertPrefix(recs, image, n - 1, what);
                    default -> throw new AssertionError(expected);
                }
            }
        }
    }

    @Test
    void truncationAndOverwritesNeverLoseEarlierRecords() throws IOException {
        var rnd = new Random(WalTestSupport.seed("WalFuzzTest.multiByte"));
        for (int img = 0; img < 3; img++) {
            Image image = buildLog(rnd);
            int lastSeg = image.files().size() - 1;
            for (int iter = 0; iter < 100; iter++) {
                var files = new ArrayList<>(image.files());
                byte[] last = files.get(lastSeg).clone();
                int off = SegmentHeader.BYTES + rnd.nextInt(last.length - SegmentHeader.BYTES);
                if (rnd.nextBoolean()) {
                    last = java.util.Arrays.copyOf(last, off); // torn: file cut short
                } else {
                    byte[] noise = new byte[1 + rnd.nextInt(2000)];
                    rnd.nextBytes(noise);
                    System.arraycopy(noise, 0, last, off, Math.min(noise.length, last.length - off));
                }
                files.set(lastSeg, last);
                List<WalRecord> recs = openOrCorrupt(writeImage(files), "last segment damaged from " + off);
                // Records wholly before the damage must all be there, whatever else happened.
                int intact = 0;
                for (int i = 0; i < image.positions().size(); i++) {
                    WalPosition p = image.positions().get(i);
                    if (p.segmentSeq() < lastSeg || p.offset() + RecordFormat.frameBytes(image.payloads().get(i).length) <= off) intact = i + 1;
                }
                if (recs != null) {
                    assertThat(recs.size()).as("records after damage at %d", off).isGreaterThanOrEqualTo(intact);
                    assertPrefix(recs, image, recs.size(), "damage at " + off);
                }
            }
        }
    }

    private static void assertPrefix(List<WalRecord> recs, Image image, int expectedCount, String what) {
        assertThat(recs).as(what).isNotNull();
        assertThat(recs).as(what).hasSize(expectedCount);
        for (int i = 0; i < expectedCount; i++) {
            assertThat(recs.get(i).index()).isEqualTo(i + 1);
            assertThat(recs.get(i).payload()).as("%s record %d", what, i + 1).isEqualTo(image.payloads().get(i));
        }
    }
}
