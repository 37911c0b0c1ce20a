package io.synod.mvcc;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The obviously-correct reference: a full copy of the keyspace for every revision ever made,
 * and the events of each. Compaction is only a number here; physical removal must not be
 * observable, so the model has none.
 */
final class ModelStore {
    /** states.get(r) is the keyspace at revision r; index 0 is a placeholder. */
    private final List<TreeMap<Bytes, KeyValue>> states = new ArrayList<>(List.of(new TreeMap<>(), new TreeMap<>()));
    private final Map<Long, List<Event>> events = new HashMap<>();
    private final MvccOptions options;
    long compactRevision;
    /** Live leases; which keys belong to one is read off the current keyspace. */
    final TreeMap<Long, Lease> leases = new TreeMap<>();
    /** Raised alarms, oldest first. */
    final List<AlarmCommand.Raised> alarms = new ArrayList<>();

    private boolean noSpace() {
        return alarms.stream().anyMatch(a -> a.type() == AlarmCommand.NOSPACE);
    }

    ModelStore(MvccOptions options) {
        this.options = options;
    }

    long current() {
        return states.size() - 1;
    }

    private static boolean inRange(Bytes k, Bytes key, Bytes end) {
        if (end.size() == 0) return k.equals(key);
        if (end.equals(Bytes.ZERO)) return k.compareTo(key) >= 0;
        return k.compareTo(key) >= 0 && k.compareTo(end) < 0;
    }

    private static List<KeyValue> select(TreeMap<Bytes, KeyValue> state, Bytes key, Bytes end) {
        List<KeyValue> out = new ArrayList<>();
        for (KeyValue kv : state.values()) if (inRange(kv.key(), key, end)) out.add(kv);
        return out;
    }

    RangeResponse range(RangeRequest r) {
        if (r.key().isEmpty()) throw MvccError.EMPTY_KEY.exception();
        if (r.revision() > current()) throw MvccError.FUTURE_REVISION.exception();
        long rev = r.revision() <= 0 ? current() : r.revision();
        if (rev < compactRevision) throw MvccError.COMPACTED.exception();
        return rangeOn(states.get((int) rev), r, current());
    }

    private static RangeResponse rangeOn(TreeMap<Bytes, KeyValue> state, RangeRequest r, long header) {
        List<KeyValue> all = select(state, r.key(), r.rangeEnd());
        if (r.countOnly()) return new RangeResponse(header, List.of(), false, all.size());
        List<KeyValue> kept = new ArrayList<>();
        for (KeyValue kv : all) {
            if (r.minModRevision() > 0 && kv.modRevision() < r.minModRevision()) continue;
            if (r.maxModRevision() > 0 && kv.modRevision() > r.maxModRevision()) continue;
            if (r.minCreateRevision() > 0 && kv.createRevision() < r.minCreateRevision()) continue;
            if (r.maxCreateRevision() > 0 && kv.createRevision() > r.maxCreateRevision()) continue;
            kept.add(kv);
        }
        Comparator<KeyValue> by = switch (r.sortTarget()) {
            case KEY -> Comparator.comparing(KeyValue::key);
            case VERSION -> Comparator.comparingLong(KeyValue::version);
            case CREATE -> Comparator.comparingLong(KeyValue::createRevision);
            case MOD -> Comparator.comparingLong(KeyValue::modRevision);
            case VALUE -> Comparator.comparing(KeyValue::value);
        };
        if (r.sortOrder() == RangeRequest.SortOrder.DESCEND) kept.sort(by.reversed());
        else kept.sort(by); // NONE and ASCEND both come out ascending
        boolean more = r.limit() > 0 && kept.size() > r.limit();
        if (more) kept = new ArrayList<>(kept.subList(0, (int) r.limit()));
        if (r.keysOnly()) kept.replaceAll(kv -> new KeyValue(kv.key(), kv.createRevision(), kv.modRevision(),
                kv.version(), Bytes.EMPTY, kv.lease()));
        return new RangeResponse(header, kept, more, all.size());
    }

    /** Thrown inside the model's txn to abandon it with an error. */
    private static final class Refused extends RuntimeException {
        private static final long serialVersionUID = 1L;
        final transient MvccError error;

        Refused(MvccError error) {
            super(error.message(), null, false, false);
            this.error = error;
        }
    }

    /** One command's scratch state. */
    private final class Tx {
        final TreeMap<Bytes, KeyValue> before = states.get((int) current());
        final TreeMap<Bytes, KeyValue> work = new TreeMap<>(before);
        final long main = current() + 1;
        int sub;
        final List<Event> evs = new ArrayList<>();
        boolean puts;

        long now() {
            return sub > 0 ? main : main - 1;
        }

        PutResponse put(PutRequest p) {
            puts = true;
            KeyValue prev = work.get(p.key());
            if ((p.ignoreValue() || p.ignoreLease()) && prev == null) throw new Refused(MvccError.KEY_NOT_FOUND);
            if (!p.ignoreLease() && p.lease() != 0 && (!leases.containsKey(p.lease()) || leases.get(p.lease()).revoking())) {
                throw new Refused(MvccError.LEASE_NOT_FOUND);
            }
            Bytes value = p.ignoreValue() ? prev.value() : p.value();
            long lease = p.ignoreLease() ? prev.lease() : p.lease();
            KeyValue kv = new KeyValue(p.key(), prev == null ? main : prev.createRevision(), main,
                    prev == null ? 1 : prev.version() + 1, value, lease);
            work.put(p.key(), kv);
            evs.add(new Event(Event.Type.PUT, kv, Optional.ofNullable(prev), new Revision(main, sub++)));
            return new PutResponse(main, p.prevKv() ? Optional.ofNullable(prev) : Optional.empty());
        }

        DeleteRangeResponse delete(DeleteRangeRequest d) {
            List<KeyValue> gone = select(work, d.key(), d.rangeEnd());
            for (KeyValue kv : gone) {
                work.remove(kv.key());
                evs.add(new Event(Event.Type.DELETE, new KeyValue(kv.key(), 0, main, 0, Bytes.EMPTY, 0),
                        Optional.of(kv), new Revision(main, sub++)));
            }
            return new DeleteRangeResponse(now(), gone.size(), d.prevKv() ? gone : List.of());
        }

        RangeResponse range(RangeRequest r) {
            if (r.revision() > main - 1) throw new Refused(MvccError.FUTURE_REVISION);
            if (r.revision() > 0 && r.revision() < compactRevision) throw new Refused(MvccError.COMPACTED);
            return rangeOn(r.revision() > 0 ? states.get((int) r.revision()) : work, r, now());
        }

        boolean compares(TxnRequest t) {
            for (Compare c : t.compares()) {
                List<KeyValue> kvs = select(before, c.key(), c.rangeEnd());
                if (kvs.isEmpty()) {
                    if (c.target() instanceof Compare.Value) return false;
                    kvs = List.of(new KeyValue(c.key(), 0, 0, 0, Bytes.EMPTY, 0));
                }
                for (KeyValue kv : kvs) {
                    int cmp = switch (c.target()) {
                        case Compare.Version v -> Long.compare(kv.version(), v.version());
                        case Compare.Create v -> Long.compare(kv.createRevision(), v.revision());
                        case Compare.Mod v -> Long.compare(kv.modRevision(), v.revision());
                        case Compare.Lease v -> Long.compare(kv.lease(), v.lease());
                        case Compare.Value v -> kv.value().compareTo(v.value());
                    };
                    boolean ok = switch (c.op()) {
                        case EQUAL -> cmp == 0;
                        case NOT_EQUAL -> cmp != 0;
                        case LESS -> cmp < 0;
                        case GREATER -> cmp > 0;
                    };
                    if (!ok) return false;
                }
            }
            return true;
        }

        TxnResponse txn(TxnRequest t) {
            boolean ok = compares(t);
            List<Response> rs = new ArrayList<>();
            for (RequestOp op : ok ? t.success() : t.failure()) {
                rs.add(switch (op) {
                    case RangeRequest r -> range(r);
                    case PutRequest p -> put(p);
                    case DeleteRangeRequest d -> delete(d);
                    case TxnRequest n -> txn(n);
                });
            }
            return new TxnResponse(now(), ok, rs);
        }
    }

    /** Keys whose current version is attached to lease {@code id}, in key order. */
    List<Bytes> leaseKeys(long id) {
        List<Bytes> out = new ArrayList<>();
        for (KeyValue kv : states.get((int) current()).values()) if (kv.lease() == id) out.add(kv.key());
        return out;
    }

    private Result revoke(long id) {
        Lease l = leases.get(id);
        List<Bytes> keys = leaseKeys(id);
        Tx tx = new Tx();
        int n = Math.min(keys.size(), options.leaseRevokeKeysMax());
        for (Bytes k : keys.subList(0, n)) tx.delete(new DeleteRangeRequest(k, Bytes.EMPTY, false));
        if (tx.sub > 0) {
            states.add(tx.work);
            events.put(tx.main, List.copyOf(tx.evs));
        }
        boolean complete = n == keys.size();
        if (complete) leases.remove(id);
        else leases.put(id, new Lease(l.id(), l.ttlSeconds(), l.remainingMillis(), l.epoch(), true));
        return new Result.Applied(new LeaseResponse(tx.now(), id, l.ttlSeconds(), true, complete), tx.evs);
    }

    private Result applyLease(long index, LeaseCommand c) {
        switch (c) {
            case LeaseCommand.Grant g -> {
                if (leases.containsKey(g.id())) return new Result.Rejected(MvccError.LEASE_EXISTS);
                leases.put(g.id(), new Lease(g.id(), g.ttlSeconds(), g.ttlSeconds() * 1000, index));
                return new Result.Applied(new LeaseResponse(current(), g.id(), g.ttlSeconds(), true), List.of());
            }
            case LeaseCommand.Revoke r -> {
                if (!leases.containsKey(r.id())) return new Result.Rejected(MvccError.LEASE_NOT_FOUND);
                return revoke(r.id());
            }
            case LeaseCommand.Renew r -> {
                Lease l = leases.get(r.id());
                if (l == null || l.revoking()) return new Result.Applied(new LeaseResponse(current(), r.id(), 0, false), List.of());
                leases.put(r.id(), new Lease(l.id(), l.ttlSeconds(), l.ttlSeconds() * 1000, index));
                return new Result.Applied(new LeaseResponse(current(), r.id(), l.ttlSeconds(), true), List.of());
            }
            case LeaseCommand.Expire e -> {
                Lease l = leases.get(e.id());
                if (l == null || l.epoch() != e.epoch()) {
                    return new Result.Applied(new LeaseResponse(current(), e.id(), 0, false), List.of());
                }
                return revoke(e.id());
            }
            case LeaseCommand.Checkpoint cp -> {
                boolean any = false;
                for (LeaseCommand.Remaining r : cp.leases()) {
                    Lease l = leases.get(r.id());
                    if (l == null || l.epoch() != r.epoch() || l.revoking()) continue;
                    leases.put(l.id(), new Lease(l.id(), l.ttlSeconds(), Math.min(r.remainingMillis(), l.ttlSeconds() * 1000), l.epoch()));
                    any = true;
                }
                return new Result.Applied(new LeaseResponse(current(), 0, 0, any), List.of());
            }
        }
    }

    Result apply(long index, Command c) {
        if (c instanceof AlarmCommand a) {
            var r = new AlarmCommand.Raised(a.memberId(), a.type());
            boolean changed = a.activate() ? !alarms.contains(r) && alarms.add(r) : alarms.remove(r);
            return new Result.Applied(new AlarmResponse(current(), alarms, changed), List.of());
        }
        if (alarms.stream().anyMatch(a -> a.type() == AlarmCommand.CORRUPT) && (c instanceof PutRequest || c instanceof DeleteRangeRequest
                || c instanceof TxnRequest || c instanceof CompactRequest || c instanceof LeaseCommand.Grant || c instanceof LeaseCommand.Revoke)) {
            return new Result.Rejected(MvccError.CORRUPT);
        }
        if (noSpace() && (c instanceof PutRequest || c instanceof LeaseCommand.Grant)) {
            // Shape errors of a put still come first, as in the store.
            if (c instanceof PutRequest p && Requests.checkPut(p).isPresent()) return new Result.Rejected(Requests.checkPut(p).get());
            return new Result.Rejected(MvccError.NO_SPACE);
        }
        if (c instanceof LeaseCommand l) return applyLease(index, l);
        Optional<MvccError> shape = switch (c) {
            case PutRequest p -> Requests.checkPut(p);
            case DeleteRangeRequest d -> d.key().isEmpty() ? Optional.of(MvccError.EMPTY_KEY) : Optional.empty();
            case TxnRequest t -> Requests.checkTxn(t, options);
            case CompactRequest k -> Optional.empty();
            case LeaseCommand l -> throw new AssertionError(l);
            case AlarmCommand a -> throw new AssertionError(a);
            case AuthCommand a -> throw new AssertionError(a); // the model covers key-value state only
        };
        if (shape.isPresent()) return new Result.Rejected(shape.get());
        if (c instanceof CompactRequest k) {
            if (k.revision() <= compactRevision) return new Result.Rejected(MvccError.COMPACTED);
            if (k.revision() > current()) return new Result.Rejected(MvccError.FUTURE_REVISION);
            compactRevision = k.revision();
            return new Result.Applied(new CompactResponse(current()), List.of());
        }
        Tx tx = new Tx();
        Response resp;
        try {
            resp = switch (c) {
                case PutRequest p -> tx.put(p);
                case DeleteRangeRequest d -> tx.delete(d);
                case TxnRequest t -> tx.txn(t);
                case CompactRequest k -> throw new AssertionError(k);
                case LeaseCommand l -> throw new AssertionError(l);
                case AlarmCommand a -> throw new AssertionError(a);
                case AuthCommand a -> throw new AssertionError(a);
            };
        } catch (Refused r) {
            return new Result.Rejected(r.error);
        }
        if (tx.puts && noSpace()) return new Result.Rejected(MvccError.NO_SPACE);
        if (tx.sub > 0) {
            states.add(tx.work);
            events.put(tx.main, List.copyOf(tx.evs));
        }
        return new Result.Applied(resp, tx.evs);
    }

    /** Every event from {@code from} on, or the compacted error, as the store's catch-up must produce. */
    List<Event> changesSince(long from) {
        if (from <= compactRevision) throw MvccError.COMPACTED.exception();
        List<Event> out = new ArrayList<>();
        for (long r = Math.max(from, 2); r <= current(); r++) out.addAll(events.getOrDefault(r, List.of()));
        return out;
    }

    Iterator<Long> revisions() {
        return events.keySet().iterator();
    }
}
