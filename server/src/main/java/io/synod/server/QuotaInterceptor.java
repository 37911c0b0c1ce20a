package io.synod.server;

import io.etcd.jetcd.api.LeaseGrantRequest;
import io.etcd.jetcd.api.PutRequest;
import io.etcd.jetcd.api.TxnRequest;
import io.grpc.Status;
import java.util.Optional;
import io.synod.mvcc.MvccError;
import io.synod.mvcc.MvccStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * etcd's backend quota, in front of the services as etcd's quota layer is: a request that would
 * grow the store (a put, a txn with a put, a lease grant) while the store's size plus the
 * request's cost exceeds {@code --quota-backend-bytes} raises the NOSPACE alarm through the log
 * and fails with RESOURCE_EXHAUSTED "etcdserver: mvcc: database space exceeded". Once the alarm is
 * raised, every member's store refuses such writes by itself (see {@link io.synod.mvcc.AlarmCommand});
 * reads, deletes and compaction go on, so an operator can free space, defragment and disarm.
 */
final class QuotaInterceptor extends MessageGate {
    private static final Logger log = LoggerFactory.getLogger(QuotaInterceptor.class);
    /** What etcd charges per key beyond its bytes (index and bookkeeping). */
    static final int KEY_OVERHEAD_BYTES = 256;

    private final StoreHolder store;
    private final Alarms alarms;
    private final long quotaBytes;
    private final long memberId;
    /** The store's size as last read, and when: reading RocksDB's properties on every write would cost more than it tells. */
    private volatile long sizeBytes = -1;
    private volatile long sizeReadNanos;
    static final long SIZE_REFRESH_NANOS = 100_000_000;

    QuotaInterceptor(StoreHolder store, Alarms alarms, long quotaBytes, long memberId) {
        this.store = store;
        this.alarms = alarms;
        this.quotaBytes = quotaBytes;
        this.memberId = memberId;
    }

    /** Bytes the request would add, 0 for one that cannot grow the store. */
    static long cost(Object message) {
        return switch (message) {
            case PutRequest p -> p.getKey().size() + p.getValue().size() + KEY_OVERHEAD_BYTES;
            case TxnRequest t -> {
                long c = 0;
                for (var op : t.getSuccessList()) if (op.hasRequestPut()) c += cost(op.getRequestPut());
                for (var op : t.getFailureList()) if (op.hasRequestPut()) c = Math.max(c, cost(op.getRequestPut()));
                yield c;
            }
            case LeaseGrantRequest g -> KEY_OVERHEAD_BYTES;
            default -> 0;
        };
    }

    @Override
    Optional<Status> refuse(Object message) {
        long cost = cost(message);
        if (cost > 0 && storeSize() + cost > quotaBytes) {
            raiseNoSpace();
            return Optional.of(Status.RESOURCE_EXHAUSTED.withDescription(MvccError.NO_SPACE.message()));
        }
        return Optional.empty();
    }

    private long storeSize() {
        long now = System.nanoTime();
        if (sizeBytes < 0 || now - sizeReadNanos > SIZE_REFRESH_NANOS) {
            sizeBytes = store.read(MvccStore::dbSizeBytes);
            sizeReadNanos = now;
        }
        return sizeBytes;
    }

    /**
     * Raises NOSPACE in the background: this may run on a transport thread (non-blocking calls are
     * served inline), which must never wait for a proposal to commit. The write is refused at once
     * either way; until the alarm is applied, later writes over the quota are refused here too.
     */
    private void raiseNoSpace() {
        if (alarms.noSpace() || !raising.compareAndSet(false, true)) return;
        java.util.concurrent.CompletableFuture.runAsync(() -> {
            try {
                log.warn("backend quota of {} bytes exceeded; raising the NOSPACE alarm", quotaBytes);
                alarms.raise(new Alarms.AlarmMember(memberId, Alarms.Alarm.NOSPACE));
            } catch (RuntimeException e) {
                log.warn("could not raise the NOSPACE alarm (writes over the quota are refused anyway)", e);
            } finally {
                raising.set(false);
            }
        });
    }

    private final java.util.concurrent.atomic.AtomicBoolean raising = new java.util.concurrent.atomic.AtomicBoolean();
}
