package io.synod.server;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The alarms raised in the cluster as this member knows them (etcd's alarm store: NOSPACE when the
 * backend quota is exceeded, CORRUPT when hashes disagree). Synod raises none yet, so the list is
 * always empty; the type exists so the Maintenance service, {@code /health} and {@code /readyz}
 * already consult it, and the quota and corruption checks only have to {@link #raise} one.
 * etcd replicates alarms through Raft; when Synod raises them it must do the same, so that every
 * member reports the same list.
 */
public final class Alarms {
    /** etcd's alarm types with their wire numbers (the jetcd stubs predate CORRUPT, so the number is kept here). */
    public enum Alarm {
        NOSPACE(1),
        CORRUPT(2);

        final int wire;

        Alarm(int wire) {
            this.wire = wire;
        }

        /** The alarm for etcd's wire number, if it names one (0 is etcd's NONE: "any alarm"). */
        static java.util.Optional<Alarm> ofWire(int wire) {
            for (Alarm a : values()) if (a.wire == wire) return java.util.Optional.of(a);
            return java.util.Optional.empty();
        }
    }

    /** One raised alarm: which member raised it and what it is. */
    public record AlarmMember(long memberId, Alarm alarm) {}

    private final List<AlarmMember> raised = new CopyOnWriteArrayList<>();

    /** The alarms currently raised, oldest first. */
    public List<AlarmMember> list() {
        return List.copyOf(raised);
    }

    /** Raises an alarm (idempotent). Nothing calls it yet: see the class comment. */
    public void raise(AlarmMember alarm) {
        if (!raised.contains(alarm)) raised.add(alarm);
    }

    /** Clears an alarm; returns whether it was raised. */
    public boolean clear(AlarmMember alarm) {
        return raised.remove(alarm);
    }
}
