package io.synod.chaos;

import io.etcd.jetcd.api.PutRequest;
import io.etcd.jetcd.api.RangeRequest;
import io.synod.chaos.checkers.LeaseChecker;
import io.synod.chaos.checkers.LeaseChecker.LeaseRecord;
import io.synod.chaos.checkers.LeaseChecker.Read;
import io.synod.chaos.checkers.LeaseChecker.Renewal;
import io.synod.chaos.checkers.Violation;
import io.synod.server.ServerConfig;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Lease workload: each client repeatedly grants a lease, attaches a fresh key to it, keeps it
 * alive for a few seconds while reading the key linearizably, then either revokes the lease or
 * abandons it (stops renewing). Every grant, keep-alive and read is recorded with its times; after
 * the run the harness waits until every lease could have run out, then polls the keys until they
 * are gone or the leader has been in place for longer than a TTL (a new leader restarts the
 * countdowns, so leader churn may legitimately keep a lease alive). {@link LeaseChecker} then looks
 * for keys that vanished while their lease was provably alive, and keys that outlived their lease.
 */
public final class LeaseWorkload implements Workload {
    static final String PREFIX = "lease/";
    static final long TTL_SECONDS = 3;

    private final RunContext ctx;
    private final int clients;
    private final long seed;
    private final List<Rec> records = Collections.synchronizedList(new ArrayList<>());
    private final List<Thread> threads = new ArrayList<>();
    private String outcome = "";

    public LeaseWorkload(RunContext ctx, int clients, long seed) {
        this.ctx = ctx;
        this.clients = clients;
        this.seed = seed;
    }

    /** A lease being recorded (mutable while its client works on it). */
    private static final class Rec {
        final long id;
        final String key;
        long putAck = Long.MAX_VALUE, revokeInvoke = Long.MAX_VALUE, end = Long.MAX_VALUE, lastAttempt;
        final List<Renewal> renewals = new ArrayList<>();
        final List<Read> reads = new ArrayList<>();

        Rec(long id, String key) {
            this.id = id;
            this.key = key;
        }
    }

    @Override
    public String name() {
        return "lease";
    }

    @Override
    public void start() {
        for (int c = 0; c < clients; c++) {
            int client = c;
            threads.add(Thread.ofPlatform().daemon().name("lease-" + c).start(() -> loop(client)));
        }
    }

    private void loop(int client) {
        var random = new SplittableRandom(seed * 104_729 + client);
        int member = client + 2;
        for (int n = 0; !ctx.stopping(); n++) {
            Rec rec = null;
            try {
                long invoke = System.nanoTime();
                long[] g = Leases.grant(ctx, member, TTL_SECONDS);
                rec = new Rec(g[0], PREFIX + "c" + client + "/" + n);
                synchronized (rec) {
                    rec.lastAttempt = invoke;
                    rec.renewals.add(new Renewal(invoke, System.nanoTime(), g[1]));
                }
                records.add(rec);
                ctx.kv(member).put(PutRequest.newBuilder().setKey(RunContext.bs(rec.key)).setValue(RunContext.bs("v")).setLease(rec.id).build());
                synchronized (rec) {
                    rec.putAck = System.nanoTime();
                }
            } catch (RuntimeException e) {
                if (rec != null) {
                    synchronized (rec) {
                        rec.end = System.nanoTime(); // abandoned right away
                    }
                }
                member++;
                RunContext.sleep(200);
                continue;
            }
            long until = System.nanoTime() + (2000 + random.nextLong(4000)) * 1_000_000L;
            long nextRenew = 0;
            while (!ctx.stopping() && System.nanoTime() < until) {
                long now = System.nanoTime();
                if (now >= nextRenew) {
                    nextRenew = now + 500_000_000L;
                    synchronized (rec) {
                        rec.lastAttempt = now;
                    }
                    try {
                        long ttl = Leases.keepAliveOnce(ctx, member, rec.id);
                        synchronized (rec) {
                            rec.renewals.add(new Renewal(now, System.nanoTime(), ttl));
                        }
                    } catch (Exception e) {
                        member++;
                    }
                }
                long invoke = System.nanoTime();
                try {
                    boolean present = ctx.kv(member).range(RangeRequest.newBuilder().setKey(RunContext.bs(rec.key)).build()).getKvsCount() > 0;
                    synchronized (rec) {
                        rec.reads.add(new Read(invoke, System.nanoTime(), present));
                    }
                } catch (RuntimeException e) {
                    member++;
                }
                RunContext.sleep(150);
            }
            if (random.nextBoolean()) {
                synchronized (rec) {
                    rec.revokeInvoke = System.nanoTime();
                    rec.end = rec.revokeInvoke;
                    rec.lastAttempt = rec.revokeInvoke;
                }
                try {
                    Leases.revoke(ctx, member, rec.id);
                } catch (RuntimeException e) {
                    member++;
                }
            } else {
                synchronized (rec) {
                    rec.end = System.nanoTime();
                }
            }
        }
    }

    @Override
    public void stopClients() throws InterruptedException {
        for (Thread t : threads) t.join();
    }

    @Override
    public List<Violation> finishAndCheck() {
        List<Rec> recs;
        synchronized (records) {
            recs = List.copyOf(records);
        }
        // First wait until every lease could have run out without leader changes...
        long timeout = requestTimeoutNanos(), slack = SLACK_NANOS;
        long firstCheck = 0;
        for (Rec r : recs) {
            synchronized (r) {
                long ttl = 0;
                for (Renewal n : r.renewals) ttl = Math.max(ttl, n.ttlSeconds() * 1_000_000_000L);
                long last = r.end == Long.MAX_VALUE ? r.lastAttempt : Math.max(r.lastAttempt, r.end);
                firstCheck = Math.max(firstCheck, last + timeout + ttl + slack);
            }
        }
        while (System.nanoTime() < firstCheck) RunContext.sleep(100);
        // ...then poll until every key is gone, or the leader has been in place long enough that none may remain.
        long leaderSince = System.nanoTime();
        long[] leader = ctx.cluster.leaderAndTerm();
        long giveUp = System.nanoTime() + 60_000_000_000L;
        Map<Rec, long[]> finalState = new java.util.HashMap<>(); // present(1/0), checkAt, leaderSince
        while (true) {
            long[] now = ctx.cluster.leaderAndTerm();
            if (now[0] != leader[0] || now[1] != leader[1] || now[0] < 0) {
                leader = now;
                leaderSince = System.nanoTime();
            }
            boolean anyPresent = false;
            for (Rec r : recs) {
                long checkAt = System.nanoTime();
                boolean present = ctx.retry(30_000, m -> ctx.kv(m).range(RangeRequest.newBuilder().setKey(RunContext.bs(r.key)).build())
                        .getKvsCount() > 0);
                finalState.put(r, new long[] {present ? 1 : 0, checkAt, leaderSince});
                anyPresent |= present;
            }
            long settled = leaderSince + TTL_SECONDS * 1_000_000_000L + slack;
            if (!anyPresent || (leader[0] >= 0 && System.nanoTime() > settled) || System.nanoTime() > giveUp) break;
            RunContext.sleep(500);
        }
        var out = new ArrayList<LeaseRecord>();
        for (Rec r : recs) {
            long[] f = finalState.get(r);
            synchronized (r) {
                out.add(new LeaseRecord(r.id, r.key, r.putAck, List.copyOf(r.renewals), List.copyOf(r.reads), r.revokeInvoke, r.end,
                        r.lastAttempt, f[0] == 1, f[1], f[2]));
            }
        }
        int reads = 0, renewals = 0, still = 0;
        for (LeaseRecord l : out) {
            reads += l.reads().size();
            renewals += l.renewals().size();
            if (l.finalPresent()) still++;
        }
        outcome = out.size() + " leases, " + renewals + " grants+keep-alives, " + reads + " reads, " + still + " keys left at the end";
        return LeaseChecker.check(out, timeout, slack);
    }

    /** How long after it was sent the server may still apply a request the client gave up on: its request timeout, plus a margin. */
    static long requestTimeoutNanos() {
        return (ServerConfig.DEFAULT_REQUEST_TIMEOUT_MILLIS + 1000) * 1_000_000L;
    }

    /** The expiry check's period, the new leader's activation read and the commit of the expiry, under load. */
    static final long SLACK_NANOS = 3_000_000_000L;

    @Override
    public String summary() {
        return "lease: " + outcome;
    }
}
