package io.synod.cli;

import io.synod.bench.load.BulkLoad;
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
 * median of rounds and the ratio Synod/etcd, and stops every process it started. Puts run once per
 * client count of {@code --put-clients} (rows {@code put@1}, {@code put@16}, ...); the opt-in
 * pseudo-workload {@code footprint} ({@link FootprintRun}) loads a large key space into each cluster
 * and measures memory, disk and the restart of a follower, once, after every other workload.
 */
@Command(name = "compare", mixinStandardHelpOptions = true, description = "Benchmark Synod and etcd side by side on this machine.")
public final class BenchCompareCommand implements Callable<Integer> {
    @Option(names = "--profile", defaultValue = "quick", description = "quick (CI: seconds per run) or full (default ${DEFAULT-VALUE})")
    String profile;

    @Option(names = "--workloads", split = ",", description = "workloads to run (default: put,get-linearizable,get-serializable for quick; "
            + "all for full: also txn-cas, range-prefix, mixed, watch-fanout, lease-keepalive, lock-contention). 'footprint' (never a "
            + "default: it loads --footprint-keys keys into both clusters and restarts a member of each) measures memory, disk and restart "
            + "time once, after the other workloads; run it alone for clean figures")
    List<String> workloads;

    @Option(names = "--put-clients", split = ",", description = "client counts the put workload runs at, one row each (put@N); "
            + "default: 1,16,64,256 for full, the profile's 16 for quick")
    List<Integer> putClients;

    @Option(names = "--footprint-keys", description = "keys the footprint mode loads (256-byte values; default ${DEFAULT-VALUE}, at most "
            + BulkLoad.KEYS_MAX + ")")
    int footprintKeys = 1_000_000;

    @Option(names = "--footprint-txn-ops", description = "puts per transaction while loading (default ${DEFAULT-VALUE}, at most "
            + BulkLoad.OPS_PER_TXN_MAX + ": etcd 3.4's --max-txn-ops)")
    int footprintTxnOps = BulkLoad.OPS_PER_TXN_MAX;

    @Option(names = "--footprint-concurrency", description = "transactions in flight while loading (default ${DEFAULT-VALUE}, at most "
            + BulkLoad.CONCURRENCY_MAX + ")")
    int footprintConcurrency = 16;

    @Option(names = "--synod-member-heap", description = "-Xmx of each Synod member (default: that of 'synod cluster start')")
    String synodMemberHeap;

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

    @Option(names = "--synod-peer-frames", description = "how Synod's members send each other Raft frames: socket or grpc "
            + "(as synod cluster start --peer-frames; default: ${DEFAULT-VALUE})")
    ClusterCommand.PeerFrames synodPeerFrames = ClusterCommand.PeerFrames.socket;

    /**
     * Run lengths and sizes of a profile; {@code scenario} sizes the watch and lease workloads (smaller in the quick profile).
     * {@code keys} is the key space of the read workloads (preloaded) and the warm-up; puts write over {@code putKeys} keys
     * (issue 6: 100,000), at each count of {@code putClients}.
     */
    record Setting(int clients, int keys, int putKeys, List<Integer> putClients, double warmup, double seconds, double warmupTotalSeconds,
            ScenarioOptions scenario) {
        Setting {
            putClients = List.copyOf(putClients);
        }

        /** The clients a workload runs with: its fixed count (one writer, 16 lock contenders) or the profile's. */
        int clientsFor(Workload w) {
            return w.fixedClients() > 0 ? w.fixedClients() : clients;
        }

        Setting withWarmupTotal(double seconds) {
            return new Setting(clients, keys, putKeys, putClients, warmup, this.seconds, seconds, scenario);
        }

        Setting withPutClients(List<Integer> counts) {
            return new Setting(clients, keys, putKeys, counts, warmup, seconds, warmupTotalSeconds, scenario);
        }

        /**
         * What runs, in order, one row each: a put per client count ({@code put@N}), every other workload once with its own
         * client count over the read key space.
         */
        List<Job> jobs(List<Workload> chosen) {
            var jobs = new ArrayList<Job>();
            for (Workload w : chosen) {
                if (w == Workload.PUT) {
                    for (int c : putClients) jobs.add(new Job(w.cliName + "@" + c, w, c, putKeys));
                } else {
                    jobs.add(new Job(w.cliName, w, clientsFor(w), keys));
                }
            }
            return jobs;
        }
    }

    /** One row of the comparison: a workload at a client count over a key space, named {@code label} in the output. */
    record Job(String label, Workload workload, int clients, int keys) {}

    static final List<String> FULL_WORKLOADS = List.of("put", "get-linearizable", "get-serializable", "txn-cas", "range-prefix", "mixed",
            "watch-fanout", "lease-keepalive", "lock-contention");
    /** The pseudo-workload of the memory, disk and restart figures (opt-in: it loads a million keys by default). */
    static final String FOOTPRINT = "footprint";
    /** The client counts issue 6 asks puts to be measured at. */
    static final List<Integer> FULL_PUT_CLIENTS = List.of(1, 16, 64, 256);

    static Setting setting(boolean full) {
        // A minute of warm-up in the full profile: a CPU profile of a member (async-profiler) showed C2 still compiling
        // through the first minute of load on this 2-core machine, ~10 s of CPU per member; 20 s measured a JVM mid-compile.
        return full ? new Setting(64, 10_000, 100_000, FULL_PUT_CLIENTS, 2, 10, 60, ScenarioOptions.DEFAULTS)
                : new Setting(16, 2_000, 2_000, List.of(16), 1, 3, 3, ScenarioOptions.DEFAULTS.withWatchers(100).withLeases(1_000));
    }

    /** The chosen workload names split into real workloads (in order) and whether the footprint mode was asked for. */
    /**
     * Said with every quick run: its few seconds barely warm Synod's JVMs (etcd needs no warm-up), so its ratios read
     * 0.3-0.6x where the full profile measures 1.5-8x; CI runs it to keep the runner working, not to compare.
     */
    static final String QUICK_NOTE = "note: the quick profile checks that the runner works; its seconds-long runs measure Synod's JVMs "
            + "barely warmed up (JIT), so its ratios are not a comparison: use --profile full";

    record Choice(List<Workload> workloads, boolean footprint) {}

    static Choice choose(List<String> names) {
        var ws = new ArrayList<Workload>();
        boolean footprint = false;
        for (String n : names) {
            String w = n.trim();
            if (w.equals(FOOTPRINT)) footprint = true;
            else if (!ws.contains(Workload.parse(w))) ws.add(Workload.parse(w));
        }
        return new Choice(ws, footprint);
    }

    /** The options checked together: every limit explicit, so a bad value fails before any cluster starts. */
    void validate() {
        var line = new CommandLine(this);
        if (!profile.equals("full") && !profile.equals("quick")) throw new CommandLine.ParameterException(line, "--profile must be quick or full");
        if (rounds < 1) throw new CommandLine.ParameterException(line, "--rounds must be >= 1");
        if (warmupSeconds != null && (warmupSeconds < 0 || warmupSeconds > LoadOptions.DURATION_MAX_SECONDS)) {
            throw new CommandLine.ParameterException(line, "--warmup-seconds must be in 0.." + LoadOptions.DURATION_MAX_SECONDS);
        }
        if (putClients != null && (putClients.isEmpty() || putClients.stream().anyMatch(c -> c < 1 || c > LoadOptions.CLIENTS_MAX))) {
            throw new CommandLine.ParameterException(line, "--put-clients must list counts in 1.." + LoadOptions.CLIENTS_MAX);
        }
        if (footprintKeys < 1 || footprintKeys > BulkLoad.KEYS_MAX) {
            throw new CommandLine.ParameterException(line, "--footprint-keys must be in 1.." + BulkLoad.KEYS_MAX);
        }
        if (footprintTxnOps < 1 || footprintTxnOps > BulkLoad.OPS_PER_TXN_MAX) {
            throw new CommandLine.ParameterException(line, "--footprint-txn-ops must be in 1.." + BulkLoad.OPS_PER_TXN_MAX);
        }
        if (footprintConcurrency < 1 || footprintConcurrency > BulkLoad.CONCURRENCY_MAX) {
            throw new CommandLine.ParameterException(line, "--footprint-concurrency must be in 1.." + BulkLoad.CONCURRENCY_MAX);
        }
        try {
            choose(workloads != null ? workloads : List.of());
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(line, e.getMessage());
        }
    }

    /** The profile's setting with this command's overrides applied. */
    Setting effectiveSetting() {
        Setting s = setting(profile.equals("full"));
        if (warmupSeconds != null) s = s.withWarmupTotal(warmupSeconds);
        if (putClients != null) s = s.withPutClients(putClients.stream().distinct().toList());
        return s;
    }

    @Override
    public Integer call() throws Exception {
        validate();
        boolean full = profile.equals("full");
        Choice choice = choose(workloads != null ? workloads : full ? FULL_WORKLOADS : List.of("put", "get-linearizable", "get-serializable"));
        List<Workload> ws = choice.workloads();
        Setting s = effectiveSetting();
        List<Job> jobs = s.jobs(ws);
        String etcd = findEtcd();
        Path work = dir != null ? dir : Files.createTempDirectory("synod-compare");
        PrintStream out = System.out;
        out.println("compare: profile=" + profile + " rounds=" + rounds + " clients=" + s.clients + " keys=" + s.keys + " put_keys=" + s.putKeys
                + " put_clients=" + s.putClients + " seconds=" + s.seconds + (choice.footprint() ? " footprint_keys=" + footprintKeys : "")
                + " dir=" + work);
        if (choice.footprint() && !ws.isEmpty()) {
            out.println("  note: footprint runs after the other workloads, so its RSS and disk figures include their data and history");
        }
        if (profile.equals("quick") && !ws.isEmpty()) {
            out.println("  " + QUICK_NOTE);
        }

        List<Process> etcdProcs = java.util.Collections.synchronizedList(new ArrayList<>()); // the shutdown hook reads it too
        Path synodDir = work.resolve("synod");
        // A SIGTERM or Ctrl-C skips the finally below: the hook stops the six members then (and the finally's call makes it a no-op).
        var cleanedUp = new java.util.concurrent.atomic.AtomicBoolean();
        Runnable cleanUp = () -> {
            if (cleanedUp.getAndSet(true)) return;
            stopAll(synodDir, etcdProcs, dir == null ? work : null);
        };
        Thread hook = Thread.ofPlatform().name("compare-cleanup").unstarted(cleanUp);
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            List<String> etcdEndpoints = startEtcd(etcd, work.resolve("etcd"), etcdProcs);
            List<Long> etcdPids = etcdProcs.stream().map(Process::pid).toList();
            var startArgs = new ArrayList<>(List.of("start", "--size", "3", "--dir", synodDir.toString(), "--base-port",
                    Integer.toString(synodBasePort)));
            if (synodMemberHeap != null) startArgs.addAll(List.of("--member-heap", synodMemberHeap));
            startArgs.addAll(List.of("--peer-frames", synodPeerFrames.name()));
            int rc = new CommandLine(new ClusterCommand()).execute(startArgs.toArray(String[]::new));
            if (rc != 0) throw new IllegalStateException("synod cluster did not start (exit " + rc + ")");
            List<String> synodEndpoints = new ArrayList<>();
            List<Long> synodPids = new ArrayList<>();
            for (String line : Files.readAllLines(synodDir.resolve("cluster.members"))) {
                String[] f = line.trim().split("\\s+");
                synodPids.add(Long.parseLong(f[1]));
                synodEndpoints.add(f[2].replace("http://", ""));
            }

            // Both servers get the same untimed warm-up first; the JVM's JIT needs it, etcd does not mind it. The footprint mode
            // alone measures no throughput and needs none.
            if (!jobs.isEmpty()) {
                out.println("  warming up both clusters (" + (int) s.warmupTotalSeconds + " s each, not measured)");
                warmUp(synodEndpoints, s, ws);
                warmUp(etcdEndpoints, s, ws);
            }
            var rows = new LinkedHashMap<Job, List<LoadResult[]>>();
            boolean preloaded = false; // both clusters keep their data across workloads: load the key space once
            for (Job job : jobs) {
                var perRound = new ArrayList<LoadResult[]>();
                for (int r = 0; r < rounds; r++) {
                    boolean preload = !preloaded && job.workload().needsPreload();
                    preloaded |= preload;
                    LoadResult a, b;
                    // Alternate which system goes first, so drift over time hits both alike.
                    if (r % 2 == 0) {
                        a = run("synod", job, synodEndpoints, synodPids, s, preload);
                        b = run("etcd", job, etcdEndpoints, etcdPids, s, preload);
                    } else {
                        b = run("etcd", job, etcdEndpoints, etcdPids, s, preload);
                        a = run("synod", job, synodEndpoints, synodPids, s, preload);
                    }
                    out.printf(Locale.ROOT, "  round %d %-17s synod %9.0f ops/s p50 %6.2f p99 %7.2f ms | etcd %9.0f ops/s p50 %6.2f p99 %7.2f ms | load %s%n",
                            r + 1, job.label(), a.opsPerSecond(), a.p50Ms(), a.p99Ms(), b.opsPerSecond(), b.p50Ms(), b.p99Ms(), loadAverage());
                    perRound.add(new LoadResult[] {a, b});
                }
                rows.put(job, perRound);
            }
            var md = new StringBuilder();
            if (!rows.isEmpty()) {
                md.append("| workload | synod ops/s | etcd ops/s | ratio | synod p50 ms | etcd p50 ms | synod p99 ms | etcd p99 ms | synod CPU us/op"
                        + " | etcd CPU us/op |\n");
                md.append("|---|---|---|---|---|---|---|---|---|---|\n");
            }
            var extrasMd = new StringBuilder();
            for (var e : rows.entrySet()) {
                double so = median(e.getValue(), 0, LoadResult::opsPerSecond), eo = median(e.getValue(), 1, LoadResult::opsPerSecond);
                double s50 = median(e.getValue(), 0, LoadResult::p50Ms), e50 = median(e.getValue(), 1, LoadResult::p50Ms);
                double sp = median(e.getValue(), 0, LoadResult::p99Ms), ep = median(e.getValue(), 1, LoadResult::p99Ms);
                double sc = median(e.getValue(), 0, LoadResult::serverCpuMicrosPerOp), ec = median(e.getValue(), 1, LoadResult::serverCpuMicrosPerOp);
                double ratio = eo > 0 ? so / eo : 0;
                String label = e.getKey().label();
                out.println(summaryLine(label, so, eo, sp, ep, s50, e50));
                md.append(String.format(Locale.ROOT, "| %s | %.0f | %.0f | %.2f | %.2f | %.2f | %.2f | %.2f | %.1f | %.1f |%n", label, so, eo, ratio, s50,
                        e50, sp, ep, sc, ec));
                for (String x : e.getValue().get(0)[0].extras().keySet()) {
                    double sx = median(e.getValue(), 0, r -> r.extra(x)), ex = median(e.getValue(), 1, r -> r.extra(x));
                    out.printf(Locale.ROOT, "  %s %s synod=%.2f etcd=%.2f%n", label, x, sx, ex);
                    extrasMd.append(String.format(Locale.ROOT, "| %s | %s | %.2f | %.2f |%n", label, x, sx, ex));
                }
            }
            if (!extrasMd.isEmpty()) {
                md.append("\n| workload | figure (median of rounds) | synod | etcd |\n|---|---|---|---|\n").append(extrasMd);
            }
            if (choice.footprint()) {
                // One system at a time, Synod first; the other cluster idles meanwhile. Once only: a second load would measure
                // a store holding two revisions of every key.
                var synodCluster = synodCluster(synodDir);
                var etcdCluster = etcdCluster(work.resolve("etcd"), etcdProcs);
                FootprintRun.Figures sf = FootprintRun.measure(synodCluster, footprintKeys, footprintTxnOps, footprintConcurrency, System.err);
                FootprintRun.Figures ef = FootprintRun.measure(etcdCluster, footprintKeys, footprintTxnOps, footprintConcurrency, System.err);
                out.println(FootprintRun.line(sf, ef) + " load=" + loadAverage().replace(' ', '/'));
                if (!md.isEmpty()) md.append('\n');
                md.append(FootprintRun.markdown(sf, ef));
                md.append(String.format(Locale.ROOT, "%nRestarted member: synod m%d, etcd e%d (a follower); load average %s after the footprint.%n",
                        sf.follower() + 1, ef.follower() + 1, loadAverage()));
            }
            out.print(md);
            if (report != null) {
                String header = "Measured " + LocalDate.now() + " by `bin/synod bench compare --profile " + profile + "`: "
                        + Runtime.getRuntime().availableProcessors() + " cores; etcd " + etcdVersion(etcd) + "; ";
                if (!jobs.isEmpty()) {
                    header += rounds + " alternating rounds, median shown; " + s.clients + " closed-loop clients (put at "
                            + String.join(",", s.putClients.stream().map(String::valueOf).toList()) + " clients over " + s.putKeys
                            + " keys; watch-fanout: 1 writer, " + s.scenario.watchers() + " watchers; lease-keepalive: " + s.scenario.leases()
                            + " leases; lock-contention: 16 clients), " + s.keys + " keys for reads, 256-byte values, " + s.seconds + " s per run; ";
                }
                if (choice.footprint()) {
                    header += "footprint: " + footprintKeys + " keys of 256-byte values loaded in transactions of " + footprintTxnOps + " puts, "
                            + footprintConcurrency + " in flight, once per system; ";
                }
                header += "load average " + loadAverage() + " at the end.\n\n";
                if (profile.equals("quick") && !jobs.isEmpty()) header += QUICK_NOTE + "\n\n";
                Files.writeString(report, header + md, StandardCharsets.UTF_8);
            }
            return 0;
        } finally {
            cleanUp.run();
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException shuttingDown) {
                // the hook is running or has run: nothing left to undo
            }
        }
    }

    /**
     * Stops every member this run started and removes {@code ownDir} (a directory the run made itself; with {@code --dir} the data
     * stays for inspection). Runs from the finally block or from the shutdown hook, whichever comes first, so it must not throw.
     */
    private static void stopAll(Path synodDir, List<Process> etcdProcs, Path ownDir) {
        try {
            new CommandLine(new ClusterCommand()).execute("stop", "--dir", synodDir.toString());
        } catch (RuntimeException e) {
            System.err.println("compare: could not stop the Synod cluster in " + synodDir + ": " + e);
        }
        List<Process> procs;
        synchronized (etcdProcs) {
            procs = List.copyOf(etcdProcs);
        }
        for (Process p : procs) p.destroy();
        for (Process p : procs) {
            try {
                if (!p.waitFor(10, TimeUnit.SECONDS)) p.destroyForcibly();
            } catch (InterruptedException e) {
                p.destroyForcibly();
                Thread.currentThread().interrupt();
            }
        }
        if (ownDir != null) {
            try {
                deleteTree(ownDir);
            } catch (RuntimeException e) {
                System.err.println("compare: could not remove " + ownDir + ": " + e);
            }
        }
    }

    /** The issue's summary line for one row, with the medians of p50 appended (the 1-client put goal is about p50). */
    static String summaryLine(String label, double synodOps, double etcdOps, double synodP99, double etcdP99, double synodP50, double etcdP50) {
        return String.format(Locale.ROOT, "workload=%s synod_ops=%.0f etcd_ops=%.0f ratio=%.2f synod_p99_ms=%.2f etcd_p99_ms=%.2f"
                + " synod_p50_ms=%.2f etcd_p50_ms=%.2f", label, synodOps, etcdOps, etcdOps > 0 ? synodOps / etcdOps : 0, synodP99, etcdP99, synodP50,
                etcdP50);
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

    /**
     * One measured run. The endpoints go leader first in both systems: the load generator deals its connections out in endpoint
     * order, so a single client always writes at the leader (as etcd's own benchmark figures do) and a run does not measure a
     * direct write for one system and a forwarded one for the other depending on where the elections fell.
     */
    private LoadResult run(String system, Job job, List<String> endpoints, List<Long> pids, Setting s, boolean preload) throws InterruptedException {
        List<String> ordered = LeaderProbe.leaderFirst(system, endpoints);
        System.err.println("  " + system + " " + job.label() + ": leader at " + ordered.get(0));
        return LoadGenerator.run(new LoadOptions(ordered, job.workload(), job.clients(), 4, job.keys(), 256, s.warmup, s.seconds, 0, pids, preload,
                s.scenario), System.err);
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
            etcdCommands.add(List.copyOf(cmd));
            procs.add(launchEtcd(cmd, base, i));
            endpoints.add("127.0.0.1:" + client);
        }
        for (String ep : endpoints) waitForPort(ep, 30);
        Thread.sleep(2000); // let the members elect a leader
        return endpoints;
    }

    /** Each etcd member's command line, kept to start a member again with the same flags (footprint mode). */
    private final List<List<String>> etcdCommands = new ArrayList<>();

    private static Process launchEtcd(List<String> cmd, Path base, int i) throws IOException {
        // Appending: a member started again keeps the first run's output.
        return new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(base.resolve("e" + (i + 1) + ".out").toFile())).start();
    }

    /**
     * The etcd members as the footprint mode sees them. Starting one again reuses its flags: with a data directory in place etcd
     * ignores {@code --initial-cluster} and {@code --initial-cluster-state} and recovers from its own data. The new process
     * replaces the old in {@code procs}, so the final clean-up stops it.
     */
    private FootprintRun.Cluster etcdCluster(Path base, List<Process> procs) {
        var endpoints = etcdCommands.stream().map(c -> c.get(c.indexOf("--listen-client-urls") + 1).replace("http://", "")).toList();
        return new FootprintRun.Cluster() {
            @Override public String system() { return "etcd"; }
            @Override public List<String> endpoints() { return endpoints; }
            @Override public long pid(int i) { return procs.get(i).pid(); }
            @Override public Path dataDir(int i) { return base.resolve("e" + (i + 1)); }

            @Override
            public void stop(int i, boolean kill) throws InterruptedException {
                stopProcess(procs.get(i).toHandle(), kill);
            }

            @Override
            public void start(int i) throws IOException {
                procs.set(i, launchEtcd(etcdCommands.get(i), base, i));
            }
        };
    }

    /** The Synod members started by {@code cluster start} in {@code dir}; started again through {@link ClusterCommand#relaunch}. */
    private static FootprintRun.Cluster synodCluster(Path dir) throws IOException {
        var endpoints = ClusterCommand.readMembers(dir).stream().map(m -> m.clientUrl().replace("http://", "")).toList();
        return new FootprintRun.Cluster() {
            @Override public String system() { return "synod"; }
            @Override public List<String> endpoints() { return endpoints; }
            @Override public Path dataDir(int i) { return dir.resolve("m" + (i + 1)); }

            @Override
            public long pid(int i) {
                try {
                    return ClusterCommand.readMembers(dir).get(i).pid();
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }

            @Override
            public void stop(int i, boolean kill) throws InterruptedException {
                var m = new ClusterCommand.Member("m" + (i + 1), pid(i), "");
                if (!ClusterCommand.isOurMember(m, dir)) throw new IllegalStateException("synod member m" + (i + 1) + " is not running");
                stopProcess(ProcessHandle.of(m.pid()).orElseThrow(), kill);
            }

            @Override
            public void start(int i) throws IOException {
                ClusterCommand.relaunch(dir, "m" + (i + 1));
            }
        };
    }

    /** SIGTERM (or SIGKILL) and wait for the exit; a member that ignores SIGTERM for {@link FootprintRun#STOP_TIMEOUT_SECONDS} is killed. */
    private static void stopProcess(ProcessHandle h, boolean kill) throws InterruptedException {
        if (kill) h.destroyForcibly();
        else h.destroy();
        try {
            h.onExit().get(FootprintRun.STOP_TIMEOUT_SECONDS, TimeUnit.SECONDS);
        } catch (java.util.concurrent.TimeoutException | java.util.concurrent.ExecutionException e) {
            System.err.println("compare: pid " + h.pid() + " did not exit within " + FootprintRun.STOP_TIMEOUT_SECONDS + " s; killing it");
            h.destroyForcibly();
            try {
                h.onExit().get(FootprintRun.STOP_TIMEOUT_SECONDS, TimeUnit.SECONDS);
            } catch (java.util.concurrent.TimeoutException | java.util.concurrent.ExecutionException e2) {
                throw new IllegalStateException("pid " + h.pid() + " survived SIGKILL for " + FootprintRun.STOP_TIMEOUT_SECONDS + " s");
            }
        }
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
