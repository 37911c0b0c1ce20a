package io.synod.cli;

import io.synod.bench.load.LoadGenerator;
import io.synod.bench.load.LoadOptions;
import io.synod.bench.load.LoadResult;
import io.synod.bench.load.ScenarioOptions;
import io.synod.bench.load.Workload;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code synod bench compare}: the side-by-side benchmark. It starts a 3-member etcd cluster
 * (Debian's {@code etcd-server}) and a 3-member Synod cluster on loopback, both fsyncing on
 * commit with their data on the same disk, runs each workload against each system in
 * alternation (A B, B A, ...) for several rounds so machine noise hits both alike, reports the
 * median of rounds and the ratio Synod/etcd, and stops every process it started.
 */
@Command(name = "compare", mixinStandardHelpOptions = true, description = "Benchmark Synod and etcd side by side on this machine.")
public final class BenchCompareCommand implements Callable<Integer> {
    @Option(names = "--profile", defaultValue = "quick", description = "quick (CI: seconds per run) or full (default ${DEFAULT-VALUE})")
    String profile;

    @Option(names = "--workloads", split = ",", description = "workloads to run (default: put,get-linearizable,get-serializable for quick; "
            + "all for full: also txn-cas, range-prefix, mixed, watch-fanout, lease-keepalive, lock-contention)")
    List<String> workloads;

    @Option(names = "--rounds", description = "alternating rounds per workload (default 3)")
    int rounds = 3;

    @Option(names = "--warmup-seconds", description = "untimed put + mixed load on each system before the rounds, after which each chosen "
            + "workload also runs once briefly (default: 60 for full, 3 for quick)")
    Double warmupSeconds;

    @Option(names = "--dir", description = "working directory for both clusters' data (default: a new temp dir)")
    Path dir;

    @Option(names = "--etcd-base-port", defaultValue = "24379")
    int etcdBasePort;

    @Option(names = "--synod-base-port", defaultValue = "25379")
    int synodBasePort;

    @Option(names = "--report", description = "markdown file to write the table to (default: none)")
    Path report;

    /** Run lengths and sizes of a profile; {@code scenario} sizes the watch and lease workloads (smaller in the quick profile). */
    record Setting(int clients, int keys, double warmup, double seconds, double warmupTotalSeconds, ScenarioOptions scenario) {
        /** The clients a workload runs with: its fixed count (one writer, 16 lock contenders) or the profile's. */
        int clientsFor(Workload w) {
            return w.fixedClients() > 0 ? w.fixedClients() : clients;
        }
    }

    static final List<String> FULL_WORKLOADS = List.of("put", "get-linearizable", "get-serializable", "txn-cas", "range-prefix", "mixed",
            "watch-fanout", "lease-keepalive", "lock-contention");

    static Setting setting(boolean full) {
        // A minute of warm-up in the full profile: a CPU profile of a member (async-profiler) showed C2 still compiling
        // through the first minute of load on this 2-core machine, ~10 s of CPU per member; 20 s measured a JVM mid-compile.
        return full ? new Setting(64, 10_000, 2, 10, 60, ScenarioOptions.DEFAULTS)
                : new Setting(16, 2_000, 1, 3, 3, ScenarioOptions.DEFAULTS.withWatchers(100).withLeases(1_000));
    }

    @Override
    public Integer call() throws Exception {
        boolean full = profile.equals("full");
        if (!full && !profile.equals("quick")) throw new CommandLine.ParameterException(new CommandLine(this), "--profile must be quick or full");
        if (rounds < 1) throw new CommandLine.ParameterException(new CommandLine(this), "--rounds must be >= 1");
        List<Workload> ws = new ArrayList<>();
        List<String> names = workloads != null ? workloads : full ? FULL_WORKLOADS : List.of("put", "get-linearizable", "get-serializable");
        for (String w : names) ws.add(Workload.parse(w.trim()));
        Setting s = setting(full);
        if (warmupSeconds != null) {
            if (warmupSeconds < 0 || warmupSeconds > LoadOptions.DURATION_MAX_SECONDS) {
                throw new CommandLine.ParameterException(new CommandLine(this), "--warmup-seconds must be in 0.." + LoadOptions.DURATION_MAX_SECONDS);
            }
            s = new Setting(s.clients(), s.keys(), s.warmup(), s.seconds(), warmupSeconds, s.scenario());
        }
        String etcd = findEtcd();
        Path work = dir != null ? dir : Files.createTempDirectory("synod-compare");
        PrintStream out = System.out;
        out.println("compare: profile=" + profile + " rounds=" + rounds + " clients=" + s.clients + " keys=" + s.keys + " seconds=" + s.seconds
                + " dir=" + work);

        var etcdProcs = new ArrayList<Process>();
        Path synodDir = work.resolve("synod");
        try {
            List<String> etcdEndpoints = startEtcd(etcd, work.resolve("etcd"), etcdProcs);
            List<Long> etcdPids = etcdProcs.stream().map(Process::pid).toList();
            int rc = new CommandLine(new ClusterCommand()).execute("start", "--size", "3", "--dir", synodDir.toString(), "--base-port",
                    Integer.toString(synodBasePort));
            if (rc != 0) throw new IllegalStateException("synod cluster did not start (exit " + rc + ")");
            List<String> synodEndpoints = new ArrayList<>();
            List<Long> synodPids = new ArrayList<>();
            for (String line : Files.readAllLines(synodDir.resolve("cluster.members"))) {
                String[] f = line.trim().split("\\s+");
                synodPids.add(Long.parseLong(f[1]));
                synodEndpoints.add(f[2].replace("http://", ""));
            }

            // Both servers get the same untimed warm-up first; the JVM's JIT needs it, etcd does not mind it.
            out.println("  warming up both clusters (" + (int) s.warmupTotalSeconds + " s each, not measured)");
            warmUp(synodEndpoints, s, ws);
            warmUp(etcdEndpoints, s, ws);
            var rows = new LinkedHashMap<Workload, List<LoadResult[]>>();
            boolean preloaded = false; // both clusters keep their data across workloads: load the key space once
            for (Workload w : ws) {
                var perRound = new ArrayList<LoadResult[]>();
                for (int r = 0; r < rounds; r++) {
                    boolean preload = !preloaded && w.needsPreload();
                    preloaded |= preload;
                    LoadResult a, b;
                    // Alternate which system goes first, so drift over time hits both alike.
                    if (r % 2 == 0) {
                        a = run(w, synodEndpoints, synodPids, s, preload);
                        b = run(w, etcdEndpoints, etcdPids, s, preload);
                    } else {
                        b = run(w, etcdEndpoints, etcdPids, s, preload);
                        a = run(w, synodEndpoints, synodPids, s, preload);
                    }
                    out.printf(Locale.ROOT, "  round %d %-17s synod %9.0f ops/s p99 %7.2f ms | etcd %9.0f ops/s p99 %7.2f ms | load %s%n", r + 1,
                            w.cliName, a.opsPerSecond(), a.p99Ms(), b.opsPerSecond(), b.p99Ms(), loadAverage());
                    perRound.add(new LoadResult[] {a, b});
                }
                rows.put(w, perRound);
            }
            var md = new StringBuilder();
            md.append("| workload | synod ops/s | etcd ops/s | ratio | synod p99 ms | etcd p99 ms | synod CPU us/op | etcd CPU us/op |\n");
            var extrasMd = new StringBuilder();
            md.append("|---|---|---|---|---|---|---|---|\n");
            for (var e : rows.entrySet()) {
                double so = median(e.getValue(), 0, LoadResult::opsPerSecond), eo = median(e.getValue(), 1, LoadResult::opsPerSecond);
                double sp = median(e.getValue(), 0, LoadResult::p99Ms), ep = median(e.getValue(), 1, LoadResult::p99Ms);
                double sc = median(e.getValue(), 0, LoadResult::serverCpuMicrosPerOp), ec = median(e.getValue(), 1, LoadResult::serverCpuMicrosPerOp);
                double ratio = eo > 0 ? so / eo : 0;
                out.printf(Locale.ROOT, "workload=%s synod_ops=%.0f etcd_ops=%.0f ratio=%.2f synod_p99_ms=%.2f etcd_p99_ms=%.2f%n", e.getKey().cliName,
                        so, eo, ratio, sp, ep);
                md.append(String.format(Locale.ROOT, "| %s | %.0f | %.0f | %.2f | %.2f | %.2f | %.1f | %.1f |%n", e.getKey().cliName, so, eo, ratio, sp,
                        ep, sc, ec));
                for (String x : e.getValue().get(0)[0].extras().keySet()) {
                    double sx = median(e.getValue(), 0, r -> r.extra(x)), ex = median(e.getValue(), 1, r -> r.extra(x));
                    out.printf(Locale.ROOT, "  %s %s synod=%.2f etcd=%.2f%n", e.getKey().cliName, x, sx, ex);
                    extrasMd.append(String.format(Locale.ROOT, "| %s | %s | %.2f | %.2f |%n", e.getKey().cliName, x, sx, ex));
                }
            }
            if (!extrasMd.isEmpty()) {
                md.append("\n| workload | figure (median of rounds) | synod | etcd |\n|---|---|---|---|\n").append(extrasMd);
            }
            if (report != null) {
                String header = "Measured " + LocalDate.now() + " by `bin/synod bench compare --profile " + profile + "`: "
                        + Runtime.getRuntime().availableProcessors() + " cores; etcd " + etcdVersion(etcd) + "; " + rounds
                        + " alternating rounds, median shown; " + s.clients + " closed-loop clients (watch-fanout: 1 writer, " + s.scenario.watchers()
                        + " watchers; lease-keepalive: " + s.scenario.leases() + " leases; lock-contention: 16 clients), " + s.keys
                        + " keys, 256-byte values, " + s.seconds + " s per run; load average " + loadAverage() + " at the end.\n\n";
                Files.writeString(report, header + md, StandardCharsets.UTF_8);
            }
            return 0;
        } finally {
            new CommandLine(new ClusterCommand()).execute("stop", "--dir", synodDir.toString());
            for (Process p : etcdProcs) p.destroy();
            for (Process p : etcdProcs) {
                if (!p.waitFor(10, TimeUnit.SECONDS)) p.destroyForcibly();
            }
            if (dir == null) deleteTree(work); // a directory we made ourselves; with --dir the data stays for inspection
        }
    }

    private static double median(List<LoadResult[]> rounds, int side, java.util.function.ToDoubleFunction<LoadResult> f) {
        double[] v = rounds.stream().mapToDouble(r -> f.applyAsDouble(r[side])).sorted().toArray();
        return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
    }

    /** The 1-, 5- and 15-minute load averages from /proc/loadavg (the neighbours' share of the machine), or "?". */
    static String loadAverage() {
        try {
            String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
            return f[0] + " " + f[1] + " " + f[2];
        } catch (IOException | RuntimeException e) {
            return "?";
        }
    }

    private void warmUp(List<String> endpoints, Setting s, List<Workload> chosen) throws InterruptedException {
        if (s.warmupTotalSeconds <= 0) return;
        for (Workload w : List.of(Workload.PUT, Workload.MIXED)) {
            LoadGenerator.run(new LoadOptions(endpoints, w, s.clients, 4, s.keys, 256, 0, s.warmupTotalSeconds / 2, 0, List.of(), false),
                    System.err);
        }
        // Every chosen workload once, briefly and small, so its own code paths (watch, lease, lock) are compiled before round 1.
        ScenarioOptions small = new ScenarioOptions(Math.min(100, s.scenario.watchers()), s.scenario.watchersPerStream(),
                Math.min(1_000, s.scenario.leases()), 0, s.scenario.expiryTtlSeconds(), s.scenario.lockName() + "-warmup");
        for (Workload w : chosen) {
            if (w == Workload.PUT || w == Workload.MIXED) continue;
            LoadGenerator.run(new LoadOptions(endpoints, w, s.clientsFor(w), 4, s.keys, 256, 0, WARMUP_PER_WORKLOAD_SECONDS, 0, List.of(), false,
                    small), System.err);
        }
    }

    /** How long each chosen workload runs, untimed, at the end of the warm-up. */
    static final double WARMUP_PER_WORKLOAD_SECONDS = 3;

    private LoadResult run(Workload w, List<String> endpoints, List<Long> pids, Setting s, boolean preload) throws InterruptedException {
        return LoadGenerator.run(new LoadOptions(endpoints, w, s.clientsFor(w), 4, s.keys, 256, s.warmup, s.seconds, 0, pids, preload, s.scenario),
                System.err);
    }

    private static String findEtcd() throws IOException, InterruptedException {
        for (String p : List.of("/usr/bin/etcd", "/usr/local/bin/etcd")) if (Files.isExecutable(Path.of(p))) return p;
        System.err.println("compare: etcd not found; installing Debian's etcd-server");
        var pb = new ProcessBuilder("bash", "-c", "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq etcd-server").inheritIO();
        if (pb.start().waitFor() == 0 && Files.isExecutable(Path.of("/usr/bin/etcd"))) return "/usr/bin/etcd";
        throw new IllegalStateException("etcd is needed: apt-get install -y etcd-server");
    }

    private static String etcdVersion(String etcd) {
        try {
            Process p = new ProcessBuilder(etcd, "--version").redirectErrorStream(true).start();
            String first = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).lines().findFirst().orElse("?");
            p.waitFor(5, TimeUnit.SECONDS);
            return first.replace("etcd Version: ", "");
        } catch (IOException | InterruptedException e) {
            return "?";
        }
    }

    /** Starts 3 etcd members on loopback with fsync on commit (etcd's default) and waits until each accepts connections. */
    private List<String> startEtcd(String etcd, Path base, List<Process> procs) throws IOException, InterruptedException {
        Files.createDirectories(base);
        var cluster = new StringBuilder();
        for (int i = 0; i < 3; i++) {
            if (i > 0) cluster.append(',');
            cluster.append("e").append(i + 1).append("=http://127.0.0.1:").append(etcdBasePort + 2 * i + 1);
        }
        var endpoints = new ArrayList<String>();
        for (int i = 0; i < 3; i++) {
            int client = etcdBasePort + 2 * i, peer = client + 1;
            var cmd = new ArrayList<>(Arrays.asList(etcd, "--name", "e" + (i + 1), "--data-dir", base.resolve("e" + (i + 1)).toString(),
                    "--listen-client-urls", "http://127.0.0.1:" + client, "--advertise-client-urls", "http://127.0.0.1:" + client,
                    "--listen-peer-urls", "http://127.0.0.1:" + peer, "--initial-advertise-peer-urls", "http://127.0.0.1:" + peer,
                    "--initial-cluster", cluster.toString(), "--initial-cluster-state", "new", "--initial-cluster-token", "synod-compare",
                    "--logger", "zap", "--log-outputs", base.resolve("e" + (i + 1) + ".log").toString()));
            procs.add(new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(base.resolve("e" + (i + 1) + ".out").toFile()).start());
            endpoints.add("127.0.0.1:" + client);
        }
        for (String ep : endpoints) waitForPort(ep, 30);
        Thread.sleep(2000); // let the members elect a leader
        return endpoints;
    }

    private static void waitForPort(String hostPort, int seconds) throws InterruptedException {
        String[] hp = hostPort.split(":");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (System.nanoTime() < deadline) {
            try (var sock = new Socket()) {
                sock.connect(new InetSocketAddress(hp[0], Integer.parseInt(hp[1])), 500);
                return;
            } catch (IOException e) {
                Thread.sleep(200);
            }
        }
        throw new IllegalStateException(hostPort + " did not accept connections within " + seconds + " s");
    }

    private static void deleteTree(Path root) {
        try (var tree = Files.walk(root)) {
            for (Path p : tree.sorted(java.util.Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        } catch (IOException e) {
            System.err.println("compare: could not delete " + root + ": " + e.getMessage());
        }
    }
}
