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
 * <p>Slots and membership. The cluster has a fixed number of slots (name {@code c<slot+1>}, one
 * address and data directory each); the first {@code founders} found the cluster, the others are
 * free until {@link Membership} adds a member there. A slot's member is a voter, a learner, or
 * none (free). {@link #members()} is the current member set everything else iterates over (clients
 * rotate through it, checkers read every current member, faults pick victims in it). A founding
 * member starts with {@code --initial-cluster-state new} and the founders' {@code --initial-cluster};
 * a member added at run time (or a founder's slot re-added after its removal, on a fresh data
 * directory) starts with {@code existing} and the current members, as etcd requires. Member ids come
 * from the names for founders and from MemberAdd for the others ({@link #slotOf}).
 *
 * <p>Options that apply to every start: {@code --synod-unsafe-power-cut-emulation} (a SIGKILL then
 * loses unflushed WAL writes, as a power cut would), and a fresh time namespace with its own
 * monotonic clock offset per start ({@link TimeNamespaces}) when available.
 *
 * <p>Cleanup is not optional: {@link #close} kills every member this object started (SIGKILL ends
 * stopped processes too) and then tears the network down (proxies, or namespaces, veths and the
 * bridge), and a JVM shutdown hook does the same if the harness is interrupted. Only processes
 * started here are ever signalled, by pid.
 */
public final class LocalCluster implements AutoCloseable {
    private final int size;
    private final int founders;
    /** Per slot: VOTER, LEARNER or FREE; guarded by this. */
    private final Role[] roles;
    /** Per slot: the Raft id of its current member (0 if free); guarded by this. */
    private final long[] ids;
    /** Per slot: whether its member is the founding one (started with "new" on its original data directory). */
    private final boolean[] founding;
    /** Per slot: how many members it has held (a re-added slot starts on a fresh data directory). */
    private final int[] incarnations;
    /** Per slot: the member a joining member should ask first (see {@link #askFirst}), or -1. */
    private final int[] askFirst;
    /** Per slot: processes started there, for the clock-offset notes. */
    private final int[] starts;
    /** Current member slots in slot order, replaced on every change: what clients rotate through. */
    private volatile int[] memberSlots;
    private final java.util.function.LongSupplier offsetDraws;
    private final boolean timeNamespaces;
    private final List<String> notes = java.util.Collections.synchronizedList(new ArrayList<>());
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

    /** A slot's member: a voter, a learner, or none. */
    public enum Role { VOTER, LEARNER, FREE }

    /**
     * Takes ownership of {@code network}: closing the cluster (or the shutdown hook) closes it.
     *
     * @param size           slots (at most the network's); the first {@code founders} are the founding members
     * @param timeNamespaces start every member in a time namespace of its own with a monotonic offset drawn from {@code seed}
     */
    public LocalCluster(int size, int founders, Path dir, Network network, long tickMillis, List<String> extraFlags, boolean fakeClock,
            boolean tmpfsDisks, boolean timeNamespaces, long seed) throws IOException {
        io.synod.common.Assert.that(founders >= 1 && founders <= size, "founders %d must be in [1, slots %d]", founders, size);
        this.fakeClock = fakeClock && clockSkewAvailable();
        this.tmpfsDisks = tmpfsDisks;
        this.exitExpected = new boolean[size];
        this.size = size;
        this.founders = founders;
        this.roles = new Role[size];
        this.ids = new long[size];
        this.founding = new boolean[size];
        this.incarnations = new int[size];
        this.starts = new int[size];
        this.askFirst = new int[size];
        java.util.Arrays.fill(askFirst, -1);
        for (int i = 0; i < size; i++) {
            roles[i] = i < founders ? Role.VOTER : Role.FREE;
            ids[i] = i < founders ? ServerConfig.memberId(name(i)) : 0;
            founding[i] = i < founders;
            incarnations[i] = i < founders ? 1 : 0;
        }
        publishMembers();
        this.timeNamespaces = timeNamespaces;
        var draws = new java.util.SplittableRandom(seed * 6_364_136_223_846_793_005L + 1);
        this.offsetDraws = () -> Double.doubleToLongBits(draws.nextDouble());
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

    /** Number of slots, members or not. */
    public int slots() {
        return size;
    }

    /** Number of founding members. */
    public int founders() {
        return founders;
    }

    /** The current members' slots (voters and learners), in slot order. */
    public List<Integer> members() {
        int[] m = memberSlots;
        var l = new ArrayList<Integer>(m.length);
        for (int i : m) l.add(i);
        return l;
    }

    /** The slot of the {@code k}-th current member (modulo their number): how clients rotate through the members. */
    public int memberSlot(int k) {
        int[] m = memberSlots;
        return m[Math.floorMod(k, m.length)];
    }

    public synchronized Role role(int slot) {
        return roles[slot];
    }

    public synchronized boolean isMember(int slot) {
        return roles[slot] != Role.FREE;
    }

    /** The Raft id of the slot's current member (0 if free). */
    public synchronized long id(int slot) {
        return ids[slot];
    }

    /** The slot whose current member has Raft id {@code memberId}, or -1. */
    public synchronized int slotOf(long memberId) {
        for (int i = 0; i < size; i++) if (roles[i] != Role.FREE && ids[i] == memberId) return i;
        return -1;
    }

    /** Free slots, in slot order. */
    public synchronized List<Integer> freeSlots() {
        var l = new ArrayList<Integer>();
        for (int i = 0; i < size; i++) if (roles[i] == Role.FREE) l.add(i);
        return l;
    }

    private synchronized void publishMembers() {
        memberSlots = java.util.stream.IntStream.range(0, size).filter(i -> roles[i] != Role.FREE).toArray();
    }

    /**
     * Records that MemberAdd gave slot {@code slot} a member with {@code memberId}: its old data
     * directory (of a removed member) is moved aside, so the new member starts empty and joins.
     */
    public void added(int slot, long memberId, boolean learner) throws IOException {
        synchronized (this) {
            io.synod.common.Assert.that(roles[slot] == Role.FREE, "slot %s must be free to add a member, is %s", name(slot), roles[slot]);
            io.synod.common.Assert.that(processes[slot] == null || !processes[slot].isAlive(), "slot %s still runs pid %d", name(slot),
                    pid(slot));
            Path data = dir.resolve(name(slot));
            if (mounts.contains(data)) {
                try (var walk = Files.walk(data)) {
                    for (Path f : walk.sorted(java.util.Comparator.reverseOrder()).toList()) if (!f.equals(data)) Files.delete(f);
                }
            } else if (Files.exists(data)) {
                Files.move(data, dir.resolve(name(slot) + "-removed-" + incarnations[slot]));
            }
            roles[slot] = learner ? Role.LEARNER : Role.VOTER;
            ids[slot] = memberId;
            founding[slot] = false;
            incarnations[slot]++;
        }
        publishMembers();
    }

    /**
     * Puts member {@code first} at the head of slot {@code slot}'s {@code --initial-cluster}: a joining member asks
     * the members there in order for the member list, and must be answered by one that already lists it.
     */
    public synchronized void askFirst(int slot, int first) {
        askFirst[slot] = first;
    }

    /** Records a learner's promotion. */
    public synchronized void promoted(int slot) {
        io.synod.common.Assert.that(roles[slot] == Role.LEARNER, "slot %s promoted but is %s", name(slot), roles[slot]);
        roles[slot] = Role.VOTER;
    }

    /** Records that the slot's member was removed from the cluster: it is no longer a member, and its exit is expected. */
    public void removed(int slot) {
        synchronized (this) {
            io.synod.common.Assert.that(roles[slot] != Role.FREE, "slot %s removed but is free", name(slot));
            roles[slot] = Role.FREE;
            exitExpected[slot] = true;
        }
        publishMembers();
    }

    /** Membership changes and clock offsets, for the report. */
    public List<String> notes() {
        synchronized (notes) {
            return List.copyOf(notes);
        }
    }

    /** Whether members start in time namespaces of their own. */
    public boolean timeNamespaces() {
        return timeNamespaces;
    }

    public Network network() {
        return network;
    }

    public static String name(int i) {
        return "c" + (i + 1);
    }

    /** The client channel of slot {@code i} (member or not). */
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

    /**
     * Starts the member of slot {@code i} (again) on its data directory; its output is appended to
     * {@code <dir>/<name>.log}. A founding member gets {@code new} and the founders; any other gets
     * {@code existing} and the current members (a joining member checks they match the cluster's).
     */
    public synchronized void start(int i) throws IOException {
        if (closed) throw new IllegalStateException("cluster closed");
        if (roles[i] == Role.FREE) throw new IllegalStateException(name(i) + " is not a member (slot free): not started");
        if (processes[i] != null && processes[i].isAlive()) throw new IllegalStateException(name(i) + " is running");
        noteExit(i);
        exitExpected[i] = false;
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        var cmd = new ArrayList<>(network.launchPrefix(i));
        if (timeNamespaces) cmd.addAll(newTimeNamespace(i));
        var order = new ArrayList<Integer>();
        if (!founding[i] && askFirst[i] >= 0 && roles[askFirst[i]] != Role.FREE) order.add(askFirst[i]);
        for (int k = 0; k < size; k++) {
            if ((founding[i] ? k >= founders : roles[k] == Role.FREE) || order.contains(k)) continue;
            order.add(k);
        }
        var initial = new StringBuilder();
        for (int k : order) initial.append(initial.length() == 0 ? "" : ",").append(name(k)).append('=').append(network.peerUrl(i, k));
        cmd.addAll(List.of(java, "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
                "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"), "io.synod.server.ServerMain",
                "--name", name(i), "--data-dir", dir.resolve(name(i)).toAbsolutePath().toString(),
                "--initial-cluster-state", founding[i] ? "new" : "existing", "--initial-cluster", initial.toString(),
                "--synod-tick-ms", Long.toString(tickMillis)));
        cmd.addAll(network.listenFlags(i));
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

    /** A fresh time namespace for slot {@code i}'s next process, with a drawn monotonic offset (noted for the report). */
    private List<String> newTimeNamespace(int i) throws IOException {
        Path file = dir.resolve(name(i) + ".timens");
        TimeNamespaces.release(file);
        long offset = TimeNamespaces.offsetSeconds(Double.longBitsToDouble(offsetDraws.getAsLong()), TimeNamespaces.uptimeSeconds());
        TimeNamespaces.create(file, offset);
        notes.add(String.format("%s start %d: monotonic and boottime clocks offset by %+d s (time namespace)", name(i), ++starts[i], offset));
        return TimeNamespaces.prefix(file);
    }


    /** Starts every current member. */
    public void startAll() throws IOException {
        for (int i : members()) start(i);
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

    /** SIGKILL of several members at the same moment (all signals first, then the waits), as a power cut of their machines. */
    public synchronized void killTogether(java.util.Collection<Integer> slots) throws InterruptedException {
        var killed = new ArrayList<Process>();
        for (int i : slots) {
            Process p = processes[i];
            if (p == null || !p.isAlive()) continue;
            exitExpected[i] = true;
            p.destroyForcibly();
            killed.add(p);
            paused[i] = false;
        }
        for (Process p : killed) p.waitFor(10, TimeUnit.SECONDS);
    }

    /** Whether members run with {@code --synod-unsafe-power-cut-emulation} (a kill loses unflushed WAL writes). */
    public boolean powerCutEmulation() {
        return extraFlags.stream().anyMatch(f -> f.startsWith("--synod-unsafe-power-cut-emulation") && !f.endsWith("=false"));
    }

    /** The harness is about to make member {@code i} fail (e.g. fill its disk): its exit is not a crash. */
    public synchronized void expectExit(int i) {
        exitExpected[i] = true;
    }

    /** Undoes {@link #expectExit} for a member that survived what the harness did to it. */
    public synchronized void clearExpectedExit(int i) {
        if (isRunning(i)) exitExpected[i] = false;
    }

    /** Waits up to {@code millis} for slot {@code i}'s process to end on its own; true if it has (or never ran). */
    public boolean awaitExit(int i, long millis) throws InterruptedException {
        Process p;
        synchronized (this) {
            p = processes[i];
        }
        return p == null || p.waitFor(millis, TimeUnit.MILLISECONDS);
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

    /** The slot of the leader the answering members name with the highest term, or -1. */
    public int leader() {
        return (int) leaderAndTerm()[0];
    }

    /** {@code {leader slot, term}} as the current members answering report it (highest term wins), or {@code {-1, -1}}. */
    public long[] leaderAndTerm() {
        long bestTerm = -1;
        int best = -1;
        for (int i : members()) {
            var st = status(i, 500);
            if (st.isEmpty() || st.get().getLeader() == 0) continue;
            if (st.get().getRaftTerm() > bestTerm) {
                bestTerm = st.get().getRaftTerm();
                best = slotOf(st.get().getLeader());
            }
        }
        return new long[] {best, bestTerm};
    }

    /** Resumes every paused process, heals every link and starts every current member that is not running. */
    public void healAll() throws IOException, InterruptedException {
        network.heal();
        for (int i = 0; i < size; i++) {
            if (fakeClock) skewClock(i, "+0");
            resume(i);
            if (isMember(i) && !isRunning(i)) start(i);
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
        if (timeNamespaces) for (int i = 0; i < size; i++) TimeNamespaces.release(dir.resolve(name(i) + ".timens"));
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
