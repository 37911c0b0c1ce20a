package io.synod.chaos;

import io.etcd.jetcd.api.Compare;
import io.etcd.jetcd.api.PutRequest;
import io.etcd.jetcd.api.RequestOp;
import io.etcd.jetcd.api.TxnRequest;
import io.etcd.jetcd.api.TxnResponse;
import io.etcd.jetcd.api.lock.LockGrpc;
import io.etcd.jetcd.api.lock.LockRequest;
import io.etcd.jetcd.api.lock.LockResponse;
import io.etcd.jetcd.api.lock.UnlockRequest;
import io.synod.chaos.checkers.LockChecker;
import io.synod.chaos.checkers.LockChecker.FencedWrite;
import io.synod.chaos.checkers.LockChecker.KeyLife;
import io.synod.chaos.checkers.Violation;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * Lock workload: clients take the etcd v3 lock (LockGrpc, tied to a kept-alive lease), write a
 * protected key twice through a txn that compares the lock key's create revision with the fencing
 * token (the Lock response's header revision), and unlock. Lease expiry during partitions and
 * pauses makes holders lose the lock under their feet; the fencing compare is what must keep
 * their late writes out. After the run the lock keys' lifetimes and the protected key's writes
 * are read from the store's history and handed to {@link LockChecker}.
 */
public final class LockWorkload implements Workload {
    static final String NAME = "chaos-lock";
    static final String PROTECTED = "lock/protected";

    private final RunContext ctx;
    private final int clients;
    private final List<FencedWrite> acked = Collections.synchronizedList(new ArrayList<>());
    private final List<Thread> threads = new ArrayList<>();
    private final List<Long> leases = Collections.synchronizedList(new ArrayList<>());
    private int grants, fencedOff, lockFailures, unknownWrites;
    private String outcome = "";

    private final boolean unfenced;

    /**
     * @param unfenced negative control: protected writes are plain puts (no token compare) and holders dawdle
     *     0.5-3 s inside the critical section, so a holder whose lease expired under it keeps writing; the
     *     checker must then report it
     */
    public LockWorkload(RunContext ctx, int clients, boolean unfenced) {
        this.ctx = ctx;
        this.clients = clients;
        this.unfenced = unfenced;
    }

    @Override
    public String name() {
        return "lock";
    }

    @Override
    public void start() {
        for (int c = 0; c < clients; c++) {
            int client = c;
            threads.add(Thread.ofPlatform().daemon().name("lock-" + c).start(() -> loop(client)));
        }
    }

    private void loop(int client) {
        int member = client;
        long lease = 0;
        var leaseAlive = new java.util.concurrent.atomic.AtomicLong();
        Thread keeper = null;
        int seq = 0;
        while (!ctx.stopping()) {
            try {
                if (lease == 0 || leaseAlive.get() != lease) {
                    long[] g = Leases.grant(ctx, member, 2);
                    lease = g[0];
                    leases.add(lease);
                    leaseAlive.set(lease);
                    long id = lease;
                    int m = member;
                    keeper = Thread.ofPlatform().daemon().name("lock-" + client + "-keepalive").start(() -> {
                        int km = m;
                        long lastOk = System.nanoTime();
                        while (!ctx.stopping() && leaseAlive.get() == id) {
                            try {
                                if (Leases.keepAliveOnce(ctx, km, id) <= 0) leaseAlive.compareAndSet(id, 0);
                                lastOk = System.nanoTime();
                            } catch (Exception e) {
                                km++;
                                // Unrenewed for a whole TTL: the lease may be gone; the client takes a new one.
                                if (System.nanoTime() - lastOk > g[1] * 1_000_000_000L) leaseAlive.compareAndSet(id, 0);
                            }
                            RunContext.sleep(300);
                        }
                    });
                }
                LockResponse held;
                try {
                    held = LockGrpc.newBlockingStub(ctx.channel(member)).withDeadlineAfter(2 * ctx.callDeadlineMillis, TimeUnit.MILLISECONDS)
                            .lock(LockRequest.newBuilder().setName(RunContext.bs(NAME)).setLease(lease).build());
                } catch (RuntimeException e) {
                    count(() -> lockFailures++);
                    member++;
                    RunContext.sleep(100);
                    continue;
                }
                count(() -> grants++);
                long token = held.getHeader().getRevision();
                for (int s = 0; s < 2; s++) {
                    String value = token + ":" + client + ":" + (seq++);
                    var txn = unfenced
                            ? TxnRequest.newBuilder().addSuccess(RequestOp.newBuilder().setRequestPut(PutRequest.newBuilder()
                                    .setKey(RunContext.bs(PROTECTED)).setValue(RunContext.bs(value)))).build()
                            : TxnRequest.newBuilder()
                            .addCompare(Compare.newBuilder().setKey(held.getKey()).setTarget(Compare.CompareTarget.CREATE)
                                    .setResult(Compare.CompareResult.EQUAL).setCreateRevision(token))
                            .addSuccess(RequestOp.newBuilder().setRequestPut(PutRequest.newBuilder().setKey(RunContext.bs(PROTECTED))
                                    .setValue(RunContext.bs(value))))
                            .build();
                    try {
                        TxnResponse r = ctx.kv(member).txn(txn);
                        if (r.getSucceeded()) acked.add(new FencedWrite(r.getHeader().getRevision(), token, value));
                        else count(() -> fencedOff++);
                    } catch (RuntimeException e) {
                        count(() -> unknownWrites++);
                        member++;
                    }
                    RunContext.sleep(unfenced ? 500 + ThreadLocalRandom.current().nextLong(2500) : 10);
                }
                try {
                    LockGrpc.newBlockingStub(ctx.channel(member)).withDeadlineAfter(ctx.callDeadlineMillis, TimeUnit.MILLISECONDS)
                            .unlock(UnlockRequest.newBuilder().setKey(held.getKey()).build());
                } catch (RuntimeException e) {
                    member++;
                }
            } catch (RuntimeException e) {
                member++;
                RunContext.sleep(100);
            }
        }
        leaseAlive.set(0);
        if (keeper != null) {
            try {
                keeper.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private synchronized void count(Runnable r) {
        r.run();
    }

    @Override
    public void stopClients() throws InterruptedException {
        for (Thread t : threads) t.join();
    }

    @Override
    public List<Violation> finishAndCheck() throws Exception {
        // Release what the clients still hold (a few attempts each; a lease that is gone is fine either way).
        for (long id : List.copyOf(leases)) {
            for (int m = 0; m < ctx.cluster.members().size(); m++) {
                try {
                    Leases.revoke(ctx, m, id);
                    break;
                } catch (io.grpc.StatusRuntimeException e) {
                    if (e.getStatus().getCode() == io.grpc.Status.Code.NOT_FOUND) break;
                }
            }
        }
        long end = ctx.retry(30_000, m -> ctx.rangePrefix(m, NAME + "/").getHeader().getRevision());
        var lockEvents = ctx.retry(60_000, m -> call(() -> Watches.history(ctx, m, NAME + "/",
                RunContext.str(RunContext.prefixEnd(NAME + "/")), 1, end, 20_000)));
        var writes = ctx.retry(60_000, m -> call(() -> Watches.history(ctx, m, PROTECTED, null, 1, end, 20_000)));
        var lives = new ArrayList<KeyLife>();
        Map<String, Long> open = new HashMap<>();
        for (var e : lockEvents) {
            if (e.type().equals("PUT") && e.createRevision() == e.revision()) {
                open.put(e.key(), e.revision());
            } else if (e.type().equals("DELETE")) {
                Long created = open.remove(e.key());
                if (created != null) lives.add(new KeyLife(e.key(), created, e.revision()));
            }
        }
        open.forEach((k, c) -> lives.add(new KeyLife(k, c, Long.MAX_VALUE)));
        var history = new ArrayList<FencedWrite>();
        for (var w : writes) {
            if (w.type().equals("PUT")) history.add(new FencedWrite(w.revision(), Long.parseLong(w.value().split(":")[0]), w.value()));
        }
        outcome = lives.size() + " lock keys, " + history.size() + " protected writes in the history";
        List<FencedWrite> ack;
        synchronized (acked) {
            ack = List.copyOf(acked);
        }
        return LockChecker.check(lives, history, ack);
    }

    private static <T> T call(java.util.concurrent.Callable<T> c) {
        try {
            return c.call();
        } catch (RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public String summary() {
        return "lock" + (unfenced ? " (UNFENCED negative control)" : "") + ": " + grants + " grants, " + acked.size() + " fenced writes acknowledged, " + fencedOff + " fenced off, "
                + unknownWrites + " indeterminate, " + lockFailures + " failed lock calls; " + outcome;
    }
}
