package io.synod.consensus;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;

/**
 * A request to change membership: one or more single changes applied together. Any change
 * that touches voters goes through a joint configuration (Raft §6), so adding, removing or
 * replacing several voters at once is safe. {@code explicitLeave} keeps the group in the joint
 * configuration until an empty ConfChange is proposed (for operators who want to inspect the
 * joint state); otherwise the core leaves it by itself.
 *
 * <p>{@code context} is opaque to consensus and travels with the change through the log, as in
 * etcd (where it carries the member's name and URLs): the application reads it when the entry is
 * applied, so every member — also one that replays the log or joins later — learns the same
 * metadata at the same index. A change made only of {@link Type#UPDATE} entries leaves the
 * configuration as it is and exists to carry such metadata (etcd's {@code ConfChangeUpdateNode}).
 */
public record ConfChange(List<Change> changes, boolean explicitLeave, byte[] context) {
    /** What happens to one member. UPDATE changes nothing in the configuration (metadata only). */
    public enum Type { ADD_VOTER, ADD_LEARNER, REMOVE, UPDATE }

    /** One member's change. */
    public record Change(Type type, long nodeId) {
        public Change {
            if (nodeId <= 0) throw new IllegalArgumentException("node id must be > 0, got " + nodeId);
        }
    }

    public ConfChange {
        changes = List.copyOf(changes);
        context = context.clone();
        if (context.length > CONTEXT_BYTES_MAX) {
            throw new IllegalArgumentException("ConfChange context of " + context.length + " bytes exceeds " + CONTEXT_BYTES_MAX);
        }
        if (changes.isEmpty() && context.length > 0) throw new IllegalArgumentException("leaving a joint configuration carries no context");
    }

    /** A change without context (what the core itself proposes, and what the simulator uses). */
    public ConfChange(List<Change> changes, boolean explicitLeave) {
        this(changes, explicitLeave, NO_CONTEXT);
    }

    private static final byte[] NO_CONTEXT = new byte[0];

    /** The empty change that leaves a joint configuration. */
    public static final ConfChange LEAVE_JOINT = new ConfChange(List.of(), false);

    public static ConfChange of(Type type, long nodeId) {
        return new ConfChange(List.of(new Change(type, nodeId)), false);
    }

    /** This change carrying {@code context} instead. */
    public ConfChange withContext(byte[] context) {
        return new ConfChange(changes, explicitLeave, context);
    }

    public boolean isLeaveJoint() {
        return changes.isEmpty();
    }

    /** True when every single change is an {@link Type#UPDATE}: the configuration stays as it is. */
    public boolean isUpdateOnly() {
        return !changes.isEmpty() && changes.stream().allMatch(c -> c.type == Type.UPDATE);
    }

    /** A copy: the record must stay immutable, and arrays are not. */
    @Override
    public byte[] context() {
        return context.clone();
    }

    // Arrays compare by identity; a conf change is a value, so compare the context's bytes.
    @Override
    public boolean equals(Object o) {
        return o instanceof ConfChange c && c.explicitLeave == explicitLeave && c.changes.equals(changes) && Arrays.equals(c.context, context);
    }

    @Override
    public int hashCode() {
        return (changes.hashCode() * 31 + Boolean.hashCode(explicitLeave)) * 31 + Arrays.hashCode(context);
    }

    @Override
    public String toString() {
        return "ConfChange[changes=" + changes + ", explicitLeave=" + explicitLeave
                + (context.length == 0 ? "" : ", context=" + context.length + " bytes " + HexFormat.of().formatHex(context, 0, Math.min(16, context.length)))
                + "]";
    }

    // Wire format, version 1: [1][flags][count:int] then count x ([type:byte][node:long]).
    // Version 2 appends [contextLength:int][context]. A change without context is still written as
    // version 1, so logs without membership metadata (the simulator's, older servers') stay
    // byte-identical and readable by members that predate version 2.
    private static final byte VERSION_1 = 1;
    private static final byte VERSION_2 = 2;
    /** Upper bound on the changes in one request; keeps a corrupt length from allocating gigabytes. */
    public static final int CHANGES_MAX = 1024;
    /** Upper bound on a context (member metadata is a few hundred bytes). */
    public static final int CONTEXT_BYTES_MAX = 64 * 1024;

    public byte[] encode() {
        boolean v2 = context.length > 0;
        var buf = ByteBuffer.allocate(6 + changes.size() * 9 + (v2 ? 4 + context.length : 0));
        buf.put(v2 ? VERSION_2 : VERSION_1).put((byte) (explicitLeave ? 1 : 0)).putInt(changes.size());
        for (Change c : changes) buf.put((byte) c.type.ordinal()).putLong(c.nodeId);
        if (v2) buf.putInt(context.length).put(context);
        return buf.array();
    }

    public static ConfChange decode(byte[] data) {
        var buf = ByteBuffer.wrap(data);
        byte version = data.length < 6 ? 0 : buf.get();
        if (version != VERSION_1 && version != VERSION_2) {
            throw new IllegalArgumentException("not a ConfChange (bad version or length " + data.length + ")");
        }
        boolean explicit = buf.get() == 1;
        int n = buf.getInt();
        int fixed = n * 9 + (version == VERSION_2 ? 4 : 0);
        if (n < 0 || n > CHANGES_MAX || (version == VERSION_1 ? buf.remaining() != fixed : buf.remaining() < fixed)) {
            throw new IllegalArgumentException("ConfChange count " + n + " does not match " + buf.remaining() + " remaining bytes");
        }
        var list = new ArrayList<Change>(n);
        Type[] types = Type.values();
        for (int i = 0; i < n; i++) {
            int t = buf.get();
            if (t < 0 || t >= types.length) throw new IllegalArgumentException("unknown ConfChange type " + t);
            list.add(new Change(types[t], buf.getLong()));
        }
        byte[] context = NO_CONTEXT;
        if (version == VERSION_2) {
            int len = buf.getInt();
            if (len < 0 || len > CONTEXT_BYTES_MAX || buf.remaining() != len) {
                throw new IllegalArgumentException("ConfChange context length " + len + " does not match " + buf.remaining() + " remaining bytes");
            }
            context = new byte[len];
            buf.get(context);
        }
        return new ConfChange(list, explicit, context);
    }
}
