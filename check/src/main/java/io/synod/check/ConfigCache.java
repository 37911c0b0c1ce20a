package io.synod.check;

/**
 * The memo of visited search configurations (set of linearized operations, model state). An
 * open-addressing table of entry ids over parallel arrays rather than a {@code HashSet} of
 * records: the search probes it on every successful step, and this allocates nothing on a hit and
 * only the bit-set copy on a miss.
 *
 * <p>Beyond exact repeats it recognises dominance through indeterminate operations, which would
 * otherwise blow the search up: an indeterminate operation never has to take effect, so a
 * configuration C with the same completed operations and state as an earlier one E, but a
 * superset of E's indeterminate operations, can do nothing E could not (E may simply never
 * linearize the extra ones). If E was explored to failure, C fails too. E must not be an ancestor
 * of C on the current search path, whose exploration is still under way; entries therefore carry
 * an on-path flag that the search clears when it backtracks past them.
 */
final class ConfigCache {
    private int[] table; // entry id + 1, or 0 for empty
    private int mask;
    private long[][] sets = new long[1024][];
    private Object[] states = new Object[1024];
    private long[] hashes = new long[1024];
    private boolean[] onPath = new boolean[1024];
    private int size;

    ConfigCache() {
        table = new int[1 << 11];
        mask = table.length - 1;
    }

    /**
     * Records the configuration as visited and on the current path, returning its id, or returns
     * -1 if it was visited before or is dominated by a configuration already explored.
     */
    int add(OpSet set, Object state) {
        long h = mix(set.hash() * 0x9E3779B97F4A7C15L + state.hashCode());
        int i = (int) h & mask;
        for (; table[i] != 0; i = (i + 1) & mask) {
            int id = table[i] - 1;
            if (hashes[id] != h || !set.dominatedBy(sets[id]) || !states[id].equals(state)) continue;
            // An exact repeat can never be on the path: the linearized set grows along it.
            if (!onPath[id] || set.sameWords(sets[id])) return -1;
        }
        int id = size++;
        if (id == sets.length) growEntries();
        sets[id] = set.copyOfWords();
        states[id] = state;
        hashes[id] = h;
        onPath[id] = true;
        table[i] = id + 1;
        if (size * 2 > table.length) growTable();
        return id;
    }

    int size() {
        return size;
    }

    /** A rough count of the heap the memo holds, for the search's memory bound. */
    long approximateBytes() {
        long perSet = 16 + 8L * (size == 0 ? 1 : sets[0].length);
        // Per entry: the set, its slot in four parallel arrays, the table slots, and a share of the state.
        return size * (perSet + 8 + 8 + 8 + 1 + 2 * 4 + 16);
    }

    /** The search has backtracked past this configuration: it has been explored to failure. */
    void leftPath(int id) {
        onPath[id] = false;
    }

    private void growEntries() {
        int capacity = sets.length * 2;
        sets = java.util.Arrays.copyOf(sets, capacity);
        states = java.util.Arrays.copyOf(states, capacity);
        hashes = java.util.Arrays.copyOf(hashes, capacity);
        onPath = java.util.Arrays.copyOf(onPath, capacity);
    }

    private void growTable() {
        table = new int[table.length * 2];
        mask = table.length - 1;
        for (int id = 0; id < size; id++) {
            int i = (int) hashes[id] & mask;
            while (table[i] != 0) i = (i + 1) & mask;
            table[i] = id + 1;
        }
    }

    /** A 64-bit finalizer so linear probing sees well-spread low bits. */
    private static long mix(long z) {
        z = (z ^ (z >>> 33)) * 0xff51afd7ed558ccdL;
        z = (z ^ (z >>> 33)) * 0xc4ceb9fe1a85ec53L;
        return z ^ (z >>> 33);
    }
}
