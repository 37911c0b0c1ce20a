package io.synod.cli;

import com.google.protobuf.ByteString;
import io.etcd.jetcd.api.KVGrpc;
import io.etcd.jetcd.api.RangeRequest;
import io.etcd.jetcd.api.RangeResponse;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.synod.bench.load.BulkLoad;
import io.synod.bench.load.ProcStats;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The {@code footprint} mode of {@code synod bench compare} (issue 6's memory and startup goals), for one
 * 3-member cluster at a time: loads N keys of 256-byte values in large transactions, waits until every
 * member has applied them, reads each member's peak and current RSS and the size of its data directory,
 * then stops one follower gracefully (SIGTERM), starts it again with its original command line and times
 * process start to the first serializable Range on that member that returns the last key loaded with the
 * expected value and at least the load's final revision; then the same after a SIGKILL. A follower, so
 * the cluster keeps its leader and the figure is the member's own recovery, not an election.
 */
final class FootprintRun {
    /** Bytes of every value, as the issue asks. */
    static final int VALUE_BYTES = 256;
    /** Deadline of the whole bulk load (1,000,000 keys took well under this on a loaded 2-core machine). */
    static final long LOAD_TIMEOUT_SECONDS = 1_800;
    /** How long the followers may take to apply the load's last revision. */
    static final long CATCH_UP_TIMEOUT_SECONDS = 300;
    /** Deadline of a graceful stop before the member is killed instead (and of a kill). */
    static final long STOP_TIMEOUT_SECONDS = 60;
    /** How long a restarted member may take to serve before the run fails. */
    static final long RESTART_TIMEOUT_SECONDS = 300;
    /**
     * Deadline of one probe Range: long, so a slow first answer of a cold process counts as the time it took rather than as a
     * refusal followed by a retry. The pause between probes (and the connect timeout while the port is closed) sets the restart
     * figure's resolution (~10-20 ms).
     */
    static final long PROBE_DEADLINE_MILLIS = 5_000, PROBE_INTERVAL_MILLIS = 10, CONNECT_TIMEOUT_MILLIS = 200;

    private FootprintRun() {}

    /** The members of one cluster under test, which this run may stop and start again. */
    interface Cluster {
        /** "synod" or "etcd". */
        String system();

        /** host:port of each member's client endpoint. */
        List<String> endpoints();

        /** Current pid of member {@code i} (changes when it is started again). */
        long pid(int i);

        /** Member {@code i}'s data directory. */
        Path dataDir(int i);

        /** Stops member {@code i} (SIGTERM, or SIGKILL when {@code kill}) and waits for it to exit. */
        void stop(int i, boolean kill) throws Exception;

        /** Starts member {@code i} again with its original command line; returns at once. */
        void start(int i) throws IOException;
    }

    /**
     * What one system measured; sizes in bytes, times in milliseconds, per-member arrays in member order.
     *
     * @param restartedRssBytes RSS of the restarted (SIGTERM) member as soon as it served
     * @param restart           the restart after SIGTERM; {@code killRestart} the one after SIGKILL
     */
    record Figures(String system, int keys, double loadSeconds, long[] peakRssBytes, long[] rssAfterLoadBytes, long[] diskBytes,
            int follower, double stopMs, Restart restart, long restartedRssBytes, Restart killRestart) {
        double restartMs() {
            return restart.serveMs();
        }

        double killRestartMs() {
            return killRestart.serveMs();
        }

        long maxPeakRss() {
            return Arrays.stream(peakRssBytes).max().orElse(-1);
        }

        long maxRssAfterLoad() {
            return Arrays.stream(rssAfterLoadBytes).max().orElse(-1);
        }

        long maxDisk() {
            return Arrays.stream(diskBytes).max().orElse(-1);
        }
    }

    /**
     * One restart's phases, in milliseconds from just before the process started: its client port accepting a connection, and
     * the first good answer.
     */
    record Restart(double listenMs, double serveMs) {}

    static Figures measure(Cluster c, int keys, int opsPerTxn, int concurrency, PrintStream log) throws Exception {
        int n = c.endpoints().size();
        log.printf("  footprint %s: loading %d keys (%d puts per txn, %d txns in flight)%n", c.system(), keys, opsPerTxn, concurrency);
        BulkLoad.Result r = BulkLoad.load(c.endpoints(), keys, VALUE_BYTES, opsPerTxn, concurrency, LOAD_TIMEOUT_SECONDS, log);
        log.printf("  footprint %s: loaded in %.1f s (%.0f keys/s), revision %d%n", c.system(), r.seconds(), r.keysPerSecond(), r.revision());
        ByteString lastKey = BulkLoad.key(keys - 1), lastValue = BulkLoad.value(keys - 1, VALUE_BYTES);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(CATCH_UP_TIMEOUT_SECONDS);
        for (int i = 0; i < n; i++) {
            while (!serves(c.endpoints().get(i), lastKey, lastValue, r.revision())) {
                if (System.nanoTime() > deadline) throw new IllegalStateException(c.system() + " member " + i + " did not catch up");
                Thread.sleep(100);
            }
        }
        long[] peak = new long[n], rss = new long[n], disk = new long[n];
        for (int i = 0; i < n; i++) {
            peak[i] = ProcStats.peakRssBytes(c.pid(i));
            rss[i] = ProcStats.rssBytes(c.pid(i));
            disk[i] = diskUsageBytes(c.dataDir(i));
        }
        int f = follower(c);
        log.printf("  footprint %s: restarting follower %d after SIGTERM%n", c.system(), f);
        long t0 = System.nanoTime();
        c.stop(f, false);
        double stopMs = (System.nanoTime() - t0) / 1e6;
        Restart restart = timeToServe(c, f, lastKey, lastValue, r.revision(), log);
        long restartedRss = ProcStats.rssBytes(c.pid(f));
        log.printf("  footprint %s: restarting follower %d after SIGKILL%n", c.system(), f);
        c.stop(f, true);
        Restart killRestart = timeToServe(c, f, lastKey, lastValue, r.revision(), log);
        return new Figures(c.system(), keys, r.seconds(), peak, rss, disk, f, stopMs, restart, restartedRss, killRestart);
    }

    /**
     * Starts member {@code i} and times it from just before its process starts: to its client port accepting a connection, and to
     * its first good answer. Logs how many probes the port saw before that and why the first one failed (the phase after listening).
     */
    private static Restart timeToServe(Cluster c, int i, ByteString key, ByteString value, long revision, PrintStream log) throws Exception {
        long t0 = System.nanoTime();
        c.start(i);
        long deadline = t0 + TimeUnit.SECONDS.toNanos(RESTART_TIMEOUT_SECONDS);
        double listenMs = -1;
        int probesAfterListen = 0;
        String firstRefusal = null;
        String[] why = new String[1];
        String[] hp = c.endpoints().get(i).split(":");
        while (System.nanoTime() < deadline) {
            if (listenMs < 0 && accepts(hp[0], Integer.parseInt(hp[1]))) listenMs = (System.nanoTime() - t0) / 1e6;
            if (listenMs >= 0) {
                if (serves(c.endpoints().get(i), key, value, revision, why)) {
                    double serveMs = (System.nanoTime() - t0) / 1e6;
                    log.printf(java.util.Locale.ROOT, "  footprint %s: member %d listening after %.0f ms, serving after %.0f ms (%d probes failed once"
                            + " listening%s)%n", c.system(), i, listenMs, serveMs, probesAfterListen, firstRefusal == null ? "" : "; first: " + firstRefusal);
                    return new Restart(listenMs, serveMs);
                }
                probesAfterListen++;
                if (firstRefusal == null) firstRefusal = why[0];
            }
            if (ProcessHandle.of(c.pid(i)).filter(ProcessHandle::isAlive).isEmpty()) {
                throw new IllegalStateException(c.system() + " member " + i + " exited while starting again");
            }
            Thread.sleep(PROBE_INTERVAL_MILLIS);
        }
        throw new IllegalStateException(c.system() + " member " + i + " did not serve within " + RESTART_TIMEOUT_SECONDS + " s of restarting");
    }

    /**
     * Whether the member at {@code endpoint} answers a serializable (local) Range of {@code key} with {@code value} at a revision of at
     * least {@code revision}. A new channel per probe: a channel that met a refused connection backs off for a second or more before
     * trying again, which would be added to the restart time.
     */
    static boolean serves(String endpoint, ByteString key, ByteString value, long revision) throws InterruptedException {
        return serves(endpoint, key, value, revision, new String[1]);
    }

    /** {@link #serves(String, ByteString, ByteString, long)}, saying in {@code why[0]} why not. */
    static boolean serves(String endpoint, ByteString key, ByteString value, long revision, String[] why) throws InterruptedException {
        ManagedChannel ch = NettyChannelBuilder.forTarget(endpoint).usePlaintext().maxInboundMessageSize(16 << 20).build();
        try {
            RangeResponse r = KVGrpc.newBlockingStub(ch).withDeadlineAfter(PROBE_DEADLINE_MILLIS, TimeUnit.MILLISECONDS)
                    .range(RangeRequest.newBuilder().setKey(key).setSerializable(true).build());
            boolean good = r.getHeader().getRevision() >= revision && r.getKvsCount() == 1 && r.getKvs(0).getValue().equals(value);
            if (!good) why[0] = "answered at revision " + r.getHeader().getRevision() + " with " + r.getKvsCount() + " kvs";
            return good;
        } catch (RuntimeException notYet) {
            why[0] = String.valueOf(notYet.getMessage());
            return false;
        } finally {
            ch.shutdownNow();
            ch.awaitTermination(1, TimeUnit.SECONDS);
        }
    }

    /** Whether a TCP connection to host:port is accepted (the member's client listener is up). */
    private static boolean accepts(String host, int port) {
        try (var sock = new java.net.Socket()) {
            sock.connect(new java.net.InetSocketAddress(host, port), (int) CONNECT_TIMEOUT_MILLIS);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** A member that is not the leader, so restarting it needs no election. */
    private static int follower(Cluster c) throws InterruptedException {
        return LeaderProbe.follower(c.system(), c.endpoints());
    }

    /** Disk space the directory takes ({@code du -sk}: allocated blocks, so a sparse or preallocated file counts as what it uses). */
    static long diskUsageBytes(Path dir) {
        try {
            Process p = new ProcessBuilder("du", "-sk", dir.toString()).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) return -1;
            return parseDuKib(out) * 1024;
        } catch (IOException | InterruptedException | RuntimeException e) {
            return -1;
        }
    }

    /** The KiB figure of {@code du -sk}'s output ("12345\tPATH"), or -1 when it has none. */
    static long parseDuKib(String duOutput) {
        String first = duOutput.strip().split("\\s+", 2)[0];
        return first.matches("[0-9]+") ? Long.parseLong(first) : -1;
    }

    static String mib(long bytes) {
        return bytes < 0 ? "n/a" : String.format(java.util.Locale.ROOT, "%.0f", bytes / 1048576.0);
    }

    static String ratio(double a, double b) {
        return a < 0 || b <= 0 ? "n/a" : String.format(java.util.Locale.ROOT, "%.2f", a / b);
    }

    /** The summary line: the fields first (peak RSS of the largest member, graceful restart), then the other figures. */
    static String line(Figures s, Figures e) {
        return String.format(java.util.Locale.ROOT,
                "footprint keys=%d synod_rss_mb=%s etcd_rss_mb=%s rss_ratio=%s synod_restart_ms=%.0f etcd_restart_ms=%.0f"
                        + " synod_kill_restart_ms=%.0f etcd_kill_restart_ms=%.0f synod_rss_after_load_mb=%s etcd_rss_after_load_mb=%s"
                        + " synod_disk_mb=%s etcd_disk_mb=%s synod_load_s=%.1f etcd_load_s=%.1f",
                s.keys(), mib(s.maxPeakRss()), mib(e.maxPeakRss()), ratio(s.maxPeakRss(), e.maxPeakRss()), s.restartMs(), e.restartMs(),
                s.killRestartMs(), e.killRestartMs(), mib(s.maxRssAfterLoad()), mib(e.maxRssAfterLoad()), mib(s.maxDisk()), mib(e.maxDisk()),
                s.loadSeconds(), e.loadSeconds());
    }

    /** The markdown table of both systems' figures. */
    static String markdown(Figures s, Figures e) {
        var b = new StringBuilder();
        b.append(String.format(java.util.Locale.ROOT, "| footprint, %,d keys of %d-byte values | synod | etcd | synod/etcd |%n", s.keys(), VALUE_BYTES));
        b.append("|---|---|---|---|\n");
        row(b, "bulk load, s (keys/s)", String.format(java.util.Locale.ROOT, "%.1f (%.0f)", s.loadSeconds(), s.keys() / s.loadSeconds()),
                String.format(java.util.Locale.ROOT, "%.1f (%.0f)", e.loadSeconds(), e.keys() / e.loadSeconds()), ratio(s.loadSeconds(), e.loadSeconds()));
        row(b, "peak RSS of the largest member, MiB", mib(s.maxPeakRss()), mib(e.maxPeakRss()), ratio(s.maxPeakRss(), e.maxPeakRss()));
        row(b, "peak RSS per member, MiB", perMember(s.peakRssBytes()), perMember(e.peakRssBytes()), "");
        row(b, "RSS after the load, largest member, MiB", mib(s.maxRssAfterLoad()), mib(e.maxRssAfterLoad()),
                ratio(s.maxRssAfterLoad(), e.maxRssAfterLoad()));
        row(b, "data directory on disk, largest member, MiB", mib(s.maxDisk()), mib(e.maxDisk()), ratio(s.maxDisk(), e.maxDisk()));
        row(b, "graceful stop of a follower (SIGTERM to exit), ms", fmt(s.stopMs()), fmt(e.stopMs()), ratio(s.stopMs(), e.stopMs()));
        row(b, "restart after SIGTERM: client port open, ms", fmt(s.restart().listenMs()), fmt(e.restart().listenMs()),
                ratio(s.restart().listenMs(), e.restart().listenMs()));
        row(b, "**restart to serve after SIGTERM**, ms", fmt(s.restartMs()), fmt(e.restartMs()), ratio(s.restartMs(), e.restartMs()));
        row(b, "restart after SIGKILL: client port open, ms", fmt(s.killRestart().listenMs()), fmt(e.killRestart().listenMs()),
                ratio(s.killRestart().listenMs(), e.killRestart().listenMs()));
        row(b, "restart to serve after SIGKILL, ms", fmt(s.killRestartMs()), fmt(e.killRestartMs()), ratio(s.killRestartMs(), e.killRestartMs()));
        row(b, "RSS of the restarted member once serving, MiB", mib(s.restartedRssBytes()), mib(e.restartedRssBytes()),
                ratio(s.restartedRssBytes(), e.restartedRssBytes()));
        return b.toString();
    }

    private static String fmt(double ms) {
        return String.format(java.util.Locale.ROOT, "%.0f", ms);
    }

    private static String perMember(long[] bytes) {
        return String.join(" / ", Arrays.stream(bytes).mapToObj(FootprintRun::mib).toList());
    }

    private static void row(StringBuilder b, String what, String synod, String etcd, String ratio) {
        b.append("| ").append(what).append(" | ").append(synod).append(" | ").append(etcd).append(" | ").append(ratio).append(" |\n");
    }
}
