package io.synod.server;

import io.synod.consensus.ProposeResult;
import io.synod.replica.ReplicaDriver;
import io.synod.replica.ReplicaException;
import io.synod.server.transport.ForwardMessage;
import io.synod.server.transport.PeerTransport;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * Forwards a follower's writes to the leader inside the peer streams (etcd forwards a follower's
 * proposal in its Raft stream the same way), instead of one gRPC call per write: on a 3-member
 * cluster two thirds of the writes arrive at followers, and a call each cost the leader a whole
 * HTTP/2 request and response on top of the client's.
 *
 * <p>Both sides of the exchange. The follower sends the encoded command as a
 * {@link ForwardMessage.Proposal} and remembers the request; the leader proposes it
 * ({@link ReplicaDriver#proposeFor}) and, on its Raft loop before the Ready that carries the entry,
 * sends back an {@link ForwardMessage.Answer} with the entry's term and index (or the refusal). The
 * answer and the appends travel on the same ordered stream, so the follower registers its wait for
 * that entry ({@link ReplicaDriver#awaitEntry}, queued on the same inbox as the appends) before
 * it can apply it, and answers its client with the result of its own apply. A refusal (not the
 * leader, an election) means nothing was appended: the caller retries; so does a proposal that
 * certainly never left this member (the link to the leader was down: {@link PeerTransport}
 * reports it), and a write is only started on a link that looks healthy. A message lost after it
 * was written means no answer: the request times out with an unknown outcome, as a write does when
 * its leader fails (etcd's followers behave the same).
 *
 * <p>Lease keep-alives take the same road as a {@link ForwardMessage.Renewal}: the leader makes the
 * renewal ({@link #serveRenewals}, usually on its clock alone) and answers with a
 * {@link ForwardMessage.Renewed} carrying the TTL, since a renewal need not be applied here.
 */
final class WriteForwarder {
    private final long memberId;
    private final ReplicaDriver driver;
    private final PeerTransport transport;
    private final AtomicLong requestIds = new AtomicLong();
    /** Requests sent and not yet answered, by request id; an entry leaves on the answer or on its caller's timeout. */
    private final ConcurrentHashMap<Long, CompletableFuture<Object>> waiting = new ConcurrentHashMap<>();
    private final LongAdder forwarded = new LongAdder();
    private final LongAdder served = new LongAdder();
    private final LongAdder renewalsForwarded = new LongAdder();
    private volatile java.util.function.LongFunction<CompletableFuture<Long>> renewer = id -> CompletableFuture.failedFuture(
            new ReplicaException(ReplicaException.Kind.NOT_LEADER, "renewals are not served yet"));

    WriteForwarder(long memberId, ReplicaDriver driver, PeerTransport transport) {
        this.memberId = memberId;
        this.driver = driver;
        this.transport = transport;
        transport.onUnsentRequests(this::unsent);
    }

    /** Whether a write for {@code leader} can go now; if not, the caller backs off and tries again (perhaps another leader). */
    boolean canForwardTo(long leader) {
        return transport.canSend(leader);
    }

    /** A request that never left this member: nothing was appended or renewed, so its caller may retry. */
    private void unsent(ForwardMessage.Request r) {
        CompletableFuture<Object> result = waiting.remove(r.requestId());
        if (result != null) {
            result.completeExceptionally(new ReplicaException(ReplicaException.Kind.NOT_LEADER, r.to(),
                    "the forwarded request could not be sent to member " + Long.toHexString(r.to())));
        }
    }

    /**
     * Sends {@code command} to {@code leader}. The future completes with this member's apply result
     * for the entry, or fails with the {@link ReplicaException} of the leader's refusal (NOT_LEADER:
     * retry) or of the wait. It never times out by itself: the caller bounds it, and completing it
     * (e.g. by {@link CompletableFuture#orTimeout}) forgets the request.
     */
    CompletableFuture<Object> propose(long leader, byte[] command) {
        forwarded.increment();
        return request(id -> new ForwardMessage.Proposal(memberId, leader, id, command));
    }

    /**
     * Sends a keep-alive of lease {@code leaseId} to {@code leader}. The future completes with the
     * TTL in seconds the leader answered (0: no such lease), or fails as {@link #propose} does.
     */
    CompletableFuture<Long> renew(long leader, long leaseId) {
        renewalsForwarded.increment();
        return request(id -> new ForwardMessage.Renewal(memberId, leader, id, leaseId));
    }

    /**
     * Sends the request {@code message} makes of a fresh id and returns the very future that waits
     * for its answer, so that whoever completes it (the caller's deadline) also forgets the request.
     * {@code T} is what the answer completes it with: the apply result for a proposal, the TTL
     * ({@code Long}) for a renewal.
     */
    @SuppressWarnings("unchecked")
    private <T> CompletableFuture<T> request(java.util.function.LongFunction<ForwardMessage.Request> message) {
        long id = requestIds.incrementAndGet();
        var result = new CompletableFuture<T>();
        waiting.put(id, (CompletableFuture<Object>) (CompletableFuture<?>) result);
        result.whenComplete((r, t) -> waiting.remove(id));
        transport.send(List.of(message.apply(id)));
        return result;
    }

    /**
     * How this member, when it leads, makes a keep-alive a follower forwarded: the future completes
     * with the TTL, or fails with the {@link ReplicaException} that says why not. Set once at start.
     */
    void serveRenewals(java.util.function.LongFunction<CompletableFuture<Long>> renewer) {
        this.renewer = renewer;
    }

    /**
     * Handles a forwarding message from a peer, on the transport thread that decoded it (in stream
     * order). What it queues for the Raft loop is queued with {@link ReplicaDriver.Handoff#DEFER}:
     * the caller runs the pass once the whole frame is queued.
     */
    void receive(ForwardMessage m) {
        switch (m) {
            case ForwardMessage.Proposal p -> onProposal(p);
            case ForwardMessage.Answer a -> onAnswer(a);
            case ForwardMessage.Renewal r -> onRenewal(r);
            case ForwardMessage.Renewed r -> onRenewed(r);
        }
    }

    private void onRenewal(ForwardMessage.Renewal r) {
        CompletableFuture<Long> renewed;
        try {
            renewed = renewer.apply(r.leaseId());
        } catch (RuntimeException e) {
            renewed = CompletableFuture.failedFuture(e);
        }
        renewed.whenComplete((ttl, failure) -> {
            if (failure == null) {
                transport.send(List.of(new ForwardMessage.Renewed(memberId, r.from(), r.requestId(), ttl, null, memberId)));
                return;
            }
            Throwable c = Proposer.cause(failure);
            // Anything else (a timeout here) goes unanswered: the follower's caller times out, as when a message is lost.
            if (c instanceof ReplicaException e) {
                long leader = driver.leader();
                boolean elsewhere = leader != memberId && leader != io.synod.consensus.SoftState.NO_LEADER;
                var reason = e.kind() == ReplicaException.Kind.OVERLOADED ? ProposeResult.Reason.OVERLOADED
                        : elsewhere ? ProposeResult.Reason.NOT_LEADER : ProposeResult.Reason.NO_LEADER;
                transport.send(List.of(new ForwardMessage.Renewed(memberId, r.from(), r.requestId(), 0, reason, leader)));
            }
        });
    }

    private void onRenewed(ForwardMessage.Renewed r) {
        CompletableFuture<Object> result = waiting.remove(r.requestId());
        if (result == null) return;
        if (r.refusal() == null) {
            result.complete(r.ttlSeconds());
        } else {
            result.completeExceptionally(ReplicaDriver.rejection(new ProposeResult.Rejected(r.refusal(), r.leaderHint(),
                    "renewal refused by member " + Long.toHexString(r.from()))));
        }
    }

    private void onProposal(ForwardMessage.Proposal p) {
        served.increment();
        boolean queued = driver.proposeFor(p.command(), result -> transport.send(List.of(answer(p, result))), ReplicaDriver.Handoff.DEFER);
        if (!queued) {
            transport.send(List.of(new ForwardMessage.Answer(memberId, p.from(), p.requestId(), 0, 0, ProposeResult.Reason.OVERLOADED,
                    driver.leader())));
        }
    }

    private ForwardMessage.Answer answer(ForwardMessage.Proposal p, ProposeResult result) {
        return switch (result) {
            case ProposeResult.Accepted a -> new ForwardMessage.Answer(memberId, p.from(), p.requestId(), a.term(), a.index(), null, memberId);
            case ProposeResult.Rejected r -> new ForwardMessage.Answer(memberId, p.from(), p.requestId(), 0, 0, r.reason(), r.leaderHint());
        };
    }

    private void onAnswer(ForwardMessage.Answer a) {
        CompletableFuture<Object> result = waiting.remove(a.requestId());
        if (result == null) return; // the caller gave up (timed out); if the entry commits, nobody waits for it
        if (!a.accepted()) {
            result.completeExceptionally(ReplicaDriver.rejection(new ProposeResult.Rejected(a.refusal(), a.leaderHint(),
                    "refused by member " + Long.toHexString(a.from()))));
            return;
        }
        // Queued now, on the thread that read the answer, so the wait is registered ahead of the appends that follow it.
        driver.awaitEntry(a.entryTerm(), a.entryIndex(), ReplicaDriver.Handoff.DEFER).whenComplete((r, t) -> {
            if (t == null) result.complete(r);
            else result.completeExceptionally(t);
        });
    }

    /** Requests sent and neither answered nor given up on yet. */
    int waitingCount() {
        return waiting.size();
    }

    /** Keep-alives this member forwarded through the peer streams since it started. */
    long renewalsForwardedCount() {
        return renewalsForwarded.sum();
    }

    /** Writes this member forwarded through the peer streams since it started. */
    long forwardedCount() {
        return forwarded.sum();
    }

    /** Forwarded writes this member received to propose as leader since it started. */
    long servedCount() {
        return served.sum();
    }
}
