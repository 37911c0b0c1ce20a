package io.synod.check;

/**
 * The memo of visited search configurations (set of linearized operations, model state). An
 * open-addressing table over parallel arrays rather than a {@code HashSet} of records: the search
 * probes it on every successful step, and this avoids allocating anything on a hit and all but the
 * bit-set copy on a miss.
 */
final class ConfigCache {
    private long[][] sets;
    private Object[] states;
    private long[] hashes;
    private int size;
    private int mask;

    ConfigCache() {
        int capacity = 1 << 10;
        sets = new long[capacity][];
        states = new Object[capacity];
        hashes = new long[capacity];
        mask = capacity - 1;
    }

    /** Adds the configuration; returns false if it was already present. */
    boolean add(OpSet set, Object state) {
        long h = mix(set.hash() * 0x9E3779B97F4A7C15L + state.hashCode());
        for (int i = (int) h & mask; ; i = (i + 1) & mask) {
            long[] existing = sets[i];
            if (existing == null) {
                sets[i] = set.copyOfWords();
                states[i] = state;
                hashes[i] = h;
                if (++size * 2 > sets.length) grow();
                return true;
            }
            if (hashes[i] == h && set.sameWords(existing) && states[i].equals(state)) return false;
        }
    }

    private void grow() {
        long[][] oldSets = sets;
        Object[] oldStates = states;
        long[] oldHashes = hashes;
        int capacity = oldSets.length * 2;
        sets = new long[capacity][];
        states = new Object[capacity];
        hashes = new long[capacity];
        mask = capacity - 1;
        for (int j = 0; j < oldSets.length; j++) {
            if (oldSets[j] == null) continue;
            int i = (int) oldHashes[j] & mask;
            while (sets[i] != null) i = (i + 1) & mask;
            sets[i] = oldSets[j];
            states[i] = oldStates[j];
            hashes[i] = oldHashes[j];
        }
    }

    /** A 64-bit finalizer so linear probing sees well-spread low bits. */
    private static long mix(long z) {
        z = (z ^ (z >>> 33)) * 0xff51afd7ed558ccdL;
        z = (z ^ (z >>> 33)) * 0xc4ceb9fe1a85ec53L;
        return z ^ (z >>> 33);
    }
}
