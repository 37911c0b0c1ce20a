package io.synod.mvcc;

import java.util.List;

/**
 * What {@link MvccStore#apply} did with one committed log entry. A rejected command still
 * consumes its log index (every member rejects it identically) but no revision.
 */
public sealed interface Result {
    /** The command ran; {@code events} are its changes in revision order (empty for reads-only). */
    record Applied(Response response, List<Event> events) implements Result {
        public Applied {
            events = List.copyOf(events);
        }
    }

    /** The command was refused with an etcd error; the store is unchanged apart from the applied index. */
    record Rejected(MvccError error) implements Result {}

    /** The index was at or below the applied index: a replay after restart, nothing was done. */
    record AlreadyApplied(long appliedIndex) implements Result {}
}
