package io.synod.chaos;

import io.etcd.jetcd.api.Event;
import io.etcd.jetcd.api.KeyValue;
import io.etcd.jetcd.api.WatchResponse;
import io.synod.chaos.checkers.Violation;
import io.synod.chaos.checkers.WatchChecker;
import io.synod.chaos.checkers.WatchEvent;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Watch workload: several watchers follow the set workload's prefix from revision 1, each on its
 * own member. When a stream breaks (a killed or paused member, a timeout) the watcher resumes on
 * the next member from its last seen revision + 1, as etcd clients do; some watchers also restart
 * on purpose every few seconds. Each watcher records exactly what it was sent (events of a stream
 * it has abandoned are ignored, nothing else is filtered), and {@link WatchChecker} compares every
 * watcher with the prefix's history read afresh after the run and with the final store.
 */
public final class WatchWorkload implements Workload {
    private final RunContext ctx;
    private final SetWorkload set;
    private final List<Watcher> watchers = new ArrayList<>();
    private int restarts;
    private String outcome = "";

    public WatchWorkload(RunContext ctx, SetWorkload set, int watchers, long seed) {
        this.ctx = ctx;
        this.set = set;
        for (int i = 0; i < watchers; i++) this.watchers.add(new Watcher("watcher-" + i, i, i % 2 == 0, seed * 7919 + i));
    }

    @Override
    public String name() {
        return "watch";
    }

    /** One client's watch of the prefix, restarted from its last revision on failure or on purpose. */
    private final class Watcher {
        final String name;
        final boolean restartsOnPurpose;
        final SplittableRandom random;
        final List<WatchEvent> seen = new ArrayList<>();
        int member;
        long lastRevision;
        int generation;
        volatile boolean broken, finished;
        Thread thread;

        Watcher(String name, int member, boolean restartsOnPurpose, long seed) {
            this.name = name;
            this.member = member;
            this.restartsOnPurpose = restartsOnPurpose;
            this.random = new SplittableRandom(seed);
        }

        void run() {
            while (!finished) {
                long from;
                int gen;
                synchronized (this) {
                    from = lastRevision + 1;
                    gen = ++generation;
                    broken = false;
                }
                var listener = new Watches.Listener() {
                    @Override
                    public void events(List<Event> events, WatchResponse response) {
                        Watcher.this.events(gen, events);
                    }

                    @Override
                    public void ended(Throwable error) {
                        broken = true;
                    }
                };
                Watches.Stream stream;
                try {
                    stream = Watches.open(ctx, member, SetWorkload.PREFIX, RunContext.str(RunContext.prefixEnd(SetWorkload.PREFIX)), from,
                            listener);
                } catch (RuntimeException e) {
                    member++;
                    RunContext.sleep(200);
                    continue;
                }
                long restartAt = restartsOnPurpose ? System.nanoTime() + (2000 + random.nextLong(3000)) * 1_000_000L : Long.MAX_VALUE;
                while (!broken && !finished && System.nanoTime() < restartAt) RunContext.sleep(50);
                stream.cancel();
                synchronized (WatchWorkload.this) {
                    restarts++;
                }
                if (broken) {
                    member++;
                    RunContext.sleep(200);
                }
            }
        }

        synchronized void events(int gen, List<Event> events) {
            if (gen != generation) return;
            for (Event e : events) {
                WatchEvent we = Watches.event(e);
                seen.add(we);
                lastRevision = Math.max(lastRevision, we.revision());
            }
        }

        synchronized long lastRevision() {
            return lastRevision;
        }

        synchronized List<WatchEvent> seen() {
            return List.copyOf(seen);
        }
    }

    @Override
    public void start() {
        for (Watcher w : watchers) w.thread = Thread.ofPlatform().daemon().name(w.name).start(w::run);
    }

    @Override
    public void stopClients() {
        // Watchers keep running until finishAndCheck has seen them reach the end of the writes.
    }

    @Override
    public List<Violation> finishAndCheck() throws Exception {
        long end = set.writeSentinel();
        long deadline = System.nanoTime() + 60_000_000_000L;
        for (Watcher w : watchers) {
            while (w.lastRevision() < end && System.nanoTime() < deadline) RunContext.sleep(100);
        }
        for (Watcher w : watchers) w.finished = true;
        for (Watcher w : watchers) w.thread.join();
        var reference = new ArrayList<WatchEvent>();
        for (var r : ctx.retry(60_000, m -> {
            try {
                return Watches.history(ctx, m, SetWorkload.PREFIX, RunContext.str(RunContext.prefixEnd(SetWorkload.PREFIX)), 1, end, 20_000);
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        })) {
            if (r.revision() <= end) reference.add(new WatchEvent(r.revision(), r.key(), r.type(), r.value()));
        }
        Map<String, Long> finalStore = new LinkedHashMap<>();
        for (KeyValue kv : ctx.retry(30_000, m -> ctx.rangePrefix(m, SetWorkload.PREFIX)).getKvsList()) {
            finalStore.put(RunContext.str(kv.getKey()), kv.getModRevision());
        }
        Map<String, List<WatchEvent>> seen = new LinkedHashMap<>();
        for (Watcher w : watchers) seen.put(w.name, w.seen());
        int total = 0;
        for (var l : seen.values()) total += l.size();
        outcome = reference.size() + " events in the history, " + total + " received by " + watchers.size() + " watchers";
        return WatchChecker.check(reference, seen, finalStore);
    }

    @Override
    public String summary() {
        return "watch: " + outcome + ", " + restarts + " stream restarts";
    }
}
