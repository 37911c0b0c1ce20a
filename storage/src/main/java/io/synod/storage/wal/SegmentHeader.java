package io.synod.storage.wal;

import java.nio.ByteBuffer;
import java.util.zip.CRC32C;

/**
 * The fixed 32-byte header at the start of every segment file:
 * {@code [magic:int][version:short][reserved:short][segmentSeq:long][firstIndex:long][crc:int][pad:int]},
 * the CRC32C covering the 24 bytes before it. The sequence number must match the file name and
 * the first index must continue where the previous segment stopped; both are how recovery
 * detects a missing or misplaced segment.
 */
public record SegmentHeader(long segmentSeq, long firstIndex) {
    public static final int BYTES = 32;
    public static final int MAGIC = 0x53594E57; // "SYNW"
    public static final short VERSION = 1;

    public SegmentHeader {
        if (segmentSeq < 0 || firstIndex < 1) {
            throw new IllegalArgumentException("segment seq must be >= 0 and first index >= 1, got " + segmentSeq + "/" + firstIndex);
        }
    }

    public ByteBuffer encode() {
        var b = ByteBuffer.allocate(BYTES);
        b.putInt(MAGIC).putShort(VERSION).putShort((short) 0).putLong(segmentSeq).putLong(firstIndex);
        var c = new CRC32C();
        c.update(b.array(), 0, 24);
        b.putInt((int) c.getValue()).putInt(0);
        return b.flip();
    }

    /**
     * Decodes the header at the start of {@code buf}.
     *
     * @throws IllegalArgumentException naming what is wrong (short, magic, version, CRC)
     */
    public static SegmentHeader decode(ByteBuffer buf) {
        if (buf.limit() < BYTES) throw new IllegalArgumentException("file of " + buf.limit() + " bytes is shorter than the segment header");
        int magic = buf.getInt(0);
        if (magic != MAGIC) throw new IllegalArgumentException(String.format("bad magic 0x%08x (expected 0x%08x)", magic, MAGIC));
        short version = buf.getShort(4);
        if (version != VERSION) throw new IllegalArgumentException("unsupported segment version " + version);
        var c = new CRC32C();
        c.update(buf.duplicate().limit(24).position(0));
        int stored = buf.getInt(24);
        if (stored != (int) c.getValue()) {
            throw new IllegalArgumentException(String.format("segment header CRC mismatch (stored 0x%08x, computed 0x%08x)", stored, (int) c.getValue()));
        }
        long seq = buf.getLong(8);
        long first = buf.getLong(16);
        if (seq < 0 || seq > Integer.MAX_VALUE || first < 1) throw new IllegalArgumentException("segment header seq " + seq + " / first index " + first + " out of range");
        return new SegmentHeader(seq, first);
    }
}
