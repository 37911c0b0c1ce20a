package io.synod.chaos;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Per-member monotonic clock offsets through Linux time namespaces ({@code unshare --time},
 * kernel 5.6+): before each start of a member the harness creates a fresh time namespace, kept
 * alive by a bind mount on {@code <run dir>/<name>.timens}, whose {@code CLOCK_MONOTONIC} and
 * {@code CLOCK_BOOTTIME} are offset by a drawn number of seconds, and launches the member with
 * {@code nsenter --time=<file>}. Members then disagree on monotonic time by up to days, and a
 * restarted member comes back with another offset (as after a reboot), so anything that compared
 * {@code System.nanoTime()} values across processes, or kept one across a restart, would show up.
 * Wall clocks are untouched (libfaketime's {@code clock} scenario does those). Offsets are fixed
 * for a namespace's lifetime (the kernel allows setting them only before the first process
 * enters), so this is a start-time property of every run, not a fault that moves a running clock.
 */
final class TimeNamespaces {
    private TimeNamespaces() {}

    /** Largest backwards offset: the kernel refuses offsets that would make a clock negative, so it is bounded by the uptime too. */
    static final long BACK_SECONDS_MAX = 3600;
    /** Largest forward offset: ten days. */
    static final long FORWARD_SECONDS_MAX = 10 * 86_400;

    /** Why time namespaces cannot be used here, or empty if they can (root, unshare and nsenter, and a probe works). */
    static Optional<String> unavailableReason() {
        if (!"root".equals(System.getProperty("user.name"))) return Optional.of("not running as root");
        for (String tool : List.of("unshare", "nsenter", "mount", "umount")) {
            if (NetnsNetwork.which(tool).isEmpty()) return Optional.of(tool + " not found (util-linux)");
        }
        Path probe = null;
        try {
            probe = Files.createTempFile("synod-chaos-timens-probe", ".timens");
            create(probe, 1000);
            String offsets = NetnsNetwork.run("nsenter", "--time=" + probe, "cat", "/proc/self/timens_offsets");
            if (!offsets.contains("monotonic") || !offsets.contains("1000")) return Optional.of("probe namespace shows offsets '" + offsets.strip() + "'");
            return Optional.empty();
        } catch (IOException e) {
            return Optional.of("this kernel or environment has no usable time namespaces (unshare --time --monotonic 1000 failed: "
                    + e.getMessage() + ")");
        } finally {
            if (probe != null) release(probe);
        }
    }

    /** Creates a time namespace with monotonic and boottime clocks offset by {@code seconds}, pinned by a bind mount on {@code file}. */
    static void create(Path file, long seconds) throws IOException {
        if (!Files.exists(file)) Files.createFile(file);
        String s = Long.toString(seconds);
        NetnsNetwork.run("unshare", "--time=" + file.toAbsolutePath(), "--monotonic", s, "--boottime", s, "true");
    }

    /** Unmounts the namespace's pin (the namespace goes once its last process has exited) and deletes the file; quiet. */
    static void release(Path file) {
        try {
            NetnsNetwork.run("umount", file.toAbsolutePath().toString());
        } catch (IOException notMounted) {
            // never created, or already released
        }
        try {
            Files.deleteIfExists(file);
        } catch (IOException ignored) {
            // left for the run directory's cleanup
        }
    }

    /** {@code nsenter --time=<file>}: the prefix that starts a member inside the namespace. */
    static List<String> prefix(Path file) {
        var l = new ArrayList<String>();
        l.add(NetnsNetwork.which("nsenter").map(Path::toString).orElse("nsenter"));
        l.add("--time=" + file.toAbsolutePath());
        return l;
    }

    /** An offset in seconds from a draw in [0, 1): a third backwards (bounded by the uptime), the rest forwards. */
    static long offsetSeconds(double draw, double uptimeSeconds) {
        long back = (long) Math.min(BACK_SECONDS_MAX, Math.max(0, uptimeSeconds - 60));
        if (draw < 1.0 / 3) return -(long) (back * draw * 3);
        return 1 + (long) (FORWARD_SECONDS_MAX * (draw - 1.0 / 3) * 1.5);
    }

    /** The host's uptime in seconds ({@code /proc/uptime}), or 0 if unknown. */
    static double uptimeSeconds() {
        try {
            return Double.parseDouble(Files.readString(Path.of("/proc/uptime")).trim().split("\\s+")[0]);
        } catch (IOException | RuntimeException e) {
            return 0;
        }
    }
}
