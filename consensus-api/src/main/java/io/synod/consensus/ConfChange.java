package io.synod.consensus;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * A request to change membership: one or more single changes applied together. Any change
 * that touches voters goes through a joint configuration (Raft §6), so adding, removing or
 * replacing several voters at once is safe. {@code explicitLeave} keeps the group in the joint
 * configuration until an empty ConfChange is proposed (for operators who want to inspect the
 * joint state); otherwise the core leaves it by itself.
 */
public record ConfChange(List<Change> changes, boolean explicitLeave) {
    /** What happens to one member. */
    public enum Type { ADD_VOTER, ADD_LEARNER, REMOVE }

    /** One member's change. */
    public record Change(Type type, long nodeId) {
        public Change {
            if (nodeId <= 0) throw new IllegalArgumentException("node id must be > 0, got " + nodeId);
        }
    }

    public ConfChange {
        changes = List.copyOf(changes);
    }

    /** The empty change that leaves a joint configuration. */
    public static final ConfChange LEAVE_JOINT = new ConfChange(List.of(), false);

    public static ConfChange of(Type type, long nodeId) {
        return new ConfChange(List.of(new Change(type, nodeId)), false);
    }

    public boolean isLeaveJoint() {
        return changes.isEmpty();
    }

    // Wire format: [version=1][flags][count:int] then count x ([type:byte][node:long]).
    private static final byte VERSION = 1;
    /** Upper bound on the changes in one request; keeps a corrupt length from allocating gigabytes. */
    public static final int CHANGES_MAX = 1024;

    public byte[] encode() {
        var buf = ByteBuffer.allocate(6 + changes.size() * 9);
        buf.put(VERSION).put((byte) (explicitLeave ? 1 : 0)).putInt(changes.size());
        for (Change c : changes) buf.put((byte) c.type.ordinal()).putLong(c.nodeId);
        return buf.array();
    }

    public static ConfChange decode(byte[] data) {
        var buf = ByteBuffer.wrap(data);
        if (data.length < 6 || buf.get() != VERSION) throw new IllegalArgumentException("not a ConfChange (bad version or length " + data.length + ")");
        boolean explicit = buf.get() == 1;
        int n = buf.getInt();
        if (n < 0 || n > CHANGES_MAX || buf.remaining() != n * 9) {
            throw new IllegalArgumentException("ConfChange count " + n + " does not match " + buf.remaining() + " remaining bytes");
        }
        var list = new ArrayList<Change>(n);
        Type[] types = Type.values();
        for (int i = 0; i < n; i++) {
            int t = buf.get();
            if (t < 0 || t >= types.length) throw new IllegalArgumentException("unknown ConfChange type " + t);
            list.add(new Change(types[t], buf.getLong()));
        }
        return new ConfChange(list, explicit);
    }
}
