package io.synod.server;

import io.etcd.jetcd.api.RequestOp;
import io.grpc.Status;
import io.synod.common.Assert;
import java.util.ArrayDeque;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Admission of expensive client requests: range reads that may return many keys, and txns that
 * contain one. At most {@code permits} of them are served at once, each holding its permit until
 * its response has been sent to the client (or the call ended), so a client that floods the
 * member with full-keyspace reads, or sends them and stops reading the answers, holds at most
 * {@code permits} responses in this member's memory. Up to {@code queueMax} more wait for a
 * permit, first come first served, until their deadline; beyond that they are refused at once
 * with RESOURCE_EXHAUSTED "etcdserver: too many requests" (etcd's text for its own overload
 * refusal, which etcd clients report to the caller). Cheap requests (single keys, small limits,
 * writes) never pass through here, so they are not slowed by a flood of expensive ones.
 *
 * <p>Which requests are expensive is decided from the request alone, before any work: a range
 * with a {@code range_end} whose {@code limit} is 0 or above {@link #CHEAP_RANGE_LIMIT} (a small
 * prefix read that asks for everything counts too; the cost of finding out how many keys it has is
 * the cost being bounded).
 */
final class ExpensiveRequests {
    /** A range with a limit of at most this many keys is cheap, whatever range it covers (Kubernetes pages by 500). */
    static final long CHEAP_RANGE_LIMIT = 1000;

    static final String TOO_MANY_REQUESTS = "etcdserver: too many requests";

    private final int permits;
    private final int queueMax;
    private final ReentrantLock lock = new ReentrantLock();
    // Guarded by lock.
    private int inUse;
    private final ArrayDeque<Ticket> waiting = new ArrayDeque<>();
    private long admittedTotal;
    private long refusedTotal;

    ExpensiveRequests(int permits, int queueMax) {
        Assert.that(permits > 0 && queueMax >= 0, "expensive request permits %d and queue %d", permits, queueMax);
        this.permits = permits;
        this.queueMax = queueMax;
    }

    /** True for a range that may return many keys: a range_end, and no limit or a large one. */
    static boolean expensive(io.etcd.jetcd.api.RangeRequest r) {
        return !r.getRangeEnd().isEmpty() && (r.getLimit() <= 0 || r.getLimit() > CHEAP_RANGE_LIMIT);
    }

    /** True for a txn with an expensive range in either branch, nested txns included. */
    static boolean expensive(io.etcd.jetcd.api.TxnRequest t) {
        return t.getSuccessList().stream().anyMatch(ExpensiveRequests::expensive) || t.getFailureList().stream().anyMatch(ExpensiveRequests::expensive);
    }

    private static boolean expensive(RequestOp op) {
        return switch (op.getRequestCase()) {
            case REQUEST_RANGE -> expensive(op.getRequestRange());
            case REQUEST_TXN -> expensive(op.getRequestTxn());
            default -> false;
        };
    }

    /** Counters for tests and metrics. */
    record Stats(int inUse, int waiting, long admitted, long refused) {}

    Stats stats() {
        lock.lock();
        try {
            return new Stats(inUse, waiting.size(), admittedTotal, refusedTotal);
        } finally {
            lock.unlock();
        }
    }

    /** A new ticket; it claims nothing until {@link Ticket#enter}. */
    Ticket ticket() {
        return new Ticket();
    }

    private enum State { NEW, WAITING, HOLDING, DONE }

    /**
     * One request's claim on a permit. Created when the call starts and closed when it ends
     * (however it ends), which is what frees the permit or the place in the queue; closing is
     * idempotent and may race with admission from another thread.
     */
    final class Ticket {
        private State state = State.NEW; // guarded by lock
        private final CompletableFuture<Void> admitted = new CompletableFuture<>();

        /**
         * Asks for a permit, waiting at most until {@code deadlineNanos} ({@link System#nanoTime}).
         * The future completes on the thread that frees the permit (or this one), or fails with
         * RESOURCE_EXHAUSTED when the queue is full or the deadline passes first.
         */
        CompletableFuture<Void> enter(long deadlineNanos) {
            boolean now = false;
            boolean refused = false;
            lock.lock();
            try {
                Assert.that(state == State.NEW || state == State.DONE, "ticket entered twice, in state %s", state);
                if (state == State.DONE) return CompletableFuture.failedFuture(Status.CANCELLED.withDescription("synod: request ended").asRuntimeException());
                if (inUse < permits && waiting.isEmpty()) {
                    hold();
                    now = true;
                } else if (waiting.size() < queueMax) {
                    state = State.WAITING;
                    waiting.add(this);
                } else {
                    state = State.DONE;
                    refusedTotal++;
                    refused = true;
                }
            } finally {
                lock.unlock();
            }
            if (now) {
                admitted.complete(null);
            } else if (refused) {
                admitted.completeExceptionally(tooMany());
            } else {
                long wait = Math.max(0, deadlineNanos - System.nanoTime());
                CompletableFuture.delayedExecutor(wait, TimeUnit.NANOSECONDS).execute(this::expire);
            }
            return admitted;
        }

        /** Gives up waiting at the deadline (a no-op once admitted or closed). */
        private void expire() {
            lock.lock();
            try {
                if (state != State.WAITING) return;
                waiting.remove(this);
                state = State.DONE;
                refusedTotal++;
            } finally {
                lock.unlock();
            }
            admitted.completeExceptionally(tooMany());
        }

        /** The request ended: frees its permit (admitting the next waiter) or its place in the queue. */
        void close() {
            Ticket next = null;
            lock.lock();
            try {
                switch (state) {
                    case HOLDING -> {
                        inUse--;
                        Assert.that(inUse >= 0, "expensive request permits in use went negative: %d", inUse);
                        next = waiting.poll();
                        if (next != null) next.hold();
                    }
                    case WAITING -> waiting.remove(this);
                    case NEW, DONE -> { }
                }
                state = State.DONE;
            } finally {
                lock.unlock();
            }
            if (next != null) next.admitted.complete(null);
            admitted.completeExceptionally(Status.CANCELLED.withDescription("synod: request ended").asRuntimeException());
        }

        /** Takes a permit (lock held). */
        private void hold() {
            Assert.that(lock.isHeldByCurrentThread() && inUse < permits, "permit taken without room: %d of %d in use", inUse, permits);
            inUse++;
            admittedTotal++;
            state = State.HOLDING;
        }
    }

    private static RuntimeException tooMany() {
        return Status.RESOURCE_EXHAUSTED.withDescription(TOO_MANY_REQUESTS).asRuntimeException();
    }
}
