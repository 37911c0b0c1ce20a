package io.synod.server;

import io.synod.mvcc.CommandCodec;
import io.synod.mvcc.LeaseCommand;
import io.synod.mvcc.LeaseResponse;
import io.synod.replica.ReplicaDriver;
import io.synod.replica.ReplicaException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongSupplier;

/**
 * How the leader makes a lease keep-alive, its own clients' and those its followers forward.
 * Most renewals touch no disk: when the log already records the lease's full TTL, the leader
 * confirms it still leads with a ReadIndex (one heartbeat round, shared by every read and renewal
 * waiting at that moment) and restarts the countdown on its {@link Lessor}. The ReadIndex is what
 * makes this safe across a change of leader: a quorum answered this leader's heartbeat after the
 * keep-alive arrived, so any later leader was elected, and restarts the lease's full TTL, after
 * that. Otherwise the renewal is a {@link LeaseCommand.Renew} through the log, as every renewal
 * used to be: when a checkpoint recorded less than the full TTL, when the lease has run out on the
 * leader's clock (only the log orders a renewal against the expiry that may be in flight), or
 * while a new leader's timers are not yet running.
 *
 * <p>etcd's leader renews on its clock alone and without the ReadIndex, so a deposed leader that
 * has not noticed yet may tell a client a lease was renewed that its successor lets expire.
 */
final class KeepAlives {
    private final ReplicaDriver driver;
    private final Lessor lessor;
    private final CommandCodec codec;
    private final LongSupplier clock;
    private final long timeoutNanos;
    private final LongAdder onClock = new LongAdder();
    private final LongAdder throughLog = new LongAdder();

    KeepAlives(ReplicaDriver driver, Lessor lessor, CommandCodec codec, LongSupplier clock, long timeoutMillis) {
        this.driver = driver;
        this.lessor = lessor;
        this.codec = codec;
        this.clock = clock;
        this.timeoutNanos = timeoutMillis * 1_000_000;
    }

    /**
     * Renews lease {@code id} on this member, which must lead. Completes with the TTL in seconds
     * (0: no such lease), or fails with a {@link ReplicaException} (NOT_LEADER, also for a read or an
     * entry lost to a change of leader: try the new leader) or a timeout after the request timeout.
     * {@code how} hands the first event to the Raft loop (a transport thread in the middle of a
     * frame defers it).
     */
    CompletableFuture<Long> renewAtLeader(long id, ReplicaDriver.Handoff how) {
        // A renewal is idempotent: whatever a change of leader did to this attempt, the caller may simply try again.
        return attempt(id, how).exceptionallyCompose(failure -> {
            Throwable c = Proposer.cause(failure);
            if (c instanceof ReplicaException e && (e.kind() == ReplicaException.Kind.READ_ABORTED || e.kind() == ReplicaException.Kind.LEADER_CHANGED)) {
                return CompletableFuture.failedFuture(new ReplicaException(ReplicaException.Kind.NOT_LEADER, e.leaderHint(), e.getMessage()));
            }
            return CompletableFuture.failedFuture(c);
        });
    }

    private CompletableFuture<Long> attempt(long id, ReplicaDriver.Handoff how) {
        long received = clock.getAsLong();
        long deadline = received + timeoutNanos;
        long term = lessor.clockRenewalTerm(id);
        if (term == 0) return throughLog(id, how, deadline);
        CompletableFuture<Long> confirmed = driver.readIndex(how);
        return Proposer.within(confirmed, deadline).thenCompose(index -> {
            // The read index proves leadership in the term the read was made in: only if that is still the timers' term does it count.
            if (driver.term() == term && driver.leader() == lessor.memberId()) {
                long ttl = lessor.renewOnClock(id, term, received);
                if (ttl > 0) {
                    onClock.increment();
                    return CompletableFuture.completedFuture(ttl);
                }
            }
            return throughLog(id, ReplicaDriver.Handoff.RUN_HERE, deadline);
        });
    }

    /** One deadline for the whole renewal, ReadIndex included: the caller (or the forwarding follower) waits no longer. */
    private CompletableFuture<Long> throughLog(long id, ReplicaDriver.Handoff how, long deadline) {
        throughLog.increment();
        CompletableFuture<Object> applied = driver.propose(codec.encode(new LeaseCommand.Renew(id)), how);
        return Proposer.within(applied, deadline).thenApply(res -> {
            var l = (LeaseResponse) Proposer.outcome(res);
            return l.found() ? l.ttlSeconds() : 0L;
        });
    }

    /** Keep-alives this member made on its clock alone, as leader, since it started. */
    long onClockCount() {
        return onClock.sum();
    }

    /** Keep-alives this member proposed through the log, as leader, since it started. */
    long throughLogCount() {
        return throughLog.sum();
    }
}
