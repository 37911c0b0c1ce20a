package io.synod.mvcc;

import io.synod.common.Assert;

/**
 * A point in the store's history, as etcd v3 defines it: {@code main} advances once per write
 * transaction, {@code sub} numbers the individual changes within it from 0. Ordered by main,
 * then sub, which is also the order changes were made.
 */
public record Revision(long main, long sub) implements Comparable<Revision> {
    public Revision {
        Assert.that(main >= 0 && sub >= 0, "revision must be non-negative: main=%d sub=%d", main, sub);
    }

    @Override
    public int compareTo(Revision o) {
        int c = Long.compare(main, o.main);
        return c != 0 ? c : Long.compare(sub, o.sub);
    }

    @Override
    public String toString() {
        return main + "." + sub;
    }
}
