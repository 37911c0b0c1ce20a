package io.synod.chaos;

import io.etcd.jetcd.api.PutRequest;
import io.etcd.jetcd.api.RangeRequest;
import io.synod.chaos.checkers.LeaseChecker;
import io.synod.chaos.checkers.LeaseChecker.LeaseRecord;
import io.synod.chaos.checkers.LeaseChecker.Read;
import io.synod.chaos.checkers.LeaseChecker.Renewal;
import io.synod.chaos.checkers.Violation;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Lease workload: each client repeatedly grants a lease, attaches a fresh key to it, keeps it
 * alive for a few seconds while reading the key linearizably, then either revokes the lease or
 * abandons it (stops renewing). Every grant, keep-alive and read is recorded with its times; after
 * the run the harness waits until every lease's latest possible deadline plus a grace period has
 * passed and reads every key once more. {@link LeaseChecker} then looks for keys that vanished
 * while their lease was provably alive, and keys that outlived their lease.
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
        long putAck = Long.MAX_VALUE, revokeInvoke = Long.MAX_VALUE, end = Long.MAX_VALUE;
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
        long grace = graceNanos();
        long latest = 0;
        for (Rec r : recs) {
            synchronized (r) {
                for (Renewal n : r.renewals) latest = Math.max(latest, n.returnNanos() + n.ttlSeconds() * 1_000_000_000L);
                latest = Math.max(latest, r.end);
            }
        }
        long waitUntil = latest + grace + 500_000_000L;
        while (System.nanoTime() < waitUntil) RunContext.sleep(100);
        var out = new ArrayList<LeaseRecord>();
        for (Rec r : recs) {
            long checkAt = System.nanoTime();
            boolean present = ctx.retry(30_000, m -> ctx.kv(m).range(RangeRequest.newBuilder().setKey(RunContext.bs(r.key)).build())
                    .getKvsCount() > 0);
            synchronized (r) {
                out.add(new LeaseRecord(r.id, r.key, r.putAck, List.copyOf(r.renewals), List.copyOf(r.reads), r.revokeInvoke, r.end,
                        present, checkAt));
            }
        }
        int reads = 0, renewals = 0, still = 0;
        for (LeaseRecord l : out) {
            reads += l.reads().size();
            renewals += l.renewals().size();
            if (l.finalPresent()) still++;
        }
        outcome = out.size() + " leases, " + renewals + " grants+keep-alives, " + reads + " reads, " + still + " keys left at the end";
        return LeaseChecker.check(out, grace);
    }

    /** Lateness the server is allowed: a new leader restarts countdowns from the last checkpoint, plus elections. */
    long graceNanos() {
        return (5_000 + 4 * ctx.cluster.electionTimeoutMillis()) * 1_000_000L;
    }

    @Override
    public String summary() {
        return "lease: " + outcome;
    }
}
