package io.synod.server;

import com.google.protobuf.ByteString;
import io.etcd.jetcd.api.DeleteRangeRequest;
import io.etcd.jetcd.api.lock.LockGrpc;
import io.etcd.jetcd.api.lock.LockRequest;
import io.etcd.jetcd.api.lock.LockResponse;
import io.etcd.jetcd.api.lock.UnlockRequest;
import io.etcd.jetcd.api.lock.UnlockResponse;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import io.synod.mvcc.MvccError;

/**
 * etcd's server-side lock ({@code v3lockpb.Lock}), the one jetcd uses. Lock joins the
 * {@link KeyQueue} for the name with a key attached to the caller's lease and returns when every
 * earlier contender is gone; Unlock deletes that key. Waiters are served strictly in the order
 * they joined.
 *
 * <p>Fencing. The lock key's create revision increases strictly from one holder of a name to the
 * next, so it is the fencing token: the response header carries it as its revision (etcd fills
 * the header from whatever read came last), and protected writes can compare against it.
 *
 * <p>Safety re-check. Before answering, the holder's key is read again linearizably: if its lease
 * expired or was revoked while the caller waited, the key is gone and the call fails with
 * "requested lease not found" instead of granting a lock nobody holds (etcd once granted it).
 * A Lock call that fails or is cancelled while waiting removes its key, so it never blocks the line.
 */
final class LockService extends LockGrpc.LockImplBase {
    private final Proposer proposer;
    private final KvService kv;
    private final KeyQueue queue;

    LockService(Proposer proposer, KvService kv, KeyQueue queue) {
        this.proposer = proposer;
        this.kv = kv;
        this.queue = queue;
    }

    @Override
    public void lock(LockRequest request, StreamObserver<LockResponse> out) {
        // Waiting for a lock may take arbitrarily long, so it is not counted against the in-flight bound.
        try {
            out.onNext(lock(request));
            out.onCompleted();
        } catch (RuntimeException e) {
            out.onError(Proposer.toStatus(e));
        }
    }

    private LockResponse lock(LockRequest request) {
        if (request.getName().isEmpty()) throw EtcdProto.error(MvccError.EMPTY_KEY);
        if (request.getLease() == 0) {
            throw Status.INVALID_ARGUMENT.withDescription("synod: a lock must be tied to a lease (lease 0 given)").asRuntimeException();
        }
        KeyQueue.Entry me = queue.join(request.getName(), request.getLease(), ByteString.EMPTY);
        try {
            queue.awaitTurn(request.getName(), me.createRevision());
            if (queue.current(me).isEmpty()) throw EtcdProto.error(MvccError.LEASE_NOT_FOUND);
        } catch (RuntimeException e) {
            if (me.created()) release(me.key());
            throw e;
        }
        return LockResponse.newBuilder().setHeader(kv.header(me.createRevision())).setKey(me.key()).build();
    }

    private void release(ByteString key) {
        try {
            kv.deleteRange(DeleteRangeRequest.newBuilder().setKey(key).build());
        } catch (StatusRuntimeException ignored) {
            // Best effort: the key goes anyway when its lease does.
        }
    }

    @Override
    public void unlock(UnlockRequest request, StreamObserver<UnlockResponse> out) {
        proposer.respond(out, () -> {
            var r = kv.deleteRange(DeleteRangeRequest.newBuilder().setKey(request.getKey()).build());
            return UnlockResponse.newBuilder().setHeader(r.getHeader()).build();
        });
    }
}
