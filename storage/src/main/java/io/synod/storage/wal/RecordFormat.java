package io.synod.storage.wal;

import java.nio.ByteBuffer;
import java.util.zip.CRC32C;

/**
 * The on-disk frame of one WAL record: {@code [length:int][type:byte][crc:int]} followed by
 * {@code length} payload bytes, big-endian, where the CRC32C covers the type byte and the
 * payload. The length is outside the CRC so a reader can bound it against
 * {@link WalOptions#recordBytesMax()} before allocating anything. An all-zero frame header can
 * never be a record (type 0 is reserved), which is what makes the zero-filled, preallocated
 * remainder of a segment read as "end of log".
 */
public final class RecordFormat {
    private RecordFormat() {}

    public static final int HEADER_BYTES = 9;
    /** Reserved: the type byte of the zero fill after the last record. */
    public static final byte TYPE_NONE = 0;

    public static int crc(byte type, byte[] payload) {
        var c = new CRC32C();
        c.update(type);
        c.update(payload, 0, payload.length);
        return (int) c.getValue();
    }

    /** CRC of the frame whose payload occupies {@code [payloadOffset, payloadOffset + length)} of {@code buf}. */
    public static int crc(byte type, ByteBuffer buf, int payloadOffset, int length) {
        var c = new CRC32C();
        c.update(type);
        c.update(buf.duplicate().limit(payloadOffset + length).position(payloadOffset));
        return (int) c.getValue();
    }

    public static void encode(ByteBuffer out, byte type, byte[] payload) {
        out.putInt(payload.length).put(type).putInt(crc(type, payload)).put(payload);
    }

    public static int frameBytes(int payloadBytes) {
        return HEADER_BYTES + payloadBytes;
    }
}
