package io.synod.mvcc.watch;

import io.synod.mvcc.Bytes;

/**
 * What a client asks to watch, in etcd's terms. {@code rangeEnd} empty watches the single key,
 * {@link Bytes#ZERO} every key at or after {@code key}, anything else the keys in
 * [{@code key}, {@code rangeEnd}). {@code startRevision} 0 means "from now": the first revision
 * after the store's current one when the watch is created. {@code watchId}
 * {@link WatchHub#AUTO_WATCH_ID} lets the stream choose the id.
 */
public record WatchSpec(
        long watchId,
        Bytes key,
        Bytes rangeEnd,
        long startRevision,
        boolean noPut,
        boolean noDelete,
        boolean prevKv,
        boolean progressNotify) {

    public static WatchSpec key(Bytes key) {
        return new WatchSpec(WatchHub.AUTO_WATCH_ID, key, Bytes.EMPTY, 0, false, false, false, false);
    }

    public static WatchSpec prefix(Bytes prefix) {
        return key(prefix).withRangeEnd(prefix.prefixEnd());
    }

    public WatchSpec withRangeEnd(Bytes end) {
        return new WatchSpec(watchId, key, end, startRevision, noPut, noDelete, prevKv, progressNotify);
    }

    public WatchSpec withStartRevision(long revision) {
        return new WatchSpec(watchId, key, rangeEnd, revision, noPut, noDelete, prevKv, progressNotify);
    }

    public WatchSpec withWatchId(long id) {
        return new WatchSpec(id, key, rangeEnd, startRevision, noPut, noDelete, prevKv, progressNotify);
    }

    public WatchSpec withFilters(boolean noPutEvents, boolean noDeleteEvents) {
        return new WatchSpec(watchId, key, rangeEnd, startRevision, noPutEvents, noDeleteEvents, prevKv, progressNotify);
    }

    public WatchSpec withPrevKv(boolean on) {
        return new WatchSpec(watchId, key, rangeEnd, startRevision, noPut, noDelete, on, progressNotify);
    }

    public WatchSpec withProgressNotify(boolean on) {
        return new WatchSpec(watchId, key, rangeEnd, startRevision, noPut, noDelete, prevKv, on);
    }

    /** True when {@code k} is in the watched range. */
    public boolean covers(Bytes k) {
        if (rangeEnd.isEmpty()) return k.equals(key);
        if (k.compareTo(key) < 0) return false;
        return rangeEnd.equals(Bytes.ZERO) || k.compareTo(rangeEnd) < 0;
    }

    /** True when the range holds no key at all ([key, end) with end <= key), which etcd refuses. */
    public boolean emptyRange() {
        return !rangeEnd.isEmpty() && !rangeEnd.equals(Bytes.ZERO) && key.compareTo(rangeEnd) >= 0;
    }
}
