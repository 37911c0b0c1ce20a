package io.synod.server;

import io.etcd.jetcd.api.AlarmRequest;
import io.etcd.jetcd.api.MaintenanceGrpc;
import io.synod.mvcc.AlarmCommand;
import io.synod.mvcc.MvccStore;
import java.util.List;
import java.util.Optional;

/**
 * The cluster's alarms (etcd's alarm store: NOSPACE when the backend quota is exceeded, CORRUPT
 * when hashes disagree). They are replicated state: raising or clearing one is an
 * {@link AlarmCommand} through the log, so every member reports the same list and refuses the
 * same writes; this class reads them from the store and proposes changes through the
 * {@link Proposer} (a follower's change is forwarded to the leader as an etcd Alarm request).
 */
public final class Alarms {
    /** etcd's alarm types with their wire numbers (the jetcd stubs predate CORRUPT, so the number is kept here). */
    public enum Alarm {
        NOSPACE(AlarmCommand.NOSPACE),
        CORRUPT(AlarmCommand.CORRUPT);

        final int wire;

        Alarm(int wire) {
            this.wire = wire;
        }

        /** The alarm for etcd's wire number, if it names one (0 is etcd's NONE: "any alarm"). */
        static Optional<Alarm> ofWire(int wire) {
            for (Alarm a : values()) if (a.wire == wire) return Optional.of(a);
            return Optional.empty();
        }
    }

    /** One raised alarm: which member raised it and what it is. */
    public record AlarmMember(long memberId, Alarm alarm) {}

    private final StoreHolder store;
    private final Proposer proposer;

    Alarms(StoreHolder store, Proposer proposer) {
        this.store = store;
        this.proposer = proposer;
    }

    /** The alarms currently raised, oldest first. */
    public List<AlarmMember> list() {
        return store.read(MvccStore::alarms).stream()
                .map(r -> new AlarmMember(r.memberId(), Alarm.ofWire(r.type()).orElseThrow())).toList();
    }

    /** Whether NOSPACE is raised (writes that grow the store are refused). */
    boolean noSpace() {
        return list().stream().anyMatch(a -> a.alarm() == Alarm.NOSPACE);
    }

    /** Raises an alarm through the log (idempotent); returns once it is applied here or forwarded and applied. */
    void raise(AlarmMember alarm) {
        change(true, alarm);
    }

    /** Clears an alarm through the log; returns whether it was raised. */
    boolean clear(AlarmMember alarm) {
        return change(false, alarm);
    }

    private boolean change(boolean activate, AlarmMember alarm) {
        var request = AlarmRequest.newBuilder()
                .setAction(activate ? AlarmRequest.AlarmAction.ACTIVATE : AlarmRequest.AlarmAction.DEACTIVATE)
                .setMemberID(alarm.memberId()).setAlarmValue(alarm.alarm().wire).build();
        boolean[] changed = {true};
        proposer.write(new AlarmCommand(activate, alarm.memberId(), alarm.alarm().wire),
                ch -> MaintenanceGrpc.newBlockingStub(ch).alarm(request),
                res -> {
                    changed[0] = ((io.synod.mvcc.AlarmResponse) res).changed();
                    return null;
                }, r -> r);
        return changed[0];
    }
}
