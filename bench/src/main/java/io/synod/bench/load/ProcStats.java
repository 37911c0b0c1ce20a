package io.synod.bench.load;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * CPU time and peak memory of server processes, read from Linux's /proc. CPU time per operation
 * is the steadiest comparison on a small shared machine: it does not depend on how the two
 * cores happened to be shared during the run.
 */
public final class ProcStats {
    private ProcStats() {}

    private static final long CLOCK_TICKS_PER_SECOND = 100; // USER_HZ on Linux

    /** utime + stime of all given processes, in nanoseconds; -1 if any cannot be read. */
    public static long cpuNanos(List<Long> pids) {
        long total = 0;
        for (long pid : pids) {
            try {
                String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
                // Fields after the ")" that closes the command name: state is field 3, utime 14, stime 15.
                String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
                total += (Long.parseLong(f[11]) + Long.parseLong(f[12])) * (1_000_000_000L / CLOCK_TICKS_PER_SECOND);
            } catch (IOException | RuntimeException e) {
                return -1;
            }
        }
        return total;
    }

    /** Sum of the peak resident set sizes (VmHWM) of the given processes, in bytes; -1 if unreadable. */
    public static long peakRssBytes(List<Long> pids) {
        long total = 0;
        for (long pid : pids) {
            long b = statusBytes(pid, "VmHWM");
            if (b < 0) return -1;
            total += b;
        }
        return total;
    }

    /** The peak resident set size (VmHWM) of one process since it started, in bytes; -1 if unreadable. */
    public static long peakRssBytes(long pid) {
        return statusBytes(pid, "VmHWM");
    }

    /** The current resident set size (VmRSS) of one process, in bytes; -1 if unreadable. */
    public static long rssBytes(long pid) {
        return statusBytes(pid, "VmRSS");
    }

    private static long statusBytes(long pid, String field) {
        try {
            return statusField(Files.readString(Path.of("/proc", Long.toString(pid), "status")), field);
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    /** A "kB" field of a /proc/PID/status text (e.g. {@code VmRSS:  123 kB}) in bytes, or -1 when absent. */
    static long statusField(String status, String field) {
        for (String line : status.split("\n")) {
            if (line.startsWith(field + ":")) return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
        }
        return -1;
    }
}
