package io.synod.mvcc;

import java.util.List;

/**
 * A page of history for a catching-up watcher: events from the requested revision onwards, whole
 * revisions only, and the revision to ask from next (current revision + 1 once caught up).
 */
public record Changes(List<Event> events, long nextRevision) {
    public Changes {
        events = List.copyOf(events);
    }
}
