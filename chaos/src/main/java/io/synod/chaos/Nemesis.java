package io.synod.chaos;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.SplittableRandom;
import java.util.TreeSet;

/**
 * Injects faults one at a time from a seed: draw a fault of the scenario, apply it, hold it for a
 * drawn time (pauses always longer than the election timeout), heal it, stay quiet for a drawn gap,
 * repeat until the fault phase ends. The schedule (which fault, which members, how long) is a
 * function of the seed; which member is leader at the time is not, so a replay repeats the
 * schedule, not necessarily the exact interleaving. Every action is logged with its time for the
 * report. Victims are drawn from the current members ({@link LocalCluster#members()}), which the
 * {@code membership} fault changes: it applies a companion fault and makes one {@link Membership}
 * change while that fault is held.
 */
public final class Nemesis {
    private final LocalCluster cluster;
    private final RunContext ctx;
    private final Scenario scenario;
    private final SplittableRandom random;
    private final List<String> log = Collections.synchronizedList(new ArrayList<>());
    private volatile boolean stop;
    private Thread thread;
    private int applied;
    /** Membership changes, if the scenario makes them. */
    private final Membership membership;
    /** A membership change to make once the fault being injected is in place (see {@link #hold}); null if none. */
    private Fault pendingChange;

    /** Faults a membership change is made under (null: none). */
    private static final Fault[] COMPANIONS = {null, Fault.PARTITION_SYMMETRIC, Fault.PARTITION_ASYMMETRIC, Fault.ISOLATE_LEADER, Fault.KILL,
            Fault.KILL_LEADER, Fault.PAUSE, Fault.LOSS};

    public Nemesis(RunContext ctx, Scenario scenario, long seed) {
        this.ctx = ctx;
        this.cluster = ctx.cluster;
        this.scenario = scenario;
        this.random = new SplittableRandom(seed);
        this.membership = scenario.changesMembership() ? new Membership(ctx, ctx.callDeadlineMillis * 2) : null;
    }

    public void start() {
        thread = Thread.ofPlatform().daemon().name("nemesis").start(this::loop);
    }

    /** Stops injecting and heals everything (links, paused and killed members); settles membership changes left open. */
    public void stopAndHeal() throws Exception {
        stop = true;
        thread.join();
        cluster.healAll();
        note("heal-all");
        if (membership != null && membership.supported()) note("membership settled: " + membership.settle());
    }

    /** What the membership changes did, or empty if the scenario makes none. */
    public String membershipSummary() {
        if (membership == null) return "";
        return membership.supported() ? membership.counts() : "membership changes skipped: " + cluster.network().mode()
                + " mode has no member slots every member agrees on (netns only)";
    }

    public List<String> log() {
        synchronized (log) {
            return List.copyOf(log);
        }
    }

    public int applied() {
        return applied;
    }

    private void note(String s) {
        log.add(String.format("%8.3fs %s", (System.nanoTime() - ctx.originNanos) / 1e9, s));
    }

    /**
     * Holds the fault in place for {@code millis}; a membership change waiting to be made is made first, so it
     * happens under the fault (the hold then lasts at least as long as the change).
     */
    private void hold(long millis) {
        long end = System.nanoTime() + millis * 1_000_000L;
        if (pendingChange != null) {
            Fault under = pendingChange;
            pendingChange = null;
            try {
                String began = String.format("%.3fs", (System.nanoTime() - ctx.originNanos) / 1e9);
                note("membership (" + (under == Fault.MEMBERSHIP ? "no other fault" : "under " + under.label()) + ", began " + began + "): "
                        + membership.step(random));
            } catch (Exception e) {
                note("membership change failed: " + e);
            }
        }
        sleep(Math.max(0, (end - System.nanoTime()) / 1_000_000));
    }

    private void sleep(long millis) {
        long end = System.nanoTime() + millis * 1_000_000L;
        while (!stop && System.nanoTime() < end) RunContext.sleep(Math.min(50, Math.max(1, (end - System.nanoTime()) / 1_000_000)));
    }

    private void loop() {
        var faults = scenario.faults();
        sleep(1000 + random.nextLong(1000));
        while (!stop) {
            Fault f = faults.get(random.nextInt(faults.size()));
            long hold = 1000 + random.nextLong(3000);
            try {
                if (inject(f, hold)) applied++;
            } catch (Exception e) {
                note("fault " + f.label() + " failed: " + e);
            }
            try {
                cluster.healAll();
            } catch (Exception e) {
                note("heal failed: " + e);
            }
            note("heal");
            sleep(500 + random.nextLong(1500));
        }
    }

    /** A random current member. */
    private int pick() {
        List<Integer> members = cluster.members();
        return members.get(random.nextInt(members.size()));
    }

    /** The leader if one is known, else a random member (drawn anyway, so the schedule does not depend on it). */
    private int leaderOrRandom() {
        int r = pick();
        int l = cluster.leader();
        return l >= 0 ? l : r;
    }

    /** Applies and holds one fault; false if this network mode cannot inject it (noted in the log). */
    private boolean inject(Fault f, long hold) throws Exception {
        int n = cluster.members().size();
        switch (f) {
            case PARTITION_SYMMETRIC, MAJORITY_MINORITY, ISOLATE_LEADER -> {
                var minority = new TreeSet<Integer>();
                if (f == Fault.ISOLATE_LEADER) {
                    minority.add(leaderOrRandom());
                } else {
                    int size = f == Fault.MAJORITY_MINORITY ? (n - 1) / 2 : 1 + random.nextInt(Math.max(1, n / 2));
                    while (minority.size() < size) minority.add(pick());
                }
                var rest = others(minority);
                boolean refuse = random.nextInt(4) == 0;
                cut(minority, rest, true, refuse);
                note(f.label() + " " + names(minority) + " | " + names(rest) + (refuse ? " (refuse)" : " (blackhole)") + " for " + hold + " ms");
                hold(hold);
            }
            case PARTITION_ASYMMETRIC -> {
                var from = new TreeSet<Integer>();
                from.add(random.nextBoolean() ? leaderOrRandom() : pick());
                var to = others(from);
                cut(from, to, false, false);
                note(f.label() + " " + names(from) + " -/-> " + names(to) + " (replies still flow) for " + hold + " ms");
                hold(hold);
            }
            case BRIDGE -> {
                int bridge = pick();
                var rest = new ArrayList<Integer>();
                for (int i : cluster.members()) if (i != bridge) rest.add(i);
                Collections.shuffle(rest, new java.util.Random(random.nextLong()));
                var a = new TreeSet<>(rest.subList(0, rest.size() / 2));
                var b = new TreeSet<>(rest.subList(rest.size() / 2, rest.size()));
                cut(a, b, true, false);
                note(f.label() + " " + names(a) + " | " + names(b) + " bridged by " + LocalCluster.name(bridge) + " for " + hold + " ms");
                hold(hold);
            }
            case LATENCY -> {
                long delay = 10 + random.nextLong(140), jitter = random.nextLong(100);
                if (!cluster.network().supportsLatency()) {
                    note(f.label() + " skipped: " + cluster.network().mode() + " mode has no latency injection (no tc netem)");
                    return false;
                }
                cluster.network().latency(delay, jitter);
                note(f.label() + " " + delay + " ms + up to " + jitter + " ms jitter on every link for " + hold + " ms");
                hold(hold);
            }
            case LOSS -> {
                String what = cluster.network().loss(random.nextDouble());
                note(f.label() + " " + what + " for " + hold + " ms");
                hold(hold);
            }
            case KILL, KILL_LEADER -> {
                int victim = f == Fault.KILL_LEADER ? leaderOrRandom() : pick();
                long pid = cluster.pid(victim);
                cluster.kill(victim);
                note(f.label() + " " + LocalCluster.name(victim) + " (pid " + pid + ", SIGKILL), restart in " + hold + " ms");
                hold(hold);
                restartIfMember(victim);
            }
            case POWER_CUT -> {
                List<Integer> members = new ArrayList<>(cluster.members());
                int kind = random.nextInt(3);
                int count = kind == 0 ? 1 : kind == 1 ? members.size() / 2 + 1 : members.size();
                Collections.shuffle(members, new java.util.Random(random.nextLong()));
                var victims = new TreeSet<>(members.subList(0, count));
                cluster.killTogether(victims);
                note(f.label() + " " + names(victims) + " (SIGKILL at once, " + (kind == 0 ? "one member" : kind == 1 ? "a majority" : "every member")
                        + (cluster.powerCutEmulation() ? "; unflushed WAL writes lost" : "") + "), restart in " + hold + " ms");
                hold(hold);
                for (int v : victims) restartIfMember(v);
            }
            case MEMBERSHIP -> {
                if (membership == null || !membership.supported()) {
                    note(f.label() + " skipped: " + membershipSummary());
                    return false;
                }
                Fault companion = COMPANIONS[random.nextInt(COMPANIONS.length)];
                pendingChange = companion == null ? Fault.MEMBERSHIP : companion;
                if (companion == null) {
                    note(f.label() + " change with no other fault, then quiet for " + hold + " ms");
                    hold(hold);
                } else {
                    note(f.label() + " change under " + companion.label() + ":");
                    inject(companion, hold);
                }
                if (pendingChange != null) hold(0); // the companion could not be applied here: make the change anyway
            }
            case CLOCK_SKEW -> {
                int victims = 1 + random.nextInt(n - 1);
                var chosen = new TreeSet<Integer>();
                while (chosen.size() < victims) chosen.add(pick());
                var offsets = new ArrayList<String>();
                for (int i : chosen) offsets.add((random.nextBoolean() ? "+" : "-") + (1 + random.nextLong(600)) + "s");
                if (!cluster.fakeClock()) {
                    note(f.label() + " skipped: libfaketime not installed (apt-get install -y faketime)");
                    return false;
                }
                int k = 0;
                for (int i : chosen) cluster.skewClock(i, offsets.get(k++));
                note(f.label() + " wall clocks of " + names(chosen) + " jump by " + offsets + " for " + hold + " ms");
                hold(hold);
            }
            case DISK_FULL -> {
                int victim = random.nextBoolean() ? leaderOrRandom() : pick();
                if (!cluster.tmpfsDisks()) {
                    note(f.label() + " skipped: members have no disks of their own (needs root and mount)");
                    return false;
                }
                cluster.expectExit(victim);
                cluster.fillDisk(victim);
                note(f.label() + " " + LocalCluster.name(victim) + " (disk filled) for " + hold + " ms");
                hold(hold);
                boolean alive = cluster.isRunning(victim);
                cluster.freeDisk(victim);
                cluster.clearExpectedExit(victim);
                note("free disk of " + LocalCluster.name(victim) + (alive ? " (it kept running)" : " (it had exited; restarting it)"));
            }
            case PAUSE, PAUSE_LEADER -> {
                int victim = f == Fault.PAUSE_LEADER ? leaderOrRandom() : pick();
                long pause = Math.max(hold, 2 * cluster.electionTimeoutMillis() + random.nextLong(2 * cluster.electionTimeoutMillis()));
                cluster.pause(victim);
                note(f.label() + " " + LocalCluster.name(victim) + " (SIGSTOP) for " + pause + " ms");
                hold(pause);
                cluster.resume(victim);
                note("resume " + LocalCluster.name(victim) + " (SIGCONT)");
            }
        }
        return true;
    }

    /** Starts a killed member again unless a membership change removed it meanwhile. */
    private void restartIfMember(int victim) throws java.io.IOException {
        if (!cluster.isMember(victim)) {
            note("not restarting " + LocalCluster.name(victim) + ": no longer a member");
        } else if (!cluster.isRunning(victim)) {
            cluster.start(victim);
            note("restart " + LocalCluster.name(victim) + " (pid " + cluster.pid(victim) + ")");
        }
    }

    /** The current members not in {@code side}. */
    private TreeSet<Integer> others(TreeSet<Integer> side) {
        var rest = new TreeSet<Integer>();
        for (int i : cluster.members()) if (!side.contains(i)) rest.add(i);
        return rest;
    }

    private void cut(TreeSet<Integer> a, TreeSet<Integer> b, boolean bothWays, boolean refuse) throws java.io.IOException {
        for (int i : a) {
            for (int k : b) {
                cluster.network().block(i, k, refuse);
                if (bothWays) cluster.network().block(k, i, refuse);
            }
        }
    }

    private static String names(java.util.Collection<Integer> members) {
        var l = new ArrayList<String>();
        for (int i : members) l.add(LocalCluster.name(i));
        return "{" + String.join(",", l) + "}";
    }
}
