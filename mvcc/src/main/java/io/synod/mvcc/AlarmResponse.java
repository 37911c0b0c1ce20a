package io.synod.mvcc;

import java.util.List;

/** The outcome of an {@link AlarmCommand}: the alarms raised afterwards, and whether this command changed them. */
public record AlarmResponse(long revision, List<AlarmCommand.Raised> alarms, boolean changed) implements Response {
    public AlarmResponse {
        alarms = List.copyOf(alarms);
    }
}
