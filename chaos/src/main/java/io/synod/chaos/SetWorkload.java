package io.synod.chaos;

import io.etcd.jetcd.api.HashKVRequest;
import io.etcd.jetcd.api.HashKVResponse;
import io.etcd.jetcd.api.KeyValue;
import io.etcd.jetcd.api.MaintenanceGrpc;
import io.etcd.jetcd.api.PutRequest;
import io.synod.chaos.checkers.SetChecker;
import io.synod.chaos.checkers.Violation;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Append/set workload: clients write fresh keys under {@code set/} (never overwriting). After the
 * faults heal, every member's own copy (a serializable read, so it is that member's state and not
 * the leader's) must hold every acknowledged key and nothing never attempted, and all members must
 * report the same {@code HashKV} at the same revision. Its keys are also what the watch workload
 * watches; {@link #writeSentinel} closes the stream of writes with one last acknowledged key.
 */
public final class SetWorkload implements Workload {
    static final String PREFIX = "set/";

    private final RunContext ctx;
    private final int clients;
    private final Set<String> acked = ConcurrentHashMap.newKeySet(), attempted = ConcurrentHashMap.newKeySet();
    private final List<Thread> threads = new ArrayList<>();
    private long sentinelRevision = -1;
    private String hashes = "";

    public SetWorkload(RunContext ctx, int clients) {
        this.ctx = ctx;
        this.clients = clients;
    }

    @Override
    public String name() {
        return "set";
    }

    @Override
    public void start() {
        for (int c = 0; c < clients; c++) {
            int client = c;
            threads.add(Thread.ofPlatform().daemon().name("set-" + c).start(() -> loop(client)));
        }
    }

    private void loop(int client) {
        int member = client + 1;
        for (long n = 0; !ctx.stopping(); n++) {
            String key = PREFIX + "c" + client + "/" + String.format("%08d", n);
            attempted.add(key);
            try {
                ctx.kv(member).put(PutRequest.newBuilder().setKey(RunContext.bs(key)).setValue(RunContext.bs(Long.toString(n))).build());
                acked.add(key);
            } catch (RuntimeException e) {
                member++;
                RunContext.sleep(50);
            }
            RunContext.sleep(10);
        }
    }

    @Override
    public void stopClients() throws InterruptedException {
        for (Thread t : threads) t.join();
    }

    /** Writes {@code set/~end} (retrying until acknowledged) and returns its revision: the last write of the prefix. */
    public long writeSentinel() {
        if (sentinelRevision > 0) return sentinelRevision;
        String key = PREFIX + "~end";
        attempted.add(key);
        sentinelRevision = ctx.retry(60_000, m -> ctx.kv(m).put(PutRequest.newBuilder().setKey(RunContext.bs(key))
                .setValue(RunContext.bs("end")).build()).getHeader().getRevision());
        acked.add(key);
        return sentinelRevision;
    }

    @Override
    public List<Violation> finishAndCheck() {
        long end = writeSentinel();
        Map<String, Set<String>> finalKeys = new LinkedHashMap<>();
        Map<String, Long> hashByMember = new LinkedHashMap<>();
        long hashRev = -1;
        List<Integer> members = ctx.cluster.members();
        for (int m : members) {
            // A member's local state, once it has applied the sentinel.
            var r = ctx.retry(30_000, x -> {
                var resp = ctx.rangePrefixLocalAt(m, PREFIX);
                if (resp.getHeader().getRevision() < end) throw new IllegalStateException(LocalCluster.name(m) + " behind");
                return resp;
            });
            var keys = new HashSet<String>();
            for (KeyValue kv : r.getKvsList()) keys.add(RunContext.str(kv.getKey()));
            finalKeys.put(LocalCluster.name(m), keys);
            hashRev = hashRev < 0 ? r.getHeader().getRevision() : Math.min(hashRev, r.getHeader().getRevision());
        }
        long rev = hashRev;
        for (int m : members) {
            HashKVResponse h = ctx.retry(30_000, x -> MaintenanceGrpc.newBlockingStub(ctx.cluster.channel(m))
                    .withDeadlineAfter(ctx.callDeadlineMillis, TimeUnit.MILLISECONDS).hashKV(HashKVRequest.newBuilder().setRevision(rev).build()));
            hashByMember.put(LocalCluster.name(m), Integer.toUnsignedLong(h.getHash()));
        }
        hashes = "hash_kv@" + rev + " " + hashByMember;
        return SetChecker.check(acked, attempted, finalKeys, hashByMember, rev);
    }

    @Override
    public String summary() {
        return "set: " + attempted.size() + " puts (" + acked.size() + " acknowledged), " + hashes;
    }
}
