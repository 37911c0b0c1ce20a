package io.synod.mvcc.watch;

import io.synod.mvcc.Event;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * One registered watch inside a {@link WatchHub}: its range and filters, and where it stands.
 * All mutable fields are guarded by the hub's lock.
 */
final class Watcher {
    final WatchStream stream;
    final long id;
    final WatchSpec spec;

    /**
     * Unsynced: the first revision not yet queued for this watcher (catch-up resumes there).
     * Synced: live revisions below it are skipped (a future start, or history already read
     * ahead of the live feed). Invariant: every matching event below it has been queued once.
     */
    long nextRevision;
    boolean synced;
    boolean removed;
    /** Events of this watcher in its stream's queue; bounded by watcherQueuedEventsMax. */
    int queuedEvents;
    /** Set when events are queued; a periodic progress notification is sent only when it is clear. */
    boolean eventsSinceTick;

    Watcher(WatchStream stream, long id, WatchSpec spec, long nextRevision) {
        this.stream = stream;
        this.id = id;
        this.spec = spec;
        this.nextRevision = nextRevision;
    }

    boolean singleKey() {
        return spec.rangeEnd().isEmpty();
    }

    /** The event as this watcher should see it, or empty when a filter drops it. */
    Optional<Event> view(Event e) {
        if (e.type() == Event.Type.PUT && spec.noPut()) return Optional.empty();
        if (e.type() == Event.Type.DELETE && spec.noDelete()) return Optional.empty();
        if (!spec.prevKv() && e.prevKv().isPresent()) return Optional.of(new Event(e.type(), e.kv(), Optional.empty(), e.revision()));
        return Optional.of(e);
    }

    /** The events of {@code events} this watcher sees (range and filters), in order. */
    List<Event> select(List<Event> events) {
        List<Event> out = new ArrayList<>();
        for (Event e : events) {
            if (spec.covers(e.kv().key())) view(e).ifPresent(out::add);
        }
        return out;
    }

    @Override
    public String toString() {
        return "watcher " + id + " " + spec.key() + (singleKey() ? "" : ".." + spec.rangeEnd()) + " next=" + nextRevision
                + (synced ? " synced" : " unsynced");
    }
}
