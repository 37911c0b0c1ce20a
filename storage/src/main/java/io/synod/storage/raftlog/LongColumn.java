package io.synod.storage.raftlog;

import io.synod.common.Assert;
import java.util.Arrays;

/**
 * A growable array of longs that can drop elements at both ends in amortised O(1): the per-entry
 * term and position index of the Raft log, without an object per entry.
 */
final class LongColumn {
    private long[] values = new long[64];
    private int head;
    private int size;

    int size() {
        return size;
    }

    long get(int i) {
        Assert.that(i >= 0 && i < size, "column index %d outside [0, %d)", i, size);
        return values[head + i];
    }

    void add(long v) {
        if (head + size == values.length) {
            if (head > values.length / 2) {
                System.arraycopy(values, head, values, 0, size);
                head = 0;
            } else {
                values = Arrays.copyOf(values, values.length * 2);
            }
        }
        values[head + size++] = v;
    }

    /** Keeps the first {@code n} elements. */
    void truncate(int n) {
        Assert.that(n >= 0 && n <= size, "truncate to %d of %d", n, size);
        size = n;
    }

    /** Drops the first {@code n} elements. */
    void dropFirst(int n) {
        Assert.that(n >= 0 && n <= size, "dropFirst %d of %d", n, size);
        head += n;
        size -= n;
        if (size == 0) head = 0;
    }

    void clear() {
        head = 0;
        size = 0;
    }
}
