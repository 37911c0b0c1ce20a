package io.synod.storage.wal;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * Reads one segment image front to back, handing every intact record to a visitor and stopping
 * at the first frame that is not one. It only <em>describes</em> what it found (where the records
 * end, the first bad frame, whether an intact frame exists somewhere after it); deciding between
 * "torn tail, truncate" and "corruption, refuse" is {@link Wal}'s rule, and the dump command
 * reuses the same description to report damage without repairing it.
 */
public final class SegmentScanner {
    private SegmentScanner() {}

    /** Receives each intact record in order. */
    @FunctionalInterface
    public interface Visitor {
        void record(long index, byte type, ByteBuffer segment, int frameOffset, int payloadBytes) throws IOException;
    }

    /**
     * The first frame that is not a record.
     *
     * @param nextIntactFrame offset of the first intact frame found after it (any byte alignment), if any
     */
    public record Problem(int offset, String reason, OptionalInt nextIntactFrame) {}

    /**
     * @param endOffset    offset just after the last intact record (where the next one goes)
     * @param dataEnd      one past the last non-zero byte of the file (0 if all zero)
     */
    public record Result(Optional<SegmentHeader> header, int endOffset, long recordCount, int dataEnd, Optional<Problem> problem) {}

    public static Result scan(ByteBuffer seg, int recordBytesMax, Visitor visitor) throws IOException {
        final int size = seg.limit();
        final int dataEnd = dataEnd(seg);
        SegmentHeader header;
        try {
            header = SegmentHeader.decode(seg);
        } catch (IllegalArgumentException e) {
            return new Result(Optional.empty(), 0, 0, dataEnd, Optional.of(new Problem(0, e.getMessage(), OptionalInt.empty())));
        }
        int off = SegmentHeader.BYTES;
        long index = header.firstIndex();
        long count = 0;
        String reason = null;
        while (true) {
            if (off >= dataEnd) break; // only zeros (or nothing) from here: the end of the log
            if (size - off < RecordFormat.HEADER_BYTES) {
                reason = "incomplete record header (" + (size - off) + " bytes before end of file)";
                break;
            }
            int len = seg.getInt(off);
            byte type = seg.get(off + 4);
            int crc = seg.getInt(off + 5);
            if (len == 0 && type == RecordFormat.TYPE_NONE && crc == 0) {
                reason = "zero record header followed by non-zero bytes up to offset " + dataEnd;
                break;
            }
            if (type == RecordFormat.TYPE_NONE) {
                reason = "record type 0 with length " + len;
                break;
            }
            if (len < 0 || len > recordBytesMax) {
                reason = "record length " + len + " outside [0, recordBytesMax=" + recordBytesMax + "]";
                break;
            }
            if ((long) off + RecordFormat.HEADER_BYTES + len > size) {
                reason = "record of " + len + " bytes runs past the end of the file (" + size + " bytes)";
                break;
            }
            int actual = RecordFormat.crc(type, seg, off + RecordFormat.HEADER_BYTES, len);
            if (actual != crc) {
                reason = String.format("CRC mismatch in record %d (stored 0x%08x, computed 0x%08x, length %d)", index, crc, actual, len);
                break;
            }
            visitor.record(index, type, seg, off, len);
            off += RecordFormat.HEADER_BYTES + len;
            index++;
            count++;
        }
        if (reason == null) return new Result(Optional.of(header), off, count, dataEnd, Optional.empty());
        // Usually only the payload is damaged and the next frame sits where the length says;
        // check there before the byte-by-byte search, which costs a CRC per plausible offset.
        OptionalInt next = OptionalInt.empty();
        if (size - off >= RecordFormat.HEADER_BYTES) {
            int len = seg.getInt(off);
            long natural = (long) off + RecordFormat.HEADER_BYTES + len;
            if (len >= 0 && len <= recordBytesMax && natural < dataEnd && isIntactFrame(seg, (int) natural, recordBytesMax)) {
                next = OptionalInt.of((int) natural);
            }
        }
        if (next.isEmpty()) next = findIntactFrame(seg, off + 1, dataEnd, recordBytesMax);
        return new Result(Optional.of(header), off, count, dataEnd, Optional.of(new Problem(off, reason, next)));
    }

    /** One past the last non-zero byte; the preallocated zero fill after it is not data. */
    static int dataEnd(ByteBuffer seg) {
        int i = seg.limit();
        while (i >= 8 && seg.getLong(i - 8) == 0) i -= 8;
        while (i > 0 && seg.get(i - 1) == 0) i--;
        return i;
    }

    /**
     * Looks at every byte offset in {@code [from, dataEnd)} for a frame whose length is in bounds
     * and whose CRC matches. A random 9-byte window passes with probability about 2^-32, so a hit
     * means real records follow the damage.
     */
    static OptionalInt findIntactFrame(ByteBuffer seg, int from, int dataEnd, int recordBytesMax) {
        for (int y = from; y + RecordFormat.HEADER_BYTES <= dataEnd; y++) {
            if (isIntactFrame(seg, y, recordBytesMax)) return OptionalInt.of(y);
        }
        return OptionalInt.empty();
    }

    /** A frame at {@code y} with a length in bounds, a non-zero type and a matching CRC. */
    static boolean isIntactFrame(ByteBuffer seg, int y, int recordBytesMax) {
        if ((long) y + RecordFormat.HEADER_BYTES > seg.limit()) return false;
        int len = seg.getInt(y);
        if (len < 0 || len > recordBytesMax) return false;
        byte type = seg.get(y + 4);
        if (type == RecordFormat.TYPE_NONE) return false;
        if ((long) y + RecordFormat.HEADER_BYTES + len > seg.limit()) return false;
        return seg.getInt(y + 5) == RecordFormat.crc(type, seg, y + RecordFormat.HEADER_BYTES, len);
    }
}
