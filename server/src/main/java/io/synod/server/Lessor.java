package io.synod.server;

import io.synod.mvcc.CommandCodec;
import io.synod.mvcc.Lease;
import io.synod.mvcc.LeaseCommand;
import io.synod.mvcc.LeaseListener;
import io.synod.mvcc.MvccStore;
import io.synod.replica.ReplicaDriver;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The leader's lease clock. Only the leader decides that a lease has run out, and it does so by
 * proposing an epoch-guarded {@link LeaseCommand.Expire}; followers keep no timers. Everything
 * else about leases is replicated state in the {@link MvccStore}; this class only turns it into
 * deadlines on the leader's monotonic clock.
 *
 * <p>Never early, across leader changes. A new leader starts its timers only after a ReadIndex of
 * its own term has been applied (so it has applied every renewal the old leader acknowledged),
 * and it starts each countdown from the replicated remaining time: the full TTL after a grant or
 * renewal, or what a checkpoint recorded. Each of those was measured by the old leader at some
 * moment before the new one starts counting, so the new deadline can only be later than the old
 * one. Periodic checkpoints bound how much later, per leader change: about one checkpoint interval plus the election
 * (so changes of leader faster than the checkpoint interval add up),
 * where etcd would restart the full TTL.
 *
 * <p>Keep-alives. A renewal is made on this clock alone when the log already records the lease's
 * full TTL ({@link #renewOnClock}, after a ReadIndex shows this member still leads), and through
 * the log otherwise: after a checkpoint recorded less, or once the lease has run out here. etcd's
 * leader renews on its clock alone too; the difference is that Synod's checkpoints never let a
 * new leader count down from a figure older than a renewal it cannot see.
 *
 * <p>Threads. {@link #onLease} runs on the apply thread, {@link #check} on the ticker; both take
 * this object's lock, briefly.
 */
final class Lessor implements LeaseListener {
    private static final Logger log = LoggerFactory.getLogger(Lessor.class);

    /** One lease's countdown on the leader. */
    private static final class Timer {
        long deadlineNanos;
        long epoch;
        long ttlSeconds;
        /** Remaining time the log holds for this lease, so checkpoints are only proposed when it drifted. */
        long recordedMillis;

        Timer(long deadlineNanos, Lease l) {
            this.deadlineNanos = deadlineNanos;
            this.epoch = l.epoch();
            this.ttlSeconds = l.ttlSeconds();
            this.recordedMillis = l.remainingMillis();
        }
    }

    private final ReplicaDriver driver;
    private final StoreHolder store;
    private final CommandCodec codec;
    private final LeaseOptions options;
    private final long memberId;
    private final LongSupplier clock;

    private final Map<Long, Timer> timers = new HashMap<>();
    /** Leases with an expiry in flight, by id and the epoch it names, so it is not proposed twice. */
    private final Set<Long> expiring = new HashSet<>();
    /** Leases half-way through a revoke (more keys than one command deletes): the leader finishes them. */
    private final Set<Long> revoking = new HashSet<>();
    private boolean active;
    private long activeTerm;
    private CompletableFuture<Long> activation;
    private long activationTerm;
    private long lastCheckpointNanos;

    Lessor(long memberId, ReplicaDriver driver, StoreHolder store, CommandCodec codec, LeaseOptions options, LongSupplier clock) {
        this.memberId = memberId;
        this.driver = driver;
        this.store = store;
        this.codec = codec;
        this.options = options;
        this.clock = clock;
    }

    long memberId() {
        return memberId;
    }

    /** True while this member leads and its timers are running. */
    synchronized boolean active() {
        return active;
    }

    /**
     * The term of this leader's timers if a keep-alive of lease {@code id} may be made on its clock
     * alone, without a log entry; 0 if it must go through the log as a {@link LeaseCommand.Renew}.
     * A renewal on the clock alone is lost when this leader goes, which is safe only because the next
     * leader restarts the lease from what the log records for it, counted from after its election: so
     * the log must record the full TTL for it (no checkpoint since its grant or latest logged renewal
     * said less), and the lease must not have run out here (an expiry may be in flight: only the log
     * orders a renewal against it).
     */
    synchronized long clockRenewalTerm(long id) {
        return clockRenewable(id) ? activeTerm : 0;
    }

    /**
     * Restarts lease {@code id}'s countdown from {@code receivedNanos} (when the keep-alive arrived,
     * by this member's clock) if it is still renewable on the clock in {@code term}; the caller has
     * confirmed since then that this member still leads (a ReadIndex), so every later leader is
     * elected after {@code receivedNanos} and starts this lease's full TTL no earlier. Returns the
     * TTL in seconds, or -1 when the renewal must go through the log after all.
     */
    synchronized long renewOnClock(long id, long term, long receivedNanos) {
        if (term != activeTerm || !clockRenewable(id)) return -1;
        Timer t = timers.get(id);
        long deadline = receivedNanos + t.ttlSeconds * 1_000_000_000L;
        if (deadline - t.deadlineNanos > 0) t.deadlineNanos = deadline;
        return t.ttlSeconds;
    }

    private boolean clockRenewable(long id) {
        if (!active) return false;
        Timer t = timers.get(id);
        return t != null && t.recordedMillis >= t.ttlSeconds * 1000 && t.deadlineNanos - clock.getAsLong() > 0 && !expiring.contains(id)
                && !revoking.contains(id);
    }

    /** Milliseconds left on lease {@code id} by this leader's clock, if its timers are running and it has the lease. */
    synchronized OptionalLong remainingMillis(long id) {
        if (!active) return OptionalLong.empty();
        Timer t = timers.get(id);
        if (t == null) return OptionalLong.empty();
        return OptionalLong.of(Math.max(0, (t.deadlineNanos - clock.getAsLong()) / 1_000_000));
    }

    @Override
    public synchronized void onLease(Change change, long id, Optional<Lease> lease) {
        if (!active) return;
        switch (change) {
            case GRANTED, RENEWED -> {
                Lease l = lease.orElseThrow();
                timers.put(id, new Timer(clock.getAsLong() + l.remainingMillis() * 1_000_000, l));
            }
            case CHECKPOINTED -> {
                Timer t = timers.get(id);
                if (t != null) t.recordedMillis = lease.orElseThrow().remainingMillis();
            }
            case REVOKING -> {
                timers.remove(id);
                revoking.add(id);
            }
            case REVOKED -> {
                timers.remove(id);
                expiring.remove(id);
                revoking.remove(id);
            }
        }
    }

    /** Called periodically: follows leadership, expires leases that ran out, records remaining time. */
    void check() {
        List<byte[]> proposals = new ArrayList<>();
        List<Long> expiringIds = new ArrayList<>();
        int checkpoints = 0;
        long term;
        synchronized (this) {
            if (driver.leader() != memberId || (active && driver.term() != activeTerm)) {
                if (active) log.info("lease timers stopped: no longer leader of term {}", activeTerm);
                active = false;
                timers.clear();
                expiring.clear();
                revoking.clear();
                activation = null;
                return;
            }
            if (!active) {
                activate();
                return;
            }
            term = activeTerm;
            long now = clock.getAsLong();
            // Continue revokes in progress: one more batch of keys per lease per check (each batch is bounded).
            for (long id : revoking) proposals.add(codec.encode(new LeaseCommand.Revoke(id)));
            for (Map.Entry<Long, Timer> e : timers.entrySet()) {
                if (expiringIds.size() >= options.expiriesPerCheckMax()) break;
                Timer t = e.getValue();
                if (t.deadlineNanos - now > 0 || expiring.contains(e.getKey())) continue;
                expiring.add(e.getKey());
                expiringIds.add(e.getKey());
                proposals.add(codec.encode(new LeaseCommand.Expire(e.getKey(), t.epoch)));
            }
            if (now - lastCheckpointNanos >= options.checkpointIntervalMillis() * 1_000_000) {
                lastCheckpointNanos = now;
                List<LeaseCommand.Remaining> batch = new ArrayList<>();
                for (Map.Entry<Long, Timer> e : timers.entrySet()) {
                    Timer t = e.getValue();
                    long remaining = Math.max(0, (t.deadlineNanos - now) / 1_000_000);
                    // Only worth a log entry if the log's figure overstates the time left by a noticeable margin.
                    if (t.recordedMillis - remaining < options.checkpointIntervalMillis() / 2) continue;
                    batch.add(new LeaseCommand.Remaining(e.getKey(), t.epoch, remaining));
                    t.recordedMillis = remaining;
                    if (batch.size() == options.checkpointBatchMax()) {
                        proposals.add(codec.encode(new LeaseCommand.Checkpoint(batch)));
                        checkpoints++;
                        batch = new ArrayList<>();
                    }
                }
                if (!batch.isEmpty()) {
                    proposals.add(codec.encode(new LeaseCommand.Checkpoint(batch)));
                    checkpoints++;
                }
            }
        }
        int firstExpiry = proposals.size() - expiringIds.size() - checkpoints;
        for (int i = 0; i < proposals.size(); i++) {
            // Fenced to the term they were decided in: on-clock renewals do not move a lease's epoch, so an expiry or
            // checkpoint held up past this leadership must not be appended by this member leading a later term.
            CompletableFuture<Object> f = driver.proposeInTerm(proposals.get(i), ReplicaDriver.Handoff.WAKE, term);
            if (i >= firstExpiry && i < firstExpiry + expiringIds.size()) {
                long id = expiringIds.get(i - firstExpiry);
                f.whenComplete((r, err) -> {
                    synchronized (this) {
                        expiring.remove(id);
                    }
                });
            }
        }
    }

    /** Starts the timers once a read index of this term has been applied, so the store holds every acknowledged renewal. */
    private void activate() {
        long term = driver.term();
        if (activation == null || activationTerm != term) {
            activation = driver.readIndex();
            activationTerm = term;
            return;
        }
        if (!activation.isDone()) return;
        if (activation.isCompletedExceptionally()) {
            activation = null;
            return;
        }
        long now = clock.getAsLong();
        timers.clear();
        expiring.clear();
        revoking.clear();
        for (Lease l : store.read(MvccStore::leases)) timers.put(l.id(), new Timer(now + l.remainingMillis() * 1_000_000, l));
        for (Lease l : store.read(MvccStore::revokingLeases)) revoking.add(l.id());
        active = true;
        activeTerm = term;
        lastCheckpointNanos = now;
        activation = null;
        log.info("lease timers started for term {}: {} leases", term, timers.size());
    }
}
