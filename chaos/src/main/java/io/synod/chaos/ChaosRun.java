package io.synod.chaos;

import io.etcd.jetcd.api.RangeRequest;
import io.synod.chaos.checkers.Violation;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * One chaos run: start a cluster, wait until every member serves, run every workload while the
 * nemesis injects the scenario's faults, heal everything, wait for the members to converge, then
 * let each workload read its final state and check its history. Writes {@code report.txt} in the
 * run's directory (faults applied, operation counts, outcome, violations with their windows) and
 * always tears the cluster down.
 */
public final class ChaosRun {
    /** What a run found. */
    public record Result(List<Violation> violations, String report, Path reportFile) {}

    private final Options options;
    private final Scenario scenario;
    private final long seed;
    private final Path dir;

    /**
     * Run parameters shared by every run of one command.
     *
     * @param members        founding members
     * @param maxMembers     member slots of scenarios that change membership (netns mode only)
     * @param powerCut       the members' {@code --synod-unsafe-power-cut-emulation} value: {@code off}, {@code true} or the
     *                       broken {@code ack-before-fsync}; the {@code power-cut} scenario turns {@code off} into {@code true}
     * @param timeNamespaces start members in time namespaces with monotonic clock offsets
     * @param clockNote      how the clocks are set up (or why time namespaces are skipped), for the report
     */
    public record Options(int members, int maxMembers, int basePort, long tickMillis, double minutes, long callDeadlineMillis,
            List<String> memberFlags, boolean netns, boolean unfencedLock, String powerCut, boolean timeNamespaces, String clockNote) {}

    public ChaosRun(Options options, Scenario scenario, long seed, Path dir) {
        this.options = options;
        this.scenario = scenario;
        this.seed = seed;
        this.dir = dir;
    }

    public Result run() throws Exception {
        var report = new StringBuilder();
        var violations = new ArrayList<Violation>();
        boolean slotsForMembership = scenario.changesMembership() && options.netns();
        int slots = slotsForMembership ? Math.max(options.maxMembers(), options.members()) : options.members();
        String powerCut = scenario.powerCutEmulation() && options.powerCut().equals("off") ? "true" : options.powerCut();
        var memberFlags = new ArrayList<>(options.memberFlags());
        if (!powerCut.equals("off")) memberFlags.add("--synod-unsafe-power-cut-emulation=" + powerCut);
        report.append("scenario=").append(scenario.label()).append(" seed=").append(seed).append(" members=").append(options.members())
                .append(slotsForMembership ? " (up to " + slots + ")" : "")
                .append(" minutes=").append(options.minutes()).append(" mode=").append(options.netns() ? "netns (a network namespace per member, "
                        + "iptables faults)" : "loopback (per-link TCP proxies)").append('\n');
        report.append("power-cut emulation: ").append(powerCut.equals("off") ? "off (a kill keeps unflushed writes in the page cache)"
                : powerCut.equals("true") ? "on (a SIGKILL loses the WAL writes not yet flushed, as a power cut would)"
                : powerCut + " (NEGATIVE CONTROL: WAL writes are acknowledged up to 2 s before they are flushed, so a SIGKILL loses "
                        + "acknowledged writes)").append('\n');
        report.append("clocks: ").append(options.clockNote()).append('\n');
        Network network;
        try {
            network = options.netns() ? new NetnsNetwork(slots, options.basePort())
                    : new ProxyNetwork(options.members(), options.basePort(), seed);
        } catch (IOException e) {
            violations.add(new Violation("harness", "setup-failed", e.toString(), ""));
            return finish(report, violations);
        }
        try (var cluster = new LocalCluster(slots, options.members(), dir, network, options.tickMillis(), memberFlags,
                scenario.faults().contains(Fault.CLOCK_SKEW), scenario.faults().contains(Fault.DISK_FULL) && LocalCluster.tmpfsAvailable(),
                options.timeNamespaces(), seed)) {
            cluster.startAll();
            var ctx = new RunContext(cluster, options.callDeadlineMillis());
            awaitServing(ctx);
            var set = new SetWorkload(ctx, 2);
            List<Workload> workloads = List.of(new RegisterWorkload(ctx, 4, seed), set, new WatchWorkload(ctx, set, 3, seed),
                    new LockWorkload(ctx, 3, options.unfencedLock()), new LeaseWorkload(ctx, 2, seed));
            for (Workload w : workloads) w.start();
            var nemesis = new Nemesis(ctx, scenario, seed);
            nemesis.start();
            long faultMillis = (long) (options.minutes() * 60_000);
            RunContext.sleep(faultMillis);
            nemesis.stopAndHeal();
            // A few healed seconds of load: the cluster must serve again, and late effects of faults land in the history.
            RunContext.sleep(3000);
            ctx.stop();
            for (Workload w : workloads) w.stopClients();
            report.append("\nfaults (").append(nemesis.applied()).append(" applied):\n");
            for (String line : nemesis.log()) report.append("  ").append(line).append('\n');
            if (!nemesis.membershipSummary().isEmpty()) report.append("\nmembership: ").append(nemesis.membershipSummary()).append('\n');
            if (!cluster.notes().isEmpty()) {
                report.append("\nmember starts:\n");
                for (String line : cluster.notes()) report.append("  ").append(line).append('\n');
            }
            String converged = awaitConvergence(ctx);
            report.append("\nafter healing: ").append(converged).append('\n');
            if (converged.startsWith("NOT")) {
                violations.add(new Violation("cluster", "not-converged", converged, ""));
            }
            for (Workload w : workloads) {
                try {
                    violations.addAll(w.finishAndCheck());
                } catch (Exception | AssertionError e) {
                    violations.add(new Violation(w.name(), "check-failed", "could not finish the check: " + e, stackTop(e)));
                }
            }
            for (String crash : cluster.unexpectedExits()) {
                violations.add(new Violation("cluster", "member-crashed", crash.lines().findFirst().orElse(crash), crash));
            }
            report.append("\noperations:\n");
            for (Workload w : workloads) report.append("  ").append(w.summary()).append('\n');
        } catch (Exception e) {
            violations.add(new Violation("harness", "run-failed", e.toString(), stackTop(e)));
        }
        return finish(report, violations);
    }

    private Result finish(StringBuilder report, List<Violation> violations) throws IOException {
        report.append("\noutcome: ").append(violations.isEmpty() ? "OK, no violation" : violations.size() + " violation(s)").append('\n');
        for (Violation v : violations) {
            report.append("\nVIOLATION ").append(v).append('\n');
            if (!v.window().isEmpty()) report.append("  window:\n    ").append(v.window().replace("\n", "\n    ")).append('\n');
        }
        Path file = dir.resolve("report.txt");
        Files.createDirectories(dir);
        Files.writeString(file, report.toString(), StandardCharsets.UTF_8);
        return new Result(violations, report.toString(), file);
    }

    private static String stackTop(Throwable e) {
        var sb = new StringBuilder(e.toString());
        var st = e.getStackTrace();
        for (int i = 0; i < Math.min(6, st.length); i++) sb.append("\n  at ").append(st[i]);
        return sb.toString();
    }

    private static void awaitServing(RunContext ctx) throws IOException {
        long deadline = System.nanoTime() + 180_000_000_000L;
        for (int i : ctx.cluster.members()) {
            while (true) {
                try {
                    ctx.kvAt(i).range(RangeRequest.newBuilder().setKey(RunContext.bs("chaos-probe")).build());
                    break;
                } catch (RuntimeException e) {
                    if (System.nanoTime() > deadline) {
                        throw new IOException("member " + LocalCluster.name(i) + " did not serve within 180 s; see "
                                + ctx.cluster.dir().resolve(LocalCluster.name(i) + ".log"));
                    }
                    RunContext.sleep(200);
                }
            }
        }
    }

    /** Waits until every member reports the same raft (commit) index, revision and leader; describes the outcome. */
    private static String awaitConvergence(RunContext ctx) {
        long deadline = System.nanoTime() + 60_000_000_000L;
        String last = "";
        while (System.nanoTime() < deadline) {
            var applied = new ArrayList<Long>();
            var revisions = new ArrayList<Long>();
            var leaders = new ArrayList<String>();
            for (int i : ctx.cluster.members()) {
                var s = ctx.cluster.status(i, 2000);
                if (s.isEmpty()) {
                    applied.add(-1L);
                    revisions.add(-1L);
                    leaders.add("?");
                    continue;
                }
                applied.add(s.get().getRaftIndex());
                revisions.add(s.get().getHeader().getRevision());
                leaders.add(Long.toHexString(s.get().getLeader()));
            }
            var names = new ArrayList<String>();
            for (int i : ctx.cluster.members()) names.add(LocalCluster.name(i));
            last = "members=" + names + " raft index=" + applied + " revisions=" + revisions + " leaders=" + leaders;
            if (!applied.contains(-1L) && applied.stream().distinct().count() == 1 && revisions.stream().distinct().count() == 1
                    && leaders.stream().distinct().count() == 1 && !leaders.get(0).equals("0")) {
                return "converged: " + last;
            }
            RunContext.sleep(250);
        }
        return "NOT converged within 60 s: " + last;
    }
}
