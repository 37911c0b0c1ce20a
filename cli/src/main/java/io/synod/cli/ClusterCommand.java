package io.synod.cli;

import io.etcd.jetcd.api.KVGrpc;
import io.etcd.jetcd.api.RangeRequest;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.synod.replica.EntryTracer;
import com.google.protobuf.ByteString;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code synod cluster}: a local multi-process cluster on loopback for trying Synod with etcdctl
 * or a benchmark. {@code start} launches each member as a child JVM ({@code io.synod.server.ServerMain},
 * data and log under {@code DIR/<name>}), waits until every member answers a linearizable read,
 * and records the members in {@code DIR/cluster.members} (name, pid, client URL); the members keep
 * running after the command exits. {@code stop} stops exactly those processes (SIGTERM, then a
 * kill after {@link Stop#stopWaitSeconds}), checking each pid still runs a Synod member before
 * signalling it. {@code restart} starts one stopped (or killed) member again with the command line
 * it was first started with ({@code DIR/<name>.args}). Member {@code i} (from 1) gets client port
 * {@code base + 2(i-1)} and peer port {@code base + 2(i-1) + 1}, unless the ports are listed
 * explicitly (the demo uses etcd's local-cluster layout: 2379/2380, 22379/22380, 32379/32380).
 */
@Command(name = "cluster", mixinStandardHelpOptions = true, description = "Start or stop a local multi-process cluster on 127.0.0.1.",
        subcommands = {ClusterCommand.Start.class, ClusterCommand.Stop.class, ClusterCommand.Restart.class})
public final class ClusterCommand implements Runnable {
    static final String MEMBERS_FILE = "cluster.members";
    static final String SERVER_MAIN = "io.synod.server.ServerMain";
    /** Highest port a member may use: keeps clear of the kernel's ephemeral range. */
    static final int PORT_MAX = 32767;
    /** Deadline of one readiness probe, and the pause between probes, while waiting for a member to serve. */
    static final long PROBE_DEADLINE_MILLIS = 2000, PROBE_INTERVAL_MILLIS = 200;

    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    /** One started member as recorded in the members file. */
    record Member(String name, long pid, String clientUrl) {
        String line() {
            return name + " " + pid + " " + clientUrl;
        }

        static Member parse(String line) {
            String[] f = line.trim().split(" ");
            return new Member(f[0], Long.parseLong(f[1]), f[2]);
        }
    }

    /** How a started cluster's members send each other Raft frames (picocli names the values in its refusals). */
    enum PeerFrames {
        /** On socket links: each member gets {@code --synod-peer-socket-port}. */
        socket,
        /** On the peer URL's gRPC stream only. */
        grpc
    }

    /** {@code synod cluster start}. */
    @Command(name = "start", mixinStandardHelpOptions = true, description = "Start SIZE members as child processes and wait until they serve.")
    public static final class Start implements Callable<Integer> {
        @Option(names = "--size", description = "number of members (default: ${DEFAULT-VALUE})") int size = 3;

        @Option(names = "--dir", required = true, description = "directory for the members' data, logs and the members file") Path dir;

        @Option(names = "--base-port", description = "first port; each member takes two, and with socket peer frames one more after all of those (default: ${DEFAULT-VALUE})") int basePort = 21379;

        @Option(names = "--member-heap", description = "-Xmx of each member JVM (default: ${DEFAULT-VALUE})") String memberHeap = "512m";

        @Option(names = "--client-ports", split = ",", description = "client port of each member (overrides --base-port and --size)")
        List<Integer> clientPorts = List.of();

        @Option(names = "--peer-ports", split = ",", description = "peer port of each member (with --client-ports)")
        List<Integer> peerPorts = List.of();

        @Option(names = "--socket-ports", split = ",",
                description = "port of each member's peer socket listener (with --client-ports; default: after the client and peer ports)")
        List<Integer> socketPorts = List.of();

        @Option(names = "--peer-frames", description = "how members send each other Raft frames: socket (plain TCP links) or grpc "
                + "(the peer URL's gRPC stream only) (default: ${DEFAULT-VALUE})")
        PeerFrames peerFrames = PeerFrames.socket;

        @Option(names = "--metrics-ports", split = ",",
                description = "port of each member's operations endpoint (/metrics, /health); none by default")
        List<Integer> metricsPorts = List.of();

        @Option(names = "--start-timeout-seconds", description = "how long to wait for the cluster to serve (default: ${DEFAULT-VALUE})")
        long startTimeoutSeconds = 60;

        @Override
        public Integer call() throws Exception {
            if (!clientPorts.isEmpty()) size = clientPorts.size();
            if (clientPorts.size() != peerPorts.size() || (!metricsPorts.isEmpty() && metricsPorts.size() != clientPorts.size())
                    || (!socketPorts.isEmpty() && socketPorts.size() != clientPorts.size())) {
                System.err.println("synod cluster: --client-ports, --peer-ports (and --socket-ports, --metrics-ports) must list one port per member");
                return 2;
            }
            boolean sockets = peerFrames == PeerFrames.socket;
            if (sockets && !clientPorts.isEmpty() && socketPorts.isEmpty()) {
                System.err.println("synod cluster: --client-ports needs --socket-ports too (or --peer-frames grpc)");
                return 2;
            }
            var allPorts = new ArrayList<Integer>();
            for (int i = 1; i <= size; i++) {
                allPorts.add(clientPort(i));
                allPorts.add(peerPort(i));
                if (sockets) allPorts.add(socketPort(i));
                if (!metricsPorts.isEmpty()) allPorts.add(metricsPorts.get(i - 1));
            }
            if (size < 1 || allPorts.stream().anyMatch(p -> p < 1024 || p > PORT_MAX) || allPorts.stream().distinct().count() != allPorts.size()) {
                System.err.println("synod cluster: need size >= 1 and distinct ports within [1024, " + PORT_MAX + "], got " + allPorts);
                return 2;
            }
            Files.createDirectories(dir);
            Path membersFile = dir.resolve(MEMBERS_FILE);
            if (Files.exists(membersFile) && readMembers(dir).stream().anyMatch(m -> isOurMember(m, dir))) {
                System.err.println("synod cluster: a cluster from " + dir + " is still running; stop it first");
                return 1;
            }
            var cluster = new StringBuilder();
            for (int i = 1; i <= size; i++) {
                if (i > 1) cluster.append(',');
                cluster.append("m").append(i).append("=http://127.0.0.1:").append(peerPort(i));
            }
            String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
            String classpath = System.getProperty("java.class.path");
            var members = new ArrayList<Member>();
            for (int i = 1; i <= size; i++) {
                String name = "m" + i;
                String clientUrl = "http://127.0.0.1:" + clientPort(i);
                var cmd = new ArrayList<>(List.of(java, "-Xmx" + memberHeap, "-XX:+UseParallelGC", "--enable-native-access=ALL-UNNAMED",
                        "-cp", classpath, SERVER_MAIN,
                        "--name", name, "--data-dir", dir.resolve(name).toAbsolutePath().toString(),
                        "--listen-client-urls", clientUrl, "--advertise-client-urls", clientUrl,
                        "--listen-peer-urls", "http://127.0.0.1:" + peerPort(i),
                        "--initial-advertise-peer-urls", "http://127.0.0.1:" + peerPort(i),
                        "--initial-cluster", cluster.toString(), "--initial-cluster-state", "new"));
                if (sockets) cmd.addAll(List.of("--synod-peer-socket-port", Integer.toString(socketPort(i))));
                if (!metricsPorts.isEmpty()) cmd.addAll(List.of("--listen-metrics-urls", "http://127.0.0.1:" + metricsPorts.get(i - 1)));
                // JDK 24+ warns when gRPC's Netty uses sun.misc.Unsafe; the flag that allows it exists since JDK 23.
                if (Runtime.version().feature() >= 23) cmd.add(cmd.indexOf("-cp"), "--sun-misc-unsafe-memory-access=allow");
                // The entry tracer is asked for on this command's JVM (SYNOD_JAVA_OPTS) and applies to every member.
                for (String prop : List.of(EntryTracer.SAMPLE_EVERY_PROPERTY, EntryTracer.RECORDS_PROPERTY)) {
                    if (System.getProperty(prop) != null) cmd.add(cmd.indexOf("-cp"), "-D" + prop + "=" + System.getProperty(prop));
                }
                Files.write(dir.resolve(name + ".args"), cmd, StandardCharsets.UTF_8);
                members.add(new Member(name, launch(cmd, dir.resolve(name + ".log")), clientUrl));
            }
            Files.write(membersFile, members.stream().map(Member::line).toList(), StandardCharsets.UTF_8);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(startTimeoutSeconds);
            for (Member m : members) {
                if (!awaitServing(m, deadline)) {
                    System.err.println("synod cluster: member " + m.name() + " did not serve within " + startTimeoutSeconds
                            + " s; see " + dir.resolve(m.name() + ".log") + " (stop with: synod cluster stop --dir " + dir + ")");
                    return 1;
                }
            }
            var endpoints = new StringBuilder();
            for (Member m : members) {
                System.out.println(m.name() + "  pid " + m.pid() + "  " + m.clientUrl());
                if (endpoints.length() > 0) endpoints.append(',');
                endpoints.append(m.clientUrl().replace("http://", ""));
            }
            System.out.println("endpoints: " + endpoints);
            System.out.println("try: etcdctl --endpoints=" + endpoints + " put foo bar");
            return 0;
        }

        private int clientPort(int i) {
            return clientPorts.isEmpty() ? basePort + 2 * (i - 1) : clientPorts.get(i - 1);
        }

        private int peerPort(int i) {
            return peerPorts.isEmpty() ? basePort + 2 * (i - 1) + 1 : peerPorts.get(i - 1);
        }

        private int socketPort(int i) {
            return socketPorts.isEmpty() ? basePort + 2 * size + (i - 1) : socketPorts.get(i - 1);
        }

        /** True once the member answers a linearizable range (which needs a leader and a quorum). */
        static boolean awaitServing(Member m, long deadlineNanos) throws InterruptedException {
            var uri = java.net.URI.create(m.clientUrl());
            ManagedChannel ch = NettyChannelBuilder.forAddress(uri.getHost(), uri.getPort()).usePlaintext().build();
            try {
                while (System.nanoTime() < deadlineNanos) {
                    if (ProcessHandle.of(m.pid()).map(ProcessHandle::isAlive).orElse(false) == false) return false;
                    try {
                        KVGrpc.newBlockingStub(ch).withDeadlineAfter(PROBE_DEADLINE_MILLIS, TimeUnit.MILLISECONDS)
                                .range(RangeRequest.newBuilder().setKey(ByteString.copyFromUtf8("synod-cluster-probe")).build());
                        return true;
                    } catch (RuntimeException notYet) {
                        Thread.sleep(PROBE_INTERVAL_MILLIS);
                    }
                }
                return false;
            } finally {
                ch.shutdownNow();
            }
        }
    }

    /** {@code synod cluster stop}. */
    @Command(name = "stop", mixinStandardHelpOptions = true, description = "Stop the members started from DIR.")
    public static final class Stop implements Callable<Integer> {
        @Option(names = "--dir", required = true, description = "the directory given to 'cluster start'") Path dir;

        @Option(names = "--stop-wait-seconds", description = "wait after SIGTERM before killing (default: ${DEFAULT-VALUE})")
        long stopWaitSeconds = 10;

        @Override
        public Integer call() throws Exception {
            if (!Files.exists(dir.resolve(MEMBERS_FILE))) {
                System.err.println("synod cluster: no " + MEMBERS_FILE + " in " + dir);
                return 1;
            }
            for (Member m : readMembers(dir)) {
                Optional<ProcessHandle> h = ProcessHandle.of(m.pid());
                if (h.isEmpty() || !isOurMember(m, dir)) {
                    System.out.println(m.name() + "  pid " + m.pid() + "  not running");
                    continue;
                }
                h.get().destroy();
                try {
                    h.get().onExit().get(stopWaitSeconds, TimeUnit.SECONDS);
                    System.out.println(m.name() + "  pid " + m.pid() + "  stopped");
                } catch (java.util.concurrent.TimeoutException e) {
                    h.get().destroyForcibly();
                    h.get().onExit().get(stopWaitSeconds, TimeUnit.SECONDS);
                    System.out.println(m.name() + "  pid " + m.pid() + "  killed after " + Duration.ofSeconds(stopWaitSeconds));
                }
            }
            return 0;
        }
    }

    /** {@code synod cluster restart}. */
    @Command(name = "restart", mixinStandardHelpOptions = true,
            description = "Start a stopped member of the cluster in DIR again, with its original command line.")
    public static final class Restart implements Callable<Integer> {
        @Option(names = "--dir", required = true, description = "the directory given to 'cluster start'") Path dir;

        @Option(names = "--name", required = true, description = "the member to start, e.g. m2") String name;

        @Option(names = "--start-timeout-seconds", description = "how long to wait for it to serve (default: ${DEFAULT-VALUE})")
        long startTimeoutSeconds = 60;

        @Override
        public Integer call() throws Exception {
            Path args = dir.resolve(name + ".args");
            if (!Files.exists(dir.resolve(MEMBERS_FILE)) || !Files.exists(args)) {
                System.err.println("synod cluster: no member " + name + " was started from " + dir);
                return 1;
            }
            var members = readMembers(dir);
            int at = -1;
            for (int i = 0; i < members.size(); i++) if (members.get(i).name().equals(name)) at = i;
            if (at < 0) {
                System.err.println("synod cluster: " + name + " is not in " + dir.resolve(MEMBERS_FILE));
                return 1;
            }
            if (isOurMember(members.get(at), dir)) {
                System.err.println("synod cluster: " + name + " is still running (pid " + members.get(at).pid() + ")");
                return 1;
            }
            Member m = relaunch(dir, name);
            long pid = m.pid();
            if (!Start.awaitServing(m, System.nanoTime() + TimeUnit.SECONDS.toNanos(startTimeoutSeconds))) {
                System.err.println("synod cluster: " + name + " did not serve within " + startTimeoutSeconds + " s; see "
                        + dir.resolve(name + ".log"));
                return 1;
            }
            System.out.println(name + "  pid " + pid + "  " + m.clientUrl() + "  restarted");
            return 0;
        }
    }

    /**
     * Starts member {@code name} again with the command line it was first started with ({@code DIR/<name>.args}) and records its new
     * pid in the members file, so {@code stop} finds it; does not wait for it to serve (the caller decides how, e.g. to time it).
     * The caller checks that the member is not running.
     */
    static Member relaunch(Path dir, String name) throws IOException {
        var members = readMembers(dir);
        int at = -1;
        for (int i = 0; i < members.size(); i++) if (members.get(i).name().equals(name)) at = i;
        if (at < 0) throw new IllegalArgumentException(name + " is not in " + dir.resolve(MEMBERS_FILE));
        long pid = launch(Files.readAllLines(dir.resolve(name + ".args"), StandardCharsets.UTF_8), dir.resolve(name + ".log"));
        var m = new Member(name, pid, members.get(at).clientUrl());
        members.set(at, m);
        Files.write(dir.resolve(MEMBERS_FILE), members.stream().map(Member::line).toList(), StandardCharsets.UTF_8);
        return m;
    }

    /** Starts a member process detached from our stdin, appending its output to {@code logFile}; returns its pid. */
    static long launch(List<String> cmd, Path logFile) throws IOException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile()))
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                .start();
        return p.pid();
    }

    static List<Member> readMembers(Path dir) throws IOException {
        var out = new ArrayList<Member>();
        for (String line : Files.readAllLines(dir.resolve(MEMBERS_FILE), StandardCharsets.UTF_8)) {
            if (!line.isBlank()) out.add(Member.parse(line));
        }
        return out;
    }

    /** The pid still runs a Synod member with its data under {@code dir} (so a reused pid is never signalled). */
    static boolean isOurMember(Member m, Path dir) {
        if (ProcessHandle.of(m.pid()).filter(ProcessHandle::isAlive).isEmpty()) return false;
        // Read /proc directly: ProcessHandle.Info may report a long command line (a big class path) as absent.
        String cmd;
        try {
            cmd = new String(java.nio.file.Files.readAllBytes(Path.of("/proc", Long.toString(m.pid()), "cmdline")),
                    java.nio.charset.StandardCharsets.UTF_8).replace('\0', ' ');
        } catch (java.io.IOException | RuntimeException e) {
            cmd = ProcessHandle.of(m.pid()).flatMap(h -> h.info().commandLine()).orElse("");
        }
        return cmd.contains(SERVER_MAIN) && cmd.contains(dir.resolve(m.name()).toAbsolutePath().toString());
    }
}
