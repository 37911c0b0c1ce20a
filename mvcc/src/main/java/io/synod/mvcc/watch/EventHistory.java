package io.synod.mvcc.watch;

import io.synod.mvcc.Changes;
import io.synod.mvcc.MvccStore;

/**
 * What a {@link WatchHub} reads from the store besides the live change feed: the current and
 * compacted revisions, and pages of history for watchers that are behind. {@link MvccStore}
 * provides all three ({@link #of}); tests substitute histories whose live feed lags or races.
 */
public interface EventHistory {
    /** The store's latest revision; may be ahead of what the change listener has reported so far. */
    long currentRevision();

    /** Revisions at or below this one can no longer be read with {@link #changesSince}. */
    long compactRevision();

    /**
     * Whole revisions from {@code fromRevision} on, as {@link MvccStore#changesSince}: fails with an
     * {@link io.synod.mvcc.MvccException} carrying {@link io.synod.mvcc.MvccError#COMPACTED} at or
     * below the compact revision.
     */
    Changes changesSince(long fromRevision);

    /** The event with its replaced version read, when the write left it unread ({@link MvccStore#withPrevKv}). */
    io.synod.mvcc.Event withPrevKv(io.synod.mvcc.Event e);

    static EventHistory of(MvccStore store) {
        return new EventHistory() {
            @Override
            public long currentRevision() {
                return store.currentRevision();
            }

            @Override
            public long compactRevision() {
                return store.compactRevision();
            }

            @Override
            public Changes changesSince(long fromRevision) {
                return store.changesSince(fromRevision);
            }

            @Override
            public io.synod.mvcc.Event withPrevKv(io.synod.mvcc.Event e) {
                return store.withPrevKv(e);
            }
        };
    }
}
