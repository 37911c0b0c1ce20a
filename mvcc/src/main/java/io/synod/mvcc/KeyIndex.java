package io.synod.mvcc;

import io.synod.common.Assert;
import java.util.ArrayList;
import java.util.Collections;
import java.util.NavigableMap;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The in-memory map from each key to the revisions at which it changed, rebuilt from the
 * revision column family on open. It answers "which version of which keys is visible at
 * revision r" without touching RocksDB; only values are read from disk. Each entry also carries
 * the version's create revision, version and lease, so keys-only and count-only reads, txn
 * compares other than VALUE, and building the next version of a key need no disk read.
 * Not thread-safe: {@link MvccStore} guards it with its lock.
 */
final class KeyIndex {

    /** One change to a key; {@code tombstone} entries end a generation of the key. */
    record Entry(long main, int sub, long create, long version, long lease, boolean tombstone) {
        Revision revision() {
            return new Revision(main, sub);
        }

        boolean before(long otherMain, int otherSub) {
            return main < otherMain || (main == otherMain && sub < otherSub);
        }
    }

    /** All retained changes of one key, oldest first. */
    static final class History {
        private final ArrayList<Entry> entries = new ArrayList<>(2);

        /** The entry visible at main revision {@code rev}, or -1: the last with main <= rev. */
        int indexAt(long rev) {
            int lo = 0, hi = entries.size() - 1, found = -1;
            while (lo <= hi) {
                int mid = (lo + hi) >>> 1;
                if (entries.get(mid).main() <= rev) {
                    found = mid;
                    lo = mid + 1;
                } else {
                    hi = mid - 1;
                }
            }
            return found;
        }

        Optional<Entry> liveAt(long rev) {
            int i = indexAt(rev);
            if (i < 0) return Optional.empty();
            Entry e = entries.get(i);
            return e.tombstone() ? Optional.empty() : Optional.of(e);
        }

        Optional<Entry> latestLive() {
            if (entries.isEmpty()) return Optional.empty();
            Entry e = entries.get(entries.size() - 1);
            return e.tombstone() ? Optional.empty() : Optional.of(e);
        }

        /** The change just before (main, sub), if still retained. */
        Optional<Entry> before(long main, int sub) {
            Entry prev = null;
            for (int i = entries.size() - 1; i >= 0; i--) {
                Entry e = entries.get(i);
                if (e.before(main, sub)) {
                    prev = e;
                    break;
                }
            }
            return Optional.ofNullable(prev);
        }

        /**
         * How many leading entries compaction at {@code rev} may remove: everything at or below
         * it except the latest version, and that too if it is a tombstone.
         */
        int removableAt(long rev) {
            int i = indexAt(rev);
            if (i < 0) return 0;
            return entries.get(i).tombstone() ? i + 1 : i;
        }

        Entry get(int i) {
            return entries.get(i);
        }

        int size() {
            return entries.size();
        }

        void append(Entry e) {
            if (!entries.isEmpty()) {
                Entry last = entries.get(entries.size() - 1);
                Assert.that(last.before(e.main(), e.sub()),
                        "key history must grow in revision order: last=%s new=%s", last.revision(), e.revision());
            }
            entries.add(e);
        }

        void removeFirst(int n) {
            entries.subList(0, n).clear();
        }
    }

    private final TreeMap<Bytes, History> keys = new TreeMap<>();

    Optional<History> history(Bytes key) {
        return Optional.ofNullable(keys.get(key));
    }

    void append(Bytes key, Entry e) {
        keys.computeIfAbsent(key, k -> new History()).append(e);
    }

    void removeFirst(Bytes key, int n) {
        History h = keys.get(key);
        Assert.that(h != null && h.size() >= n, "cannot trim %s entries of %s", n, key);
        h.removeFirst(n);
        if (h.size() == 0) keys.remove(key);
    }

    int keyCount() {
        return keys.size();
    }

    /** The keys of [key, end) under etcd's range-end conventions, in ascending order. */
    NavigableMap<Bytes, History> slice(Bytes key, Bytes end) {
        if (end.isEmpty()) return keys.subMap(key, true, key, true);
        if (end.equals(Bytes.ZERO)) return keys.tailMap(key, true);
        if (end.compareTo(key) <= 0) return Collections.emptyNavigableMap();
        return keys.subMap(key, true, end, false);
    }

    /** Keys at or after {@code from} (all keys if {@code from} is empty), for compaction's cursor. */
    NavigableMap<Bytes, History> tailFrom(Bytes from) {
        return from.isEmpty() ? keys : keys.tailMap(from, true);
    }

    /** True when {@code k} lies in [key, end) under the range-end conventions. */
    static boolean inRange(Bytes k, Bytes key, Bytes end) {
        if (end.isEmpty()) return k.equals(key);
        if (k.compareTo(key) < 0) return false;
        return end.equals(Bytes.ZERO) || k.compareTo(end) < 0;
    }
}
