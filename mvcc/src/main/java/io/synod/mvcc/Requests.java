package io.synod.mvcc;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The checks etcd makes on a request's shape alone, before looking at any data: empty keys,
 * contradictory put flags, txn size and nesting, and keys written twice in one txn. Public so
 * the server can refuse bad requests before proposing them; the store repeats them at apply,
 * where they are deterministic because they depend only on the command and the options.
 */
public final class Requests {
    private Requests() {}

    public static Optional<MvccError> checkPut(PutRequest p) {
        if (p.key().isEmpty()) return Optional.of(MvccError.EMPTY_KEY);
        if (p.ignoreValue() && !p.value().isEmpty()) return Optional.of(MvccError.VALUE_PROVIDED);
        if (p.ignoreLease() && p.lease() != 0) return Optional.of(MvccError.LEASE_PROVIDED);
        return Optional.empty();
    }

    public static Optional<MvccError> checkRange(RangeRequest r) {
        return r.key().isEmpty() ? Optional.of(MvccError.EMPTY_KEY) : Optional.empty();
    }

    public static Optional<MvccError> checkTxn(TxnRequest t, MvccOptions options) {
        Optional<MvccError> shape = checkShape(t, options, 1);
        if (shape.isPresent()) return shape;
        try {
            writes(t.success());
            writes(t.failure());
        } catch (Duplicate d) {
            return Optional.of(MvccError.DUPLICATE_KEY);
        }
        return Optional.empty();
    }

    private static Optional<MvccError> checkShape(TxnRequest t, MvccOptions options, int depth) {
        if (depth > options.maxTxnDepth()) return Optional.of(MvccError.TXN_TOO_DEEP);
        int max = options.maxTxnOps();
        if (t.compares().size() > max || t.success().size() > max || t.failure().size() > max) {
            return Optional.of(MvccError.TOO_MANY_OPS);
        }
        for (List<RequestOp> branch : List.of(t.success(), t.failure())) {
            for (RequestOp op : branch) {
                Optional<MvccError> err = switch (op) {
                    case RangeRequest r -> checkRange(r);
                    case PutRequest p -> checkPut(p);
                    case DeleteRangeRequest d -> d.key().isEmpty() ? Optional.of(MvccError.EMPTY_KEY) : Optional.empty();
                    case TxnRequest nested -> checkShape(nested, options, depth + 1);
                };
                if (err.isPresent()) return err;
            }
        }
        return Optional.empty();
    }

    private static final class Duplicate extends Exception {
        private static final long serialVersionUID = 1L;

        Duplicate() {
            super(null, null, false, false);
        }
    }

    /** Keys put and ranges deleted by one list of ops, counting both branches of nested txns. */
    private record Writes(Set<Bytes> puts, List<DeleteRangeRequest> deletes) {}

    /**
     * Collects what a branch may write, failing if two of its ops could write the same key, by
     * etcd's rules: a put may not repeat a put of this level or of a nested txn, nor fall in a
     * delete of this level or of an earlier nested txn; the two branches of a nested txn are
     * alternatives, so each may put the same key. (As in etcd, a nested txn's put followed by a
     * later sibling's delete of that key is allowed: the key then changes twice in one revision.)
     */
    private static Writes writes(List<RequestOp> ops) throws Duplicate {
        List<DeleteRangeRequest> deletes = new ArrayList<>();
        for (RequestOp op : ops) {
            if (op instanceof DeleteRangeRequest d) deletes.add(d);
        }
        Set<Bytes> puts = new HashSet<>();
        for (RequestOp op : ops) {
            if (!(op instanceof TxnRequest nested)) continue;
            Writes then = writes(nested.success());
            Writes otherwise = writes(nested.failure());
            for (Bytes k : then.puts()) {
                if (puts.contains(k) || covered(k, deletes)) throw new Duplicate();
                puts.add(k);
            }
            for (Bytes k : otherwise.puts()) {
                if ((puts.contains(k) && !then.puts().contains(k)) || covered(k, deletes)) throw new Duplicate();
                puts.add(k);
            }
            deletes.addAll(then.deletes());
            deletes.addAll(otherwise.deletes());
        }
        for (RequestOp op : ops) {
            if (!(op instanceof PutRequest p)) continue;
            if (puts.contains(p.key()) || covered(p.key(), deletes)) throw new Duplicate();
            puts.add(p.key());
        }
        return new Writes(puts, deletes);
    }

    private static boolean covered(Bytes k, List<DeleteRangeRequest> deletes) {
        for (DeleteRangeRequest d : deletes) {
            if (KeyIndex.inRange(k, d.key(), d.rangeEnd())) return true;
        }
        return false;
    }
}
