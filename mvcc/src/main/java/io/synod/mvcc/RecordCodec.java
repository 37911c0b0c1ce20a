package io.synod.mvcc;

import io.synod.common.Assert;
import java.nio.ByteBuffer;

/**
 * The on-disk encodings of the revision column family. A row key is the revision as 16
 * big-endian bytes (main, then sub), so RocksDB's bytewise order is revision order and a scan
 * from a revision yields history in the order it was written. A row value is one version of one
 * key: flags (bit 0 = tombstone), key length + key, create revision, version, lease, value
 * length + value. The mod revision is the row key itself and is not repeated.
 */
final class RecordCodec {
    private RecordCodec() {}

    static final int REV_KEY_BYTES = 16;
    private static final byte TOMBSTONE = 1;

    /** A decoded row: the index entry plus the key and value. */
    record Row(Bytes key, KeyIndex.Entry entry, Bytes value) {
        KeyValue keyValue() {
            return new KeyValue(key, entry.create(), entry.main(), entry.version(), value, entry.lease());
        }
    }

    static byte[] revKey(long main, long sub) {
        return ByteBuffer.allocate(REV_KEY_BYTES).putLong(main).putLong(sub).array();
    }

    static byte[] encode(Bytes key, KeyIndex.Entry e, Bytes value) {
        byte[] k = key.unsafeArray();
        byte[] v = value.unsafeArray();
        ByteBuffer b = ByteBuffer.allocate(1 + 4 + k.length + 24 + 4 + v.length);
        b.put(e.tombstone() ? TOMBSTONE : 0).putInt(k.length).put(k);
        b.putLong(e.create()).putLong(e.version()).putLong(e.lease());
        b.putInt(v.length).put(v);
        return b.array();
    }

    static Row decode(byte[] revKey, byte[] row) {
        Indexed ix = decodeIndexed(revKey, row);
        int valueStart = 1 + 4 + ix.key().size() + 24 + 4; // flags, key length + key, create, version, lease, value length
        return new Row(ix.key(), ix.entry(), Bytes.copyOf(row, valueStart, row.length - valueStart));
    }

    /** A row's key and index entry, without its value. */
    record Indexed(Bytes key, KeyIndex.Entry entry) {}

    /** {@link #decode} without copying the value: what rebuilding the key index needs. Checks the whole row's layout. */
    static Indexed decodeIndexed(byte[] revKey, byte[] row) {
        Assert.that(revKey.length == REV_KEY_BYTES, "revision key must be %d bytes, got %d", REV_KEY_BYTES, revKey.length);
        ByteBuffer rk = ByteBuffer.wrap(revKey);
        long main = rk.getLong();
        long sub = rk.getLong();
        ByteBuffer b = ByteBuffer.wrap(row);
        boolean tombstone = (b.get() & TOMBSTONE) != 0;
        int klen = b.getInt();
        Assert.that(klen >= 0 && klen <= b.remaining(), "corrupt row at %d.%d: key length %d", main, sub, klen);
        Bytes key = Bytes.copyOf(row, b.position(), klen);
        b.position(b.position() + klen);
        long create = b.getLong();
        long version = b.getLong();
        long lease = b.getLong();
        int vlen = b.getInt();
        Assert.that(vlen == b.remaining(), "corrupt row at %d.%d: value length %d, %d bytes left", main, sub, vlen, b.remaining());
        Assert.that(sub <= Integer.MAX_VALUE, "sub revision out of range: %d", sub);
        return new Indexed(key, new KeyIndex.Entry(main, (int) sub, create, version, lease, tombstone));
    }

    static Bytes value(byte[] row) {
        ByteBuffer b = ByteBuffer.wrap(row);
        b.get();
        int klen = b.getInt();
        b.position(b.position() + klen + 24);
        int vlen = b.getInt();
        return Bytes.copyOf(row, b.position(), vlen);
    }

    static byte[] longBytes(long v) {
        return ByteBuffer.allocate(8).putLong(v).array();
    }

    static long bytesLong(byte[] b) {
        Assert.that(b.length == 8, "meta value must be 8 bytes, got %d", b.length);
        return ByteBuffer.wrap(b).getLong();
    }
}
