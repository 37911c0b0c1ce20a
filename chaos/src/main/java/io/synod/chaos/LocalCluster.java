package io.synod.chaos;

import io.etcd.jetcd.api.MaintenanceGrpc;
import io.etcd.jetcd.api.StatusRequest;
import io.etcd.jetcd.api.StatusResponse;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.synod.server.ServerConfig;
import java.io.File;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * A real Synod cluster of separate member JVMs whose peer traffic runs through a faultable
 * {@link Network}: each member in its own network namespace ({@link NetnsNetwork}) or all on
 * loopback behind per-link proxies ({@link ProxyNetwork}). Members are started with
 * {@code java -cp <this class path> io.synod.server.ServerMain} and etcd-style flags, exactly as
 * {@code synod cluster} does. Clients reach the members' client ports directly: only the peer
 * network is faulty.
 *
 * <p>Cleanup is not optional: {@link #close} kills every member this object started (SIGKILL ends
 * stopped processes too) and then tears the network down (proxies, or namespaces, veths and the
 * bridge), and a JVM shutdown hook does the same if the harness is interrupted. Only processes
 * started here are ever signalled, by pid.
 */
public final class LocalCluster implements AutoCloseable {
    private final int size;
    private final Path dir;
    private final Network network;
    private final long tickMillis;
    private final List<String> extraFlags;
    private final boolean fakeClock;
    private final Process[] processes;
    private final boolean[] paused;
    /** Whether the harness meant the member's current process to end (a kill, or an exit it provoked). */
    private final boolean[] exitExpected;
    private final List<String> unexpectedExits = new ArrayList<>();
    private final boolean tmpfsDisks;
    private final List<Path> mounts = new ArrayList<>();
    private final ManagedChannel[] channels;
    private final Thread hook;
    private volatile boolean closed;
    /** libfaketime, if installed: members then run under it with a per-member timestamp file (see {@link #skewClock}). */
    static final Path FAKETIME_LIB = Path.of("/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1");

    /** Takes ownership of {@code network}: closing the cluster (or the shutdown hook) closes it. */
    public LocalCluster(int size, Path dir, Network network, long tickMillis, List<String> extraFlags, boolean fakeClock,
            boolean tmpfsDisks) throws IOException {
        this.fakeClock = fakeClock && clockSkewAvailable();
        this.tmpfsDisks = tmpfsDisks;
        this.exitExpected = new boolean[size];
        this.size = size;
        this.dir = dir;
        this.network = network;
        this.tickMillis = tickMillis;
        this.extraFlags = List.copyOf(extraFlags);
        this.processes = new Process[size];
        this.paused = new boolean[size];
        this.channels = new ManagedChannel[size];
        hook = new Thread(this::closeQuietly, "chaos-cluster-cleanup");
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            Files.createDirectories(dir);
            if (tmpfsDisks) {
                // A small disk of its own per member, so one member's disk can be filled without touching anything else.
                for (int i = 0; i < size; i++) {
                    Path d = dir.resolve(name(i));
                    Files.createDirectories(d);
                    NetnsNetwork.run("mount", "-t", "tmpfs", "-o", "size=" + DISK_BYTES, "tmpfs", d.toAbsolutePath().toString());
                    mounts.add(d);
                }
            }
            for (int i = 0; i < size; i++) {
                channels[i] = NettyChannelBuilder.forAddress(network.clientHost(i), network.clientPort(i)).usePlaintext().build();
            }
        } catch (IOException | RuntimeException e) {
            closeQuietly();
            throw e;
        }
    }

    /** Size of each member's tmpfs disk in the disk-full scenario. */
    static final long DISK_BYTES = 512L << 20;

    /** Whether this harness can give members disks of their own (root and mount). */
    public static boolean tmpfsAvailable() {
        return "root".equals(System.getProperty("user.name")) && NetnsNetwork.which("mount").isPresent();
    }

    static boolean portFree(int port) {
        try (var s = new ServerSocket()) {
            s.setReuseAddress(true);
            s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    public int size() {
        return size;
    }

    public Network network() {
        return network;
    }

    public static String name(int i) {
        return "c" + (i + 1);
    }

    public ManagedChannel channel(int i) {
        return channels[i];
    }

    public long tickMillis() {
        return tickMillis;
    }

    /** Election timeout of the members, in milliseconds (the server's default ticks per election). */
    public long electionTimeoutMillis() {
        return tickMillis * ServerConfig.DEFAULT_ELECTION_TICKS;
    }

    public Path dir() {
        return dir;
    }

    /** Starts member {@code i} (again) on its data directory; its output is appended to {@code <dir>/<name>.log}. */
    public synchronized void start(int i) throws IOException {
        if (closed) throw new IllegalStateException("cluster closed");
        if (processes[i] != null && processes[i].isAlive()) throw new IllegalStateException(name(i) + " is running");
        noteExit(i);
        exitExpected[i] = false;
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        var cmd = new ArrayList<>(network.launchPrefix(i));
        cmd.addAll(List.of(java, "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
                "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"), "io.synod.server.ServerMain",
                "--name", name(i), "--data-dir", dir.resolve(name(i)).toAbsolutePath().toString(),
                "--initial-cluster-state", "new", "--synod-tick-ms", Long.toString(tickMillis)));
        cmd.addAll(network.memberFlags(i));
        cmd.addAll(extraFlags);
        var pb = new ProcessBuilder(cmd);
        if (fakeClock) {
            // Only the wall clock is faked: faking the monotonic clock hangs JVM sleeps.
            Path offset = faketimeFile(i);
            if (!Files.exists(offset)) Files.writeString(offset, "+0\n");
            pb.environment().put("LD_PRELOAD", FAKETIME_LIB.toString());
            pb.environment().put("FAKETIME_TIMESTAMP_FILE", offset.toAbsolutePath().toString());
            pb.environment().put("FAKETIME_DONT_FAKE_MONOTONIC", "1");
            pb.environment().put("FAKETIME_CACHE_DURATION", "1");
        }
        processes[i] = pb.redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve(name(i) + ".log").toFile()))
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
        paused[i] = false;
    }

    public void startAll() throws IOException {
        for (int i = 0; i < size; i++) start(i);
    }

    /** Whether the members run under libfaketime (asked for, and installed). */
    public boolean fakeClock() {
        return fakeClock;
    }

    public static boolean clockSkewAvailable() {
        return Files.isReadable(FAKETIME_LIB);
    }

    private Path faketimeFile(int i) {
        return dir.resolve(name(i) + ".faketime");
    }

    /** Sets member {@code i}'s wall-clock offset (libfaketime syntax, e.g. {@code +120s}, {@code -1h}); it applies within a second. */
    public void skewClock(int i, String offset) throws IOException {
        Files.writeString(faketimeFile(i), offset + "\n");
    }

    /** SIGKILL: no shutdown hook, unflushed state lost. Waits until the process is gone. */
    public synchronized void kill(int i) throws InterruptedException {
        Process p = processes[i];
        if (p == null || !p.isAlive()) return;
        exitExpected[i] = true;
        p.destroyForcibly();
        p.waitFor(10, TimeUnit.SECONDS);
        paused[i] = false;
    }

    /** The harness is about to make member {@code i} fail (e.g. fill its disk): its exit is not a crash. */
    public synchronized void expectExit(int i) {
        exitExpected[i] = true;
    }

    /** Undoes {@link #expectExit} for a member that survived what the harness did to it. */
    public synchronized void clearExpectedExit(int i) {
        if (isRunning(i)) exitExpected[i] = false;
    }

    /** Records the previous process of member {@code i} if it ended without the harness meaning it to. */
    private void noteExit(int i) {
        Process p = processes[i];
        if (p == null || p.isAlive() || exitExpected[i]) return;
        String tail = "";
        try {
            var lines = Files.readAllLines(dir.resolve(name(i) + ".log"));
            tail = String.join("\n", lines.subList(Math.max(0, lines.size() - 15), lines.size()));
        } catch (IOException | RuntimeException e) {
            tail = "(log unreadable: " + e + ")";
        }
        unexpectedExits.add(name(i) + " (pid " + p.pid() + ") exited with code " + p.exitValue() + " without being killed; last log lines:\n"
                + tail);
        exitExpected[i] = true; // reported once
    }

    /** Members that died on their own (crash, failed assertion, disk error the harness did not cause), checked now. */
    public synchronized List<String> unexpectedExits() {
        for (int i = 0; i < size; i++) noteExit(i);
        return List.copyOf(unexpectedExits);
    }

    /** Fills member {@code i}'s disk (tmpfs) up to the last byte; returns the filler file. */
    public Path fillDisk(int i) throws IOException {
        Path d = dir.resolve(name(i));
        Path filler = d.resolve("chaos-filler");
        long free = Files.getFileStore(d).getUsableSpace();
        NetnsNetwork.run("fallocate", "-l", Long.toString(Math.max(4096, free)), filler.toAbsolutePath().toString());
        // fallocate rounds to pages; top up whatever is left.
        try (var out = Files.newOutputStream(d.resolve("chaos-filler-2"))) {
            byte[] page = new byte[4096];
            while (true) out.write(page);
        } catch (IOException full) {
            // the disk is full now
        }
        return filler;
    }

    public void freeDisk(int i) throws IOException {
        Path d = dir.resolve(name(i));
        Files.deleteIfExists(d.resolve("chaos-filler"));
        Files.deleteIfExists(d.resolve("chaos-filler-2"));
    }

    public boolean tmpfsDisks() {
        return tmpfsDisks;
    }

    public synchronized boolean isRunning(int i) {
        return processes[i] != null && processes[i].isAlive();
    }

    /** SIGSTOP: the member freezes, timers and all, until {@link #resume}. */
    public synchronized void pause(int i) throws IOException, InterruptedException {
        if (!isRunning(i) || paused[i]) return;
        signal(i, "STOP");
        paused[i] = true;
    }

    public synchronized void resume(int i) throws IOException, InterruptedException {
        if (!isRunning(i) || !paused[i]) return;
        signal(i, "CONT");
        paused[i] = false;
    }

    public synchronized boolean isPaused(int i) {
        return paused[i];
    }

    private void signal(int i, String sig) throws IOException, InterruptedException {
        var p = new ProcessBuilder("kill", "-" + sig, Long.toString(processes[i].pid())).redirectErrorStream(true).start();
        p.getInputStream().readAllBytes();
        if (p.waitFor() != 0) throw new IOException("kill -" + sig + " " + processes[i].pid() + " failed");
    }

    public long pid(int i) {
        return processes[i] == null ? -1 : processes[i].pid();
    }

    /** The member id the members derive from a name. */
    public static long memberId(int i) {
        return ServerConfig.memberId(name(i));
    }

    public static int indexOf(long memberId, int size) {
        for (int i = 0; i < size; i++) if (memberId(i) == memberId) return i;
        return -1;
    }

    /** Maintenance Status of member {@code i}, or empty if it does not answer within the deadline. */
    public Optional<StatusResponse> status(int i, long deadlineMillis) {
        if (!isRunning(i) || isPaused(i)) return Optional.empty();
        try {
            return Optional.of(MaintenanceGrpc.newBlockingStub(channels[i]).withDeadlineAfter(deadlineMillis, TimeUnit.MILLISECONDS)
                    .status(StatusRequest.getDefaultInstance()));
        } catch (RuntimeException e) {
            return Optional.empty();
        }
    }

    /** The member a majority of running members names as leader with the highest term, or -1. */
    public int leader() {
        long bestTerm = -1;
        int best = -1;
        for (int i = 0; i < size; i++) {
            var s = status(i, 500);
            if (s.isEmpty() || s.get().getLeader() == 0) continue;
            if (s.get().getRaftTerm() > bestTerm) {
                bestTerm = s.get().getRaftTerm();
                best = indexOf(s.get().getLeader(), size);
            }
        }
        return best;
    }

    /** {@code {leader index, term}} as the members answering report it (highest term wins), or {@code {-1, -1}}. */
    public long[] leaderAndTerm() {
        long bestTerm = -1;
        int best = -1;
        for (int i = 0; i < size; i++) {
            var st = status(i, 500);
            if (st.isEmpty() || st.get().getLeader() == 0) continue;
            if (st.get().getRaftTerm() > bestTerm) {
                bestTerm = st.get().getRaftTerm();
                best = indexOf(st.get().getLeader(), size);
            }
        }
        return new long[] {best, bestTerm};
    }

    /** Resumes every paused member, heals every link and starts every stopped member. */
    public void healAll() throws IOException, InterruptedException {
        network.heal();
        for (int i = 0; i < size; i++) {
            if (fakeClock) skewClock(i, "+0");
            resume(i);
            if (!isRunning(i)) start(i);
        }
    }

    private void closeQuietly() {
        if (closed) return;
        closed = true;
        for (Process p : processes) if (p != null && p.isAlive()) p.destroyForcibly();
        for (Process p : processes) {
            if (p == null) continue;
            try {
                p.waitFor(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        for (ManagedChannel ch : channels) if (ch != null) ch.shutdownNow();
        network.close();
        for (Path m : mounts) {
            try {
                NetnsNetwork.run("umount", "-l", m.toAbsolutePath().toString());
            } catch (IOException ignored) {
                // already unmounted
            }
        }
        mounts.clear();
    }

    @Override
    public void close() {
        closeQuietly();
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException shuttingDown) {
            // the hook is running or has run
        }
    }
}
