package io.synod.server;

import com.google.protobuf.ByteString;
import io.etcd.jetcd.api.Compare;
import io.etcd.jetcd.api.KeyValue;
import io.etcd.jetcd.api.PutRequest;
import io.etcd.jetcd.api.RangeRequest;
import io.etcd.jetcd.api.RequestOp;
import io.etcd.jetcd.api.TxnRequest;
import io.etcd.jetcd.api.TxnResponse;
import io.grpc.Context;
import io.grpc.Status;
import io.synod.mvcc.Bytes;
import java.util.Optional;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * The fair queue under etcd's lock and election: each contender owns one key {@code <name>/<lease
 * in hex>} attached to its lease, and its place in line is that key's create revision. A
 * contender's turn comes when every key under the prefix with a smaller create revision is gone
 * (released, resigned, or deleted because its lease expired). Built from KV operations only, the
 * same way etcd's client-side recipes are, so the server-side services and {@code etcdctl lock} /
 * {@code etcdctl elect} contend in one queue.
 */
final class KeyQueue {
    /** A contender's key and its place in line. */
    record Entry(ByteString key, long createRevision, boolean created, KeyValue kv) {}

    private final KvService kv;
    private final KeyWaiters waiters;
    private final java.util.function.Function<io.synod.mvcc.RangeRequest, io.synod.mvcc.RangeResponse> localRange;

    KeyQueue(KvService kv, KeyWaiters waiters, java.util.function.Function<io.synod.mvcc.RangeRequest, io.synod.mvcc.RangeResponse> localRange) {
        this.kv = kv;
        this.waiters = waiters;
        this.localRange = localRange;
    }

    static ByteString prefix(ByteString name) {
        return name.concat(ByteString.copyFromUtf8("/"));
    }

    static ByteString keyFor(ByteString name, long lease) {
        return prefix(name).concat(ByteString.copyFromUtf8(Long.toHexString(lease)));
    }

    static ByteString prefixEnd(ByteString prefix) {
        return EtcdProto.byteString(EtcdProto.bytes(prefix).prefixEnd());
    }

    /** Creates the contender's key with {@code value} unless it exists; either way returns it with its create revision. */
    Entry join(ByteString name, long lease, ByteString value) {
        ByteString key = keyFor(name, lease);
        TxnRequest txn = TxnRequest.newBuilder()
                .addCompare(Compare.newBuilder().setKey(key).setTarget(Compare.CompareTarget.CREATE).setResult(Compare.CompareResult.EQUAL)
                        .setCreateRevision(0))
                .addSuccess(RequestOp.newBuilder().setRequestPut(PutRequest.newBuilder().setKey(key).setValue(value).setLease(lease)))
                .addSuccess(RequestOp.newBuilder().setRequestRange(RangeRequest.newBuilder().setKey(key)))
                .addFailure(RequestOp.newBuilder().setRequestRange(RangeRequest.newBuilder().setKey(key)))
                .build();
        TxnResponse r = kv.txn(txn);
        var kvs = r.getResponses(r.getSucceeded() ? 1 : 0).getResponseRange().getKvsList();
        if (kvs.isEmpty()) {
            // Only possible if the key was deleted between the txn's ops, which a txn rules out.
            throw Status.INTERNAL.withDescription("synod: queue key " + key.toStringUtf8() + " vanished inside its txn").asRuntimeException();
        }
        return new Entry(key, kvs.get(0).getCreateRevision(), r.getSucceeded(), kvs.get(0));
    }

    /** The first contender (smallest create revision) under {@code name}, read linearizably. */
    Optional<KeyValue> head(ByteString name) {
        ByteString p = prefix(name);
        var r = kv.range(RangeRequest.newBuilder().setKey(p).setRangeEnd(prefixEnd(p)).setSortTarget(RangeRequest.SortTarget.CREATE)
                .setSortOrder(RangeRequest.SortOrder.ASCEND).setLimit(1).build());
        return r.getKvsList().stream().findFirst();
    }

    /** The contender's key as it is now (linearizable), if it still exists in the same incarnation. */
    Optional<KeyValue> current(Entry e) {
        var r = kv.range(RangeRequest.newBuilder().setKey(e.key()).build());
        return r.getKvsList().stream().filter(k -> k.getCreateRevision() == e.createRevision()).findFirst();
    }

    /**
     * Blocks until no key under {@code name}'s prefix was created before {@code createRevision}.
     * Ends early, with the matching gRPC error, when the call is cancelled or its deadline passes.
     */
    void awaitTurn(ByteString name, long createRevision) {
        ByteString p = prefix(name);
        Context ctx = Context.current();
        while (true) {
            var r = kv.range(RangeRequest.newBuilder().setKey(p).setRangeEnd(prefixEnd(p)).setSortTarget(RangeRequest.SortTarget.CREATE)
                    .setSortOrder(RangeRequest.SortOrder.DESCEND).setLimit(1).setMaxCreateRevision(createRevision - 1).build());
            if (r.getKvsList().isEmpty()) return;
            KeyValue ahead = r.getKvs(0);
            Bytes aheadKey = EtcdProto.bytes(ahead.getKey());
            var woken = new Semaphore(0);
            try (AutoCloseable sub = waiters.onDelete(aheadKey, woken::release)) {
                // Subscribed first, then checked: a delete in between is seen by one or the other.
                var now = localRange.apply(io.synod.mvcc.RangeRequest.single(aheadKey)).kvs();
                if (now.isEmpty() || now.get(0).createRevision() != ahead.getCreateRevision()) continue;
                while (!woken.tryAcquire(100, TimeUnit.MILLISECONDS)) {
                    if (ctx.isCancelled()) {
                        Throwable cause = ctx.cancellationCause();
                        throw (ctx.getDeadline() != null && ctx.getDeadline().isExpired() ? Status.DEADLINE_EXCEEDED : Status.CANCELLED)
                                .withDescription("synod: gave up waiting for " + ahead.getKey().toStringUtf8()).withCause(cause).asRuntimeException();
                    }
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw Status.CANCELLED.withDescription("interrupted").asRuntimeException();
            } catch (RuntimeException e) {
                throw e;
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }
    }
}
