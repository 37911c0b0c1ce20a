package io.synod.mvcc;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/** Random requests over a small key space, so that keys collide, ranges overlap and txns conflict. */
final class RandomCommands {
    private static final Bytes[] KEYS = {
        Bytes.utf8("a"), Bytes.utf8("ab"), Bytes.utf8("abc"), Bytes.utf8("b"), Bytes.utf8("c"),
        Bytes.copyOf(new byte[] {'c', 0}), Bytes.utf8("d"), Bytes.copyOf(new byte[] {(byte) 0xff}),
        Bytes.copyOf(new byte[] {(byte) 0xff, (byte) 0xff}), Bytes.copyOf(new byte[] {0})
    };
    private static final Bytes[] VALUES = {Bytes.EMPTY, Bytes.utf8("x"), Bytes.utf8("y"), Bytes.utf8("xy"), Bytes.utf8("z")};

    private final SplittableRandom rnd;
    /**
     * The epoch an expiry or checkpoint names for a lease id; tests that hold a model point it at
     * the model so that some of them match, by default a small random index.
     */
    java.util.function.LongUnaryOperator epochOf;

    RandomCommands(SplittableRandom rnd) {
        this.rnd = rnd;
        this.epochOf = id -> 1 + rnd.nextInt(40);
    }

    LeaseCommand leaseCommand() {
        long id = 1 + rnd.nextInt(3);
        return switch (rnd.nextInt(6)) {
            case 0, 1 -> new LeaseCommand.Grant(id, 1 + rnd.nextInt(100));
            case 2 -> new LeaseCommand.Revoke(id);
            case 3 -> new LeaseCommand.Renew(id);
            case 4 -> new LeaseCommand.Expire(id, rnd.nextInt(3) == 0 ? 1 + rnd.nextInt(40) : epochOf.applyAsLong(id));
            default -> {
                List<LeaseCommand.Remaining> rs = new ArrayList<>();
                for (int i = rnd.nextInt(4); i > 0; i--) {
                    long lid = 1 + rnd.nextInt(3);
                    rs.add(new LeaseCommand.Remaining(lid, rnd.nextInt(3) == 0 ? 1 + rnd.nextInt(40) : epochOf.applyAsLong(lid),
                            rnd.nextInt(200_000)));
                }
                yield new LeaseCommand.Checkpoint(rs);
            }
        };
    }

    Bytes key() {
        return KEYS[rnd.nextInt(KEYS.length)];
    }

    Bytes value() {
        return VALUES[rnd.nextInt(VALUES.length)];
    }

    /** A range end for {@code key}: single key, prefix, from-key, or an arbitrary (maybe inverted) end. */
    Bytes end(Bytes key) {
        return switch (rnd.nextInt(5)) {
            case 0, 1 -> Bytes.EMPTY;
            case 2 -> key.prefixEnd();
            case 3 -> Bytes.ZERO;
            default -> key();
        };
    }

    long lease() {
        return rnd.nextInt(4) == 0 ? 1 + rnd.nextInt(3) : 0;
    }

    PutRequest put() {
        int mode = rnd.nextInt(16);
        boolean ignoreValue = mode == 0;
        boolean ignoreLease = mode == 1;
        Bytes value = ignoreValue && rnd.nextInt(4) != 0 ? Bytes.EMPTY : value();
        long lease = ignoreLease && rnd.nextInt(4) != 0 ? 0 : lease();
        return new PutRequest(key(), value, lease, rnd.nextBoolean(), ignoreValue, ignoreLease);
    }

    DeleteRangeRequest delete() {
        Bytes k = key();
        return new DeleteRangeRequest(k, end(k), rnd.nextBoolean());
    }

    RangeRequest range(long maxRevision) {
        Bytes k = rnd.nextInt(8) == 0 ? Bytes.ZERO : key();
        Bytes e = rnd.nextInt(8) == 0 ? Bytes.ZERO : end(k);
        long rev = rnd.nextInt(3) == 0 ? 0 : rnd.nextLong(maxRevision + 2);
        RangeRequest.SortOrder order = RangeRequest.SortOrder.values()[rnd.nextInt(3)];
        RangeRequest.SortTarget target = RangeRequest.SortTarget.values()[rnd.nextInt(5)];
        long limit = rnd.nextInt(3) == 0 ? rnd.nextInt(4) : 0;
        long minMod = 0, maxMod = 0, minCreate = 0, maxCreate = 0;
        if (rnd.nextInt(6) == 0) minMod = rnd.nextLong(maxRevision + 1);
        if (rnd.nextInt(6) == 0) maxMod = rnd.nextLong(maxRevision + 1);
        if (rnd.nextInt(6) == 0) minCreate = rnd.nextLong(maxRevision + 1);
        if (rnd.nextInt(6) == 0) maxCreate = rnd.nextLong(maxRevision + 1);
        return new RangeRequest(k, e, limit, rev, order, target, rnd.nextBoolean(), rnd.nextInt(4) == 0,
                rnd.nextInt(6) == 0, minMod, maxMod, minCreate, maxCreate);
    }

    Compare compare() {
        Bytes k = key();
        Bytes e = rnd.nextInt(3) == 0 ? end(k) : Bytes.EMPTY;
        Compare.Op op = Compare.Op.values()[rnd.nextInt(4)];
        Compare.Target t = switch (rnd.nextInt(5)) {
            case 0 -> new Compare.Version(rnd.nextInt(4));
            case 1 -> new Compare.Create(rnd.nextInt(20));
            case 2 -> new Compare.Mod(rnd.nextInt(20));
            case 3 -> new Compare.Value(value());
            default -> new Compare.Lease(rnd.nextInt(4));
        };
        return new Compare(k, e, op, t);
    }

    TxnRequest txn(long maxRevision, int depth) {
        List<Compare> cs = new ArrayList<>();
        for (int i = rnd.nextInt(3); i > 0; i--) cs.add(compare());
        return new TxnRequest(cs, ops(maxRevision, depth), ops(maxRevision, depth));
    }

    private List<RequestOp> ops(long maxRevision, int depth) {
        List<RequestOp> ops = new ArrayList<>();
        for (int i = rnd.nextInt(5); i > 0; i--) {
            // Deletes are rarer than puts here: wide deletes overlapping puts make the txn a duplicate-key reject.
            int kind = rnd.nextInt(depth < 3 ? 10 : 9);
            ops.add(switch (kind) {
                case 0, 1, 2, 3 -> put();
                case 4 -> delete();
                case 5, 6, 7, 8 -> range(maxRevision);
                default -> txn(maxRevision, depth + 1);
            });
        }
        return ops;
    }

    Command command(long currentRevision, long compactRevision) {
        int kind = rnd.nextInt(23);
        if (kind < 8) return put();
        if (kind < 11) return delete();
        if (kind < 18) return txn(currentRevision, 1);
        if (kind >= 20) {
            // Now and then an alarm flips, so NOSPACE rejections are compared too (mostly cleared again soon).
            if (rnd.nextInt(12) == 0) return new AlarmCommand(rnd.nextInt(4) == 0, 1 + rnd.nextInt(2), AlarmCommand.NOSPACE);
            return leaseCommand();
        }
        return new CompactRequest(compactRevision - 1 + rnd.nextLong(currentRevision - compactRevision + 3));
    }
}
