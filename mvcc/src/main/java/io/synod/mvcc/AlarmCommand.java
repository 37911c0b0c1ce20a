package io.synod.mvcc;

import io.synod.common.Assert;

/**
 * Raises or clears a cluster alarm, replicated so that every member reports the same alarms and
 * refuses the same writes (etcd's alarm store). While NOSPACE is raised the store refuses what
 * would grow it — puts, txns that put, lease grants — and keeps serving reads, deletes,
 * compaction and revokes, so an operator can free space and then disarm. {@code type} is etcd's
 * wire number (1 NOSPACE, 2 CORRUPT); {@code memberId} is the member that raised it.
 */
public record AlarmCommand(boolean activate, long memberId, int type) implements Command {
    public static final int NOSPACE = 1;
    public static final int CORRUPT = 2;

    public AlarmCommand {
        Assert.that(type == NOSPACE || type == CORRUPT, "unknown alarm type %d", type);
    }

    /** One raised alarm, as the store keeps it. */
    public record Raised(long memberId, int type) {}
}
