package io.synod.check;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * A fixed-capacity bit set of operation indices within one partition: the "which operations have
 * been linearized" half of a search configuration. Hand-rolled rather than {@link java.util.BitSet}
 * because it keeps a Zobrist hash (XOR of a fixed random word per member) up to date on every
 * change, so hashing a configuration costs O(1) instead of a pass over the words.
 *
 * <p>Members may be declared "optional" (the indeterminate operations). They are left out of the
 * hash so that configurations differing only in optional members land in the same probe chain,
 * where {@link ConfigCache} can see that one dominates another.
 */
final class OpSet {
    private final long[] words;
    private final long[] zobrist;
    /** Bit set of the non-optional members' positions: what the hash and exact part cover. */
    private final long[] requiredMask;
    private long hash;

    /** @param optional which indices are optional (their membership is excluded from the hash) */
    OpSet(int capacity, boolean[] optional) {
        this.words = new long[(capacity + 63) >>> 6];
        this.zobrist = new long[capacity];
        this.requiredMask = new long[words.length];
        // Fixed seed: nothing observable depends on it, but runs stay reproducible.
        SplittableRandom rnd = new SplittableRandom(0x9E3779B97F4A7C15L);
        for (int i = 0; i < capacity; i++) {
            long z = rnd.nextLong();
            if (!optional[i]) {
                zobrist[i] = z;
                requiredMask[i >>> 6] |= 1L << i;
            }
        }
    }

    OpSet(int capacity) {
        this(capacity, new boolean[capacity]);
    }

    void set(int i) {
        if (!get(i)) {
            words[i >>> 6] |= 1L << i;
            hash ^= zobrist[i];
        }
    }

    void clear(int i) {
        if (get(i)) {
            words[i >>> 6] &= ~(1L << i);
            hash ^= zobrist[i];
        }
    }

    boolean get(int i) {
        return (words[i >>> 6] & (1L << i)) != 0;
    }

    /** Hash of the required members only. */
    long hash() {
        return hash;
    }

    long[] copyOfWords() {
        return words.clone();
    }

    boolean sameWords(long[] other) {
        return Arrays.equals(words, other);
    }

    /**
     * Whether {@code other} (words of a set over the same capacity) has exactly this set's
     * required members and a subset of its optional members.
     */
    boolean dominatedBy(long[] other) {
        for (int w = 0; w < words.length; w++) {
            long mine = words[w];
            long theirs = other[w];
            if (((mine ^ theirs) & requiredMask[w]) != 0) return false;
            if ((theirs & ~mine) != 0) return false;
        }
        return true;
    }
}
