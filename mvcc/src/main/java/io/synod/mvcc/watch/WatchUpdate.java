package io.synod.mvcc.watch;

import io.synod.mvcc.Event;
import java.util.List;

/**
 * One item a {@link WatchStream} hands to its consumer, in the order the consumer must deliver
 * them to each watcher (a consumer may merge one watcher's consecutive events, but must not move
 * anything across a non-event item); each maps to one etcd WatchResponse (events may be split
 * further by size). A
 * {@code revision} is what the response header reports: for events the revision of the last
 * one, for progress a revision up to which the watcher (or, for {@link WatchHub#NO_WATCH_ID},
 * every watcher of the stream) has been sent everything.
 */
public sealed interface WatchUpdate {
    long watchId();

    long revision();

    /** The watch exists; {@code revision} is the store's revision when it was created. */
    record Created(long watchId, long revision) implements WatchUpdate {}

    /** A create was refused (duplicate id, empty range, too many watchers); etcd sends id -1. */
    record Refused(long revision, String reason) implements WatchUpdate {
        @Override
        public long watchId() {
            return WatchHub.NO_WATCH_ID;
        }
    }

    /** Events of whole revisions for one watcher, in revision order; never empty. */
    record Events(long watchId, List<Event> events) implements WatchUpdate {
        public Events {
            events = List.copyOf(events);
        }

        @Override
        public long revision() {
            return events.get(events.size() - 1).revision().main();
        }
    }

    /**
     * The watch ended: by request ({@code compactRevision} 0, empty reason), or because the
     * history it needs was compacted: {@code compactRevision} is then the store's compaction
     * revision, as etcd reports it, or one above it when the watch needed exactly that revision
     * (this store cannot serve a watch from the compaction revision itself).
     */
    record Canceled(long watchId, long revision, long compactRevision, String reason) implements WatchUpdate {}

    /** Nothing at or below {@code revision} remains to be sent to the watcher(s). */
    record Progress(long watchId, long revision) implements WatchUpdate {}
}
