package io.synod.mvcc;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * An immutable byte string, used for every key and value in the store. Keys in etcd are arbitrary
 * bytes ordered by unsigned lexicographic comparison, so this type compares exactly that way and
 * never passes through {@link String}. The backing array is copied on the way in and out, which
 * is what lets instances be shared freely between threads, the index and listeners.
 */
public final class Bytes implements Comparable<Bytes> {
    public static final Bytes EMPTY = new Bytes(new byte[0]);
    /** The single zero byte: as a range end it means "every key at or after the start key". */
    public static final Bytes ZERO = new Bytes(new byte[] {0});

    private final byte[] data;
    private int hash;

    private Bytes(byte[] owned) {
        this.data = owned;
    }

    public static Bytes copyOf(byte[] bytes) {
        return bytes.length == 0 ? EMPTY : new Bytes(bytes.clone());
    }

    public static Bytes copyOf(byte[] bytes, int offset, int length) {
        return length == 0 ? EMPTY : new Bytes(Arrays.copyOfRange(bytes, offset, offset + length));
    }

    /** Convenience for tests and tools; the store itself never interprets bytes as text. */
    public static Bytes utf8(String s) {
        return new Bytes(s.getBytes(StandardCharsets.UTF_8));
    }

    /** Wraps without copying; only for arrays this package has just created and never touches again. */
    static Bytes wrap(byte[] owned) {
        return owned.length == 0 ? EMPTY : new Bytes(owned);
    }

    public int size() {
        return data.length;
    }

    public boolean isEmpty() {
        return data.length == 0;
    }

    public byte byteAt(int i) {
        return data[i];
    }

    public byte[] toByteArray() {
        return data.clone();
    }

    /** Package-private zero-copy access for encoders; callers must not mutate the result. */
    byte[] unsafeArray() {
        return data;
    }

    public boolean startsWith(Bytes prefix) {
        return data.length >= prefix.data.length
                && Arrays.equals(data, 0, prefix.data.length, prefix.data, 0, prefix.data.length);
    }

    /**
     * The smallest key greater than every key having this prefix: the last byte that is not 0xff
     * is incremented and the rest dropped. A prefix of only 0xff bytes (or empty) has no upper
     * bound, which etcd spells as the range end {@link #ZERO}.
     */
    public Bytes prefixEnd() {
        for (int i = data.length - 1; i >= 0; i--) {
            if (data[i] != (byte) 0xff) {
                byte[] end = Arrays.copyOf(data, i + 1);
                end[i]++;
                return new Bytes(end);
            }
        }
        return ZERO;
    }

    @Override
    public int compareTo(Bytes o) {
        return Arrays.compareUnsigned(data, o.data);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Bytes b && Arrays.equals(data, b.data);
    }

    @Override
    public int hashCode() {
        int h = hash;
        if (h == 0) {
            h = Arrays.hashCode(data);
            hash = h;
        }
        return h;
    }

    /** Printable ASCII as is, everything else as \xNN, so logs never garble binary keys. */
    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder(data.length + 2).append('"');
        for (byte b : data) {
            int c = b & 0xff;
            if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') sb.append((char) c);
            else sb.append(String.format("\\x%02x", c));
        }
        return sb.append('"').toString();
    }
}
