package io.synod.chaos;

import io.synod.chaos.checkers.Violation;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code synod chaos}: runs a named scenario, or N runs whose scenarios and fault schedules are
 * drawn from a seed, against a real multi-process cluster, and checks every workload's history.
 * It prints each run's outcome, writes a report per run under {@code --dir}, and ends with
 * {@code runs=N violations=V mode=netns|loopback}; on any violation it exits 1 and prints the command that
 * replays the failing run's fault schedule. ({@code bin/synod chaos} reaches this class through the
 * cli module's launcher, which starts it as its own JVM: no module depends on this one.)
 */
@Command(name = "chaos", mixinStandardHelpOptions = true,
        description = "Fault injection against a real multi-process cluster, with linearizability, watch, lock, lease and convergence checks.")
public final class ChaosMain implements Callable<Integer> {
    @Option(names = "--scenario", description = "one named scenario: partition, partition-asymmetric, isolate-leader, bridge, network, kill, pause, "
            + "membership, power-cut, mixed; opt-in only: clock, disk") String scenario;

    @Option(names = "--runs", description = "number of runs (default: ${DEFAULT-VALUE})") int runs = 1;

    @Option(names = "--seed", description = "seed of the first run; run i uses seed+i (default: current time)") Long seed;

    @Option(names = "--minutes", description = "fault phase of each run, in minutes (default: ${DEFAULT-VALUE})") double minutes = 1.0;

    @Option(names = "--members", description = "cluster size (default: ${DEFAULT-VALUE})") int members = 3;

    @Option(names = "--max-members", description = "member slots of scenarios that add members (membership, mixed; netns mode only) "
            + "(default: ${DEFAULT-VALUE})") int maxMembers = 5;

    @Option(names = "--power-cut", description = "run members with --synod-unsafe-power-cut-emulation whatever the scenario (a SIGKILL loses "
            + "unflushed WAL writes, as a power cut would); the power-cut scenario implies it") boolean powerCut;

    @Option(names = "--ack-before-fsync", description = "negative control: members run the deliberately broken power-cut emulation that "
            + "acknowledges WAL writes up to 2 s before flushing them; with kills of several members at once the set checker is expected to "
            + "report lost writes") boolean ackBeforeFsync;

    @Option(names = "--time-namespaces", description = "auto: start every member in a time namespace of its own with a drawn monotonic "
            + "clock offset when the kernel allows it (root, unshare --time); off: never (default: ${DEFAULT-VALUE})") String timeNamespaces = "auto";

    @Option(names = "--base-port", description = "first port used (client, peer and proxy ports follow; default: ${DEFAULT-VALUE})")
    int basePort = 26000;

    @Option(names = "--tick-ms", description = "members' Raft tick (election timeout is 10 ticks) (default: ${DEFAULT-VALUE})")
    long tickMillis = 50;

    @Option(names = "--snapshot-count", description = "members' --snapshot-count: small, so kills and partitions exercise snapshots "
            + "(default: ${DEFAULT-VALUE})") long snapshotCount = 2000;

    @Option(names = "--dir", description = "where run directories (member data, logs, report.txt) go (default: /tmp/synod-chaos-<time>)")
    Path dir;

    @Option(names = "--mode", description = "netns (a network namespace per member, iptables faults; needs root, ip, iptables), "
            + "loopback (per-link TCP proxies; works anywhere) or auto: netns when available (default: ${DEFAULT-VALUE})")
    String mode = "auto";

    @Option(names = "--unfenced-lock", description = "negative control: lock holders write without the fencing compare and dawdle "
            + "in the critical section; the lock checker is expected to report violations")
    boolean unfencedLock;

    @Option(names = "--keep", description = "keep member data and logs of passing runs too (default: only failing runs keep them)")
    boolean keep;

    public static void main(String[] args) {
        System.exit(new CommandLine(new ChaosMain()).setCaseInsensitiveEnumValuesAllowed(true).execute(args));
    }

    @Override
    public Integer call() throws Exception {
        if (members < 3) throw new CommandLine.ParameterException(new CommandLine(this), "--members must be at least 3");
        if (!timeNamespaces.equals("auto") && !timeNamespaces.equals("off")) {
            throw new CommandLine.ParameterException(new CommandLine(this), "--time-namespaces must be auto or off");
        }
        Scenario fixed = scenario == null ? null : Scenario.parse(scenario);
        long first = seed != null ? seed : System.currentTimeMillis();
        if (dir == null) {
            dir = Path.of("/tmp", "synod-chaos-" + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")));
        }
        Files.createDirectories(dir);
        boolean netns;
        switch (mode) {
            case "loopback" -> netns = false;
            case "netns", "auto" -> {
                var why = NetnsNetwork.unavailableReason();
                if (why.isPresent() && mode.equals("netns")) {
                    System.err.println("chaos: --mode netns is not available: " + why.get());
                    return 2;
                }
                why.ifPresent(w -> System.out.println("chaos: network namespaces unavailable (" + w + "); falling back to loopback "
                        + "with faults injected by per-link TCP proxies"));
                netns = why.isEmpty();
            }
            default -> {
                System.err.println("chaos: --mode must be auto, netns or loopback");
                return 2;
            }
        }
        String modeName = netns ? "netns" : "loopback";
        System.out.println("chaos: mode=" + modeName + (netns ? " (a network namespace per member on a bridge; partitions and loss "
                + "by iptables; latency faults are skipped, no tc netem)" : " (members on 127.0.0.1, every peer link through a fault-injecting "
                + "TCP proxy)"));
        boolean timens = false;
        String clockNote;
        if (timeNamespaces.equals("off")) {
            clockNote = "time namespaces off (--time-namespaces off): members share the host's monotonic clock";
        } else {
            var why = TimeNamespaces.unavailableReason();
            timens = why.isEmpty();
            clockNote = timens ? "every member start in a time namespace of its own, monotonic and boottime clocks offset by a drawn amount "
                    + "(-" + TimeNamespaces.BACK_SECONDS_MAX + " s to +" + TimeNamespaces.FORWARD_SECONDS_MAX / 86_400 + " days)"
                    : "time namespaces SKIPPED (" + why.get() + "): members share the host's monotonic clock";
        }
        System.out.println("chaos: clocks: " + clockNote);
        String powerCutValue = ackBeforeFsync ? "ack-before-fsync" : powerCut ? "true" : "off";
        var options = new ChaosRun.Options(members, maxMembers, basePort, tickMillis, minutes, 2000,
                List.of("--snapshot-count", Long.toString(snapshotCount), "--snapshot-catchup-entries", Long.toString(Math.max(50, snapshotCount / 4))),
                netns, unfencedLock, powerCutValue, timens, clockNote);
        int violations = 0;
        var failing = new ArrayList<String>();
        var summary = new StringBuilder();
        for (int r = 0; r < runs; r++) {
            long runSeed = first + r;
            Scenario sc = fixed != null ? fixed : Scenario.drawable().get(new SplittableRandom(runSeed).nextInt(Scenario.drawable().size()));
            Path runDir = dir.resolve(String.format("run-%03d-%s-%d", r + 1, sc.label(), runSeed));
            System.out.println("chaos: run " + (r + 1) + "/" + runs + " scenario=" + sc.label() + " seed=" + runSeed + " dir=" + runDir);
            ChaosRun.Result result = new ChaosRun(options, sc, runSeed, runDir).run();
            String replay = "bin/synod chaos --scenario " + sc.label() + " --seed " + runSeed + " --minutes " + minutes
                    + (members != 3 ? " --members " + members : "") + (maxMembers != 5 ? " --max-members " + maxMembers : "") + " --mode " + modeName
                    + (unfencedLock ? " --unfenced-lock" : "") + (ackBeforeFsync ? " --ack-before-fsync" : powerCut ? " --power-cut" : "")
                    + (timeNamespaces.equals("off") ? " --time-namespaces off" : "");
            String line = "run " + (r + 1) + " scenario=" + sc.label() + " seed=" + runSeed + ": "
                    + (result.violations().isEmpty() ? "ok" : result.violations().size() + " violation(s)") + " (report " + result.reportFile() + ")";
            System.out.println("chaos: " + line);
            summary.append(line).append('\n');
            for (String l : result.report().split("\n")) {
                if (l.startsWith("  register:") || l.startsWith("  set:") || l.startsWith("  watch:") || l.startsWith("  lock")
                        || l.startsWith("  lease:") || l.startsWith("faults") || l.startsWith("after healing") || l.startsWith("membership:")
                        || l.startsWith("power-cut emulation: ")) {
                    System.out.println("chaos:   " + l.strip());
                }
            }
            if (!result.violations().isEmpty()) {
                violations += result.violations().size();
                for (Violation v : result.violations()) System.out.println("chaos:   VIOLATION " + v);
                System.out.println("chaos:   replay: " + replay);
                failing.add(replay);
            } else if (!keep) {
                deleteMemberData(runDir);
            }
        }
        Files.writeString(dir.resolve("summary.txt"), summary + "runs=" + runs + " violations=" + violations + " mode=" + modeName + "\n",
                StandardCharsets.UTF_8);
        if (!failing.isEmpty()) {
            System.out.println("chaos: replay the failing run(s) with:");
            for (String f : failing) System.out.println("  " + f);
        }
        System.out.println("runs=" + runs + " violations=" + violations + " mode=" + modeName);
        return violations == 0 ? 0 : 1;
    }

    /** Passing runs keep their report and logs but not the members' data directories (RocksDB and WAL take room). */
    private static void deleteMemberData(Path runDir) throws java.io.IOException {
        try (var entries = Files.list(runDir)) {
            for (Path p : entries.filter(Files::isDirectory).toList()) {
                try (var walk = Files.walk(p)) {
                    for (Path f : walk.sorted(java.util.Comparator.reverseOrder()).toList()) Files.deleteIfExists(f);
                }
            }
        }
    }
}
