package io.synod.mvcc;

import io.synod.common.Assert;
import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;

/**
 * The compact binary form in which commands travel through the replicated log. Layout: a format
 * byte ({@value #FORMAT}), then the command. Each request starts with a tag byte; byte strings
 * are an unsigned varint length then the bytes; signed numbers are zig-zag varints; booleans are
 * packed into a flags byte. Tags 16..31 are lease commands. Decoding checks every
 * length against {@link Limits} and against what is left of the input, rejects unknown tags and
 * trailing bytes and non-minimal varints (so each command has one encoding), and reports the
 * offset of the problem, so a corrupt entry fails loudly instead
 * of being applied as something else.
 */
public final class CommandCodec {
    static final int FORMAT = 1;
    private static final int TAG_PUT = 1;
    private static final int TAG_DELETE_RANGE = 2;
    private static final int TAG_TXN = 3;
    private static final int TAG_COMPACT = 4;
    private static final int TAG_RANGE = 5;
    private static final int TAG_LEASE_GRANT = 16;
    private static final int TAG_LEASE_REVOKE = 17;
    private static final int TAG_LEASE_RENEW = 18;
    private static final int TAG_LEASE_EXPIRE = 19;
    private static final int TAG_LEASE_CHECKPOINT = 20;
    private static final int TAG_ALARM = 32;
    private static final int TAG_AUTH = 33;

    /**
     * Bounds on what a decoded command may contain.
     *
     * @param maxKeyBytes   longest key or range end
     * @param maxValueBytes longest value (compare operands included)
     * @param maxOps        most compares or ops in one txn list, or leases in one checkpoint
     * @param maxDepth      deepest txn nesting
     */
    public record Limits(int maxKeyBytes, int maxValueBytes, int maxOps, int maxDepth) {
        public Limits {
            Assert.that(maxKeyBytes > 0 && maxValueBytes > 0 && maxOps > 0 && maxDepth > 0,
                    "codec limits must be positive: key=%d value=%d ops=%d depth=%d",
                    maxKeyBytes, maxValueBytes, maxOps, maxDepth);
        }

        /** etcd's default request size cap is 1.5 MiB, so no key or value can exceed that. */
        public static Limits defaults() {
            return new Limits(1536 * 1024, 1536 * 1024, 4096, 64);
        }
    }

    /** Raised when bytes are not a well-formed command within the limits. */
    public static final class CodecException extends IllegalArgumentException {
        private static final long serialVersionUID = 1L;

        CodecException(String message) {
            super(message);
        }
    }

    private final Limits limits;

    public CommandCodec(Limits limits) {
        this.limits = limits;
    }

    // ------------------------------------------------------------- encode

    public byte[] encode(Command c) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(64);
        out.write(FORMAT);
        switch (c) {
            case PutRequest p -> put(out, p);
            case DeleteRangeRequest d -> delete(out, d);
            case TxnRequest t -> txn(out, t);
            case CompactRequest k -> {
                out.write(TAG_COMPACT);
                zigzag(out, k.revision());
            }
            case LeaseCommand l -> lease(out, l);
            case AlarmCommand a -> {
                out.write(TAG_ALARM);
                out.write(a.activate() ? 1 : 0);
                zigzag(out, a.memberId());
                out.write(a.type());
            }
            case AuthCommand a -> {
                out.write(TAG_AUTH);
                bytes(out, Bytes.copyOf(io.synod.mvcc.auth.AuthCodec.encode(a.op())));
            }
        }
        return out.toByteArray();
    }

    private static void put(ByteArrayOutputStream out, PutRequest p) {
        out.write(TAG_PUT);
        bytes(out, p.key());
        bytes(out, p.value());
        zigzag(out, p.lease());
        out.write(flags(p.prevKv(), p.ignoreValue(), p.ignoreLease()));
    }

    private static void lease(ByteArrayOutputStream out, LeaseCommand l) {
        switch (l) {
            case LeaseCommand.Grant g -> {
                out.write(TAG_LEASE_GRANT);
                zigzag(out, g.id());
                zigzag(out, g.ttlSeconds());
            }
            case LeaseCommand.Revoke r -> {
                out.write(TAG_LEASE_REVOKE);
                zigzag(out, r.id());
            }
            case LeaseCommand.Renew r -> {
                out.write(TAG_LEASE_RENEW);
                zigzag(out, r.id());
            }
            case LeaseCommand.Expire e -> {
                out.write(TAG_LEASE_EXPIRE);
                zigzag(out, e.id());
                zigzag(out, e.epoch());
            }
            case LeaseCommand.Checkpoint c -> {
                out.write(TAG_LEASE_CHECKPOINT);
                varint(out, c.leases().size());
                for (LeaseCommand.Remaining r : c.leases()) {
                    zigzag(out, r.id());
                    zigzag(out, r.epoch());
                    zigzag(out, r.remainingMillis());
                }
            }
        }
    }

    private static void delete(ByteArrayOutputStream out, DeleteRangeRequest d) {
        out.write(TAG_DELETE_RANGE);
        bytes(out, d.key());
        bytes(out, d.rangeEnd());
        out.write(flags(d.prevKv(), false, false));
    }

    private static void range(ByteArrayOutputStream out, RangeRequest r) {
        out.write(TAG_RANGE);
        bytes(out, r.key());
        bytes(out, r.rangeEnd());
        zigzag(out, r.limit());
        zigzag(out, r.revision());
        out.write(r.sortOrder().ordinal());
        out.write(r.sortTarget().ordinal());
        out.write(flags(r.serializable(), r.keysOnly(), r.countOnly()));
        zigzag(out, r.minModRevision());
        zigzag(out, r.maxModRevision());
        zigzag(out, r.minCreateRevision());
        zigzag(out, r.maxCreateRevision());
    }

    private static void txn(ByteArrayOutputStream out, TxnRequest t) {
        out.write(TAG_TXN);
        varint(out, t.compares().size());
        for (Compare c : t.compares()) {
            bytes(out, c.key());
            bytes(out, c.rangeEnd());
            out.write(c.op().ordinal());
            switch (c.target()) {
                case Compare.Version v -> { out.write(0); zigzag(out, v.version()); }
                case Compare.Create v -> { out.write(1); zigzag(out, v.revision()); }
                case Compare.Mod v -> { out.write(2); zigzag(out, v.revision()); }
                case Compare.Value v -> { out.write(3); bytes(out, v.value()); }
                case Compare.Lease v -> { out.write(4); zigzag(out, v.lease()); }
            }
        }
        ops(out, t.success());
        ops(out, t.failure());
    }

    private static void ops(ByteArrayOutputStream out, List<RequestOp> ops) {
        varint(out, ops.size());
        for (RequestOp op : ops) {
            switch (op) {
                case RangeRequest r -> range(out, r);
                case PutRequest p -> put(out, p);
                case DeleteRangeRequest d -> delete(out, d);
                case TxnRequest t -> txn(out, t);
            }
        }
    }

    private static int flags(boolean a, boolean b, boolean c) {
        return (a ? 1 : 0) | (b ? 2 : 0) | (c ? 4 : 0);
    }

    private static void bytes(ByteArrayOutputStream out, Bytes b) {
        varint(out, b.size());
        out.write(b.unsafeArray(), 0, b.size());
    }

    private static void zigzag(ByteArrayOutputStream out, long v) {
        varint(out, (v << 1) ^ (v >> 63));
    }

    private static void varint(ByteArrayOutputStream out, long v) {
        while ((v & ~0x7fL) != 0) {
            out.write((int) ((v & 0x7f) | 0x80));
            v >>>= 7;
        }
        out.write((int) v);
    }

    // ------------------------------------------------------------- decode

    public Command decode(byte[] data) {
        Reader r = new Reader(data);
        int format = r.u8("format");
        if (format != FORMAT) throw r.error("unknown command format " + format);
        int tag = r.u8("tag");
        Command c = switch (tag) {
            case TAG_PUT -> r.put();
            case TAG_DELETE_RANGE -> r.delete();
            case TAG_TXN -> r.txn(1);
            case TAG_COMPACT -> new CompactRequest(r.zigzag("compact revision"));
            case TAG_LEASE_GRANT -> r.grant();
            case TAG_LEASE_REVOKE -> new LeaseCommand.Revoke(r.zigzag("revoke lease id"));
            case TAG_LEASE_RENEW -> new LeaseCommand.Renew(r.zigzag("renew lease id"));
            case TAG_LEASE_EXPIRE -> new LeaseCommand.Expire(r.zigzag("expire lease id"), r.zigzag("expire epoch"));
            case TAG_LEASE_CHECKPOINT -> r.checkpoint();
            case TAG_ALARM -> r.alarm();
            case TAG_AUTH -> r.auth();
            default -> throw r.error("unknown command tag " + tag);
        };
        if (r.pos != data.length) throw r.error((data.length - r.pos) + " trailing bytes");
        return c;
    }

    private final class Reader {
        final byte[] data;
        int pos;

        Reader(byte[] data) {
            this.data = data;
        }

        CodecException error(String what) {
            return new CodecException("bad command at byte " + pos + " of " + data.length + ": " + what);
        }

        int u8(String what) {
            if (pos >= data.length) throw error("truncated reading " + what);
            return data[pos++] & 0xff;
        }

        long varint(String what) {
            long v = 0;
            for (int shift = 0; shift < 64; shift += 7) {
                int b = u8(what);
                // Only the shortest form is accepted, so every command has exactly one encoding.
                if (b == 0 && shift > 0) throw error("non-minimal varint reading " + what);
                if (shift == 63 && b > 1) throw error("varint overflows 64 bits reading " + what);
                v |= (long) (b & 0x7f) << shift;
                if ((b & 0x80) == 0) return v;
            }
            throw error("varint too long reading " + what);
        }

        long zigzag(String what) {
            long v = varint(what);
            return (v >>> 1) ^ -(v & 1);
        }

        int count(String what) {
            long n = varint(what);
            if (n < 0 || n > limits.maxOps()) throw error(what + " count " + n + " exceeds limit " + limits.maxOps());
            return (int) n;
        }

        Bytes bytes(String what, int max) {
            long n = varint(what + " length");
            if (n < 0 || n > max) throw error(what + " length " + n + " exceeds limit " + max);
            if (n > data.length - pos) throw error(what + " length " + n + " exceeds remaining " + (data.length - pos));
            Bytes b = Bytes.copyOf(data, pos, (int) n);
            pos += (int) n;
            return b;
        }

        Bytes key(String what) {
            return bytes(what, limits.maxKeyBytes());
        }

        int flags(String what) {
            int f = u8(what);
            if ((f & ~7) != 0) throw error("unknown " + what + " bits " + f);
            return f;
        }

        <E extends Enum<E>> E choice(E[] values, String what) {
            int i = u8(what);
            if (i >= values.length) throw error("unknown " + what + " " + i);
            return values[i];
        }

        AuthCommand auth() {
            Bytes op = bytes("auth op", data.length);
            try {
                return new AuthCommand(io.synod.mvcc.auth.AuthCodec.decodeOp(op.toByteArray()));
            } catch (IllegalArgumentException e) {
                throw error(e.getMessage());
            }
        }

        AlarmCommand alarm() {
            int activate = u8("alarm action");
            if (activate > 1) throw error("unknown alarm action " + activate);
            long member = zigzag("alarm member");
            int type = u8("alarm type");
            if (type != AlarmCommand.NOSPACE && type != AlarmCommand.CORRUPT) throw error("unknown alarm type " + type);
            return new AlarmCommand(activate == 1, member, type);
        }

        LeaseCommand.Grant grant() {
            long id = zigzag("grant lease id");
            long ttl = zigzag("grant ttl");
            if (id == 0) throw error("grant of lease id 0");
            if (ttl <= 0) throw error("grant ttl " + ttl + " is not positive");
            return new LeaseCommand.Grant(id, ttl);
        }

        LeaseCommand.Checkpoint checkpoint() {
            int n = count("checkpoint lease");
            List<LeaseCommand.Remaining> leases = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                long id = zigzag("checkpoint lease id");
                long epoch = zigzag("checkpoint epoch");
                long remaining = zigzag("checkpoint remaining");
                if (remaining < 0) throw error("checkpoint remaining " + remaining + " is negative");
                leases.add(new LeaseCommand.Remaining(id, epoch, remaining));
            }
            return new LeaseCommand.Checkpoint(leases);
        }

        PutRequest put() {
            Bytes key = key("put key");
            Bytes value = bytes("put value", limits.maxValueBytes());
            long lease = zigzag("put lease");
            int f = flags("put flags");
            return new PutRequest(key, value, lease, (f & 1) != 0, (f & 2) != 0, (f & 4) != 0);
        }

        DeleteRangeRequest delete() {
            Bytes key = key("delete key");
            Bytes end = key("delete range end");
            int f = flags("delete flags");
            if ((f & ~1) != 0) throw error("unknown delete flag bits " + f);
            return new DeleteRangeRequest(key, end, (f & 1) != 0);
        }

        RangeRequest range() {
            Bytes key = key("range key");
            Bytes end = key("range end");
            long limit = zigzag("range limit");
            long revision = zigzag("range revision");
            RangeRequest.SortOrder order = choice(RangeRequest.SortOrder.values(), "sort order");
            RangeRequest.SortTarget target = choice(RangeRequest.SortTarget.values(), "sort target");
            int f = flags("range flags");
            return new RangeRequest(key, end, limit, revision, order, target, (f & 1) != 0, (f & 2) != 0,
                    (f & 4) != 0, zigzag("min mod"), zigzag("max mod"), zigzag("min create"), zigzag("max create"));
        }

        TxnRequest txn(int depth) {
            if (depth > limits.maxDepth()) throw error("txn nesting deeper than " + limits.maxDepth());
            int n = count("compare");
            List<Compare> compares = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                Bytes key = key("compare key");
                Bytes end = key("compare range end");
                Compare.Op op = choice(Compare.Op.values(), "compare op");
                int target = u8("compare target");
                Compare.Target t = switch (target) {
                    case 0 -> new Compare.Version(zigzag("compare version"));
                    case 1 -> new Compare.Create(zigzag("compare create"));
                    case 2 -> new Compare.Mod(zigzag("compare mod"));
                    case 3 -> new Compare.Value(bytes("compare value", limits.maxValueBytes()));
                    case 4 -> new Compare.Lease(zigzag("compare lease"));
                    default -> throw error("unknown compare target " + target);
                };
                compares.add(new Compare(key, end, op, t));
            }
            List<RequestOp> success = ops(depth);
            List<RequestOp> failure = ops(depth);
            return new TxnRequest(compares, success, failure);
        }

        List<RequestOp> ops(int depth) {
            int n = count("op");
            List<RequestOp> ops = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                int tag = u8("op tag");
                ops.add(switch (tag) {
                    case TAG_RANGE -> range();
                    case TAG_PUT -> put();
                    case TAG_DELETE_RANGE -> delete();
                    case TAG_TXN -> txn(depth + 1);
                    default -> throw error("unknown op tag " + tag);
                });
            }
            return ops;
        }
    }
}
