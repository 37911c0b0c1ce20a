package io.synod.check;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * A fixed-capacity bit set of operation indices within one partition: the "which operations have
 * been linearized" half of a search configuration. Hand-rolled rather than {@link java.util.BitSet}
 * because it keeps a Zobrist hash (XOR of a fixed random word per member) up to date on every
 * change, so hashing a configuration costs O(1) instead of a pass over the words.
 */
final class OpSet {
    private final long[] words;
    private final long[] zobrist;
    private long hash;

    OpSet(int capacity) {
        this.words = new long[(capacity + 63) >>> 6];
        this.zobrist = new long[capacity];
        // Fixed seed: hashing, hence iteration order of nothing observable, but still reproducible.
        SplittableRandom rnd = new SplittableRandom(0x9E3779B97F4A7C15L);
        for (int i = 0; i < capacity; i++) zobrist[i] = rnd.nextLong();
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

    long hash() {
        return hash;
    }

    long[] copyOfWords() {
        return words.clone();
    }

    boolean sameWords(long[] other) {
        return Arrays.equals(words, other);
    }
}
