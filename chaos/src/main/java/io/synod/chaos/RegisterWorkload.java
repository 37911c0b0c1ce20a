package io.synod.chaos;

import io.etcd.jetcd.api.Compare;
import io.etcd.jetcd.api.PutRequest;
import io.etcd.jetcd.api.RangeRequest;
import io.etcd.jetcd.api.RangeResponse;
import io.etcd.jetcd.api.RequestOp;
import io.etcd.jetcd.api.TxnRequest;
import io.etcd.jetcd.api.TxnResponse;
import io.synod.chaos.checkers.RegisterChecker;
import io.synod.chaos.checkers.RevisionChecker;
import io.synod.chaos.checkers.Violation;
import io.synod.check.CheckResult;
import io.synod.check.Operation;
import io.synod.check.kv.KvInput;
import io.synod.check.kv.KvModel;
import io.synod.check.kv.KvOutput;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Register workload: several clients put, read linearizably and compare-and-swap a few keys,
 * writing unique values. Keys rotate to fresh names every few seconds so each key's history stays
 * small enough for the linearizability search (Porcupine's advice). A write that fails or times out
 * is recorded as indeterminate (it may take effect any time later, or never); a failed read is
 * dropped (it had no effect). The history goes to {@link RegisterChecker}; the header revisions of
 * acknowledged operations go to {@link RevisionChecker} (the revision never goes back in real time).
 */
public final class RegisterWorkload implements Workload {
    static final int KEYS = 3;
    static final long KEY_LIFETIME_MILLIS = 3000;
    static final long CHECK_BUDGET_MILLIS = 60_000;

    private final RunContext ctx;
    private final int clients;
    private final long seed;
    private final List<Operation<KvInput, KvOutput>> history = Collections.synchronizedList(new ArrayList<>());
    private final List<RevisionChecker.Observed> revisions = Collections.synchronizedList(new ArrayList<>());
    private final List<Thread> threads = new ArrayList<>();
    private CheckResult result;
    private int ok, unknown, failedReads;

    public RegisterWorkload(RunContext ctx, int clients, long seed) {
        this.ctx = ctx;
        this.clients = clients;
        this.seed = seed;
    }

    @Override
    public String name() {
        return "register";
    }

    @Override
    public void start() {
        for (int c = 0; c < clients; c++) {
            int client = c;
            threads.add(Thread.ofPlatform().daemon().name("register-" + c).start(() -> loop(client)));
        }
    }

    private String key(int slot) {
        long gen = (System.nanoTime() - ctx.originNanos) / 1_000_000 / KEY_LIFETIME_MILLIS;
        return "reg/g" + gen + "/k" + slot;
    }

    private void loop(int client) {
        var random = new SplittableRandom(seed * 1_000_003 + client);
        int member = client;
        long seq = 0;
        java.util.Map<String, Long> lastSeen = new java.util.HashMap<>();
        while (!ctx.stopping()) {
            String key = key(random.nextInt(KEYS));
            int kind = random.nextInt(10);
            long value = (client + 1) * 1_000_000_000L + (++seq);
            long invoke = System.nanoTime();
            try {
                if (kind < 4) {
                    RangeResponse r = ctx.kv(member).range(RangeRequest.newBuilder().setKey(RunContext.bs(key)).build());
                    long v = r.getKvsCount() == 0 ? KvModel.ABSENT : Long.parseLong(RunContext.str(r.getKvs(0).getValue()));
                    long done = System.nanoTime();
                    record(Operation.ok(client, new KvInput.Get(key), new KvOutput.GetResult(v), invoke, done));
                    revisions.add(new RevisionChecker.Observed(client, "get(" + key + ")", invoke, done, r.getHeader().getRevision()));
                    lastSeen.put(key, v);
                } else if (kind < 7) {
                    var put = new KvInput.Put(key, value);
                    io.etcd.jetcd.api.PutResponse pr;
                    try {
                        pr = ctx.kv(member).put(PutRequest.newBuilder().setKey(RunContext.bs(key)).setValue(RunContext.bs(Long.toString(value))).build());
                    } catch (RuntimeException e) {
                        record(Operation.unknown(client, put, invoke));
                        throw e;
                    }
                    long done = System.nanoTime();
                    record(Operation.ok(client, put, new KvOutput.PutOk(), invoke, done));
                    revisions.add(new RevisionChecker.Observed(client, "put(" + key + ", " + value + ")", invoke, done, pr.getHeader().getRevision()));
                    lastSeen.put(key, value);
                } else {
                    long expected = lastSeen.getOrDefault(key, KvModel.ABSENT);
                    var cas = new KvInput.Cas(key, expected, value);
                    Compare cmp = expected == KvModel.ABSENT
                            ? Compare.newBuilder().setKey(RunContext.bs(key)).setTarget(Compare.CompareTarget.CREATE)
                                    .setResult(Compare.CompareResult.EQUAL).setCreateRevision(0).build()
                            : Compare.newBuilder().setKey(RunContext.bs(key)).setTarget(Compare.CompareTarget.VALUE)
                                    .setResult(Compare.CompareResult.EQUAL).setValue(RunContext.bs(Long.toString(expected))).build();
                    var txn = TxnRequest.newBuilder().addCompare(cmp).addSuccess(RequestOp.newBuilder().setRequestPut(
                            PutRequest.newBuilder().setKey(RunContext.bs(key)).setValue(RunContext.bs(Long.toString(value))))).build();
                    TxnResponse r;
                    try {
                        r = ctx.kv(member).txn(txn);
                    } catch (RuntimeException e) {
                        record(Operation.unknown(client, cas, invoke));
                        throw e;
                    }
                    long done = System.nanoTime();
                    record(Operation.ok(client, cas, new KvOutput.CasResult(r.getSucceeded()), invoke, done));
                    revisions.add(new RevisionChecker.Observed(client, "cas(" + key + ")", invoke, done, r.getHeader().getRevision()));
                    if (r.getSucceeded()) lastSeen.put(key, value);
                }
            } catch (RuntimeException e) {
                if (kind < 4) countFailedRead();
                member++;
                RunContext.sleep(50);
            }
            RunContext.sleep(5 + random.nextInt(10));
        }
    }

    private synchronized void countFailedRead() {
        failedReads++;
    }

    private void record(Operation<KvInput, KvOutput> op) {
        history.add(op);
    }

    @Override
    public void stopClients() throws InterruptedException {
        for (Thread t : threads) t.join();
    }

    @Override
    public List<Violation> finishAndCheck() {
        List<Operation<KvInput, KvOutput>> h;
        synchronized (history) {
            h = List.copyOf(history);
        }
        for (var op : h) {
            if (op.outcome() == io.synod.check.Outcome.OK) ok++;
            else unknown++;
        }
        result = RegisterChecker.check(h, CHECK_BUDGET_MILLIS);
        var out = new ArrayList<Violation>();
        RegisterChecker.violation(result).ifPresent(out::add);
        synchronized (revisions) {
            RevisionChecker.check(List.copyOf(revisions)).ifPresent(out::add);
        }
        return out;
    }

    @Override
    public String summary() {
        return "register: " + (ok + unknown) + " ops (" + ok + " ok, " + unknown + " indeterminate writes, " + failedReads
                + " failed reads dropped), " + (result == null ? "not checked" : result.verdict() + " — "
                + result.explanation().lines().findFirst().orElse(""));
    }
}
