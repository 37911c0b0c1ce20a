package io.synod.check;

import java.util.Arrays;

/**
 * A fixed-capacity bit set of operation indices within one partition: the "which operations have
 * been linearized" half of a search configuration. Hand-rolled rather than {@link java.util.BitSet}
 * so snapshots are a single array copy and equality/hashing are over a fixed-length array.
 */
final class OpSet {
    private final long[] words;

    OpSet(int capacity) {
        this.words = new long[(capacity + 63) >>> 6];
    }

    private OpSet(long[] words) {
        this.words = words;
    }

    void set(int i) {
        words[i >>> 6] |= 1L << i;
    }

    void clear(int i) {
        words[i >>> 6] &= ~(1L << i);
    }

    boolean get(int i) {
        return (words[i >>> 6] & (1L << i)) != 0;
    }

    OpSet snapshot() {
        return new OpSet(words.clone());
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof OpSet other && Arrays.equals(words, other.words);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(words);
    }
}
