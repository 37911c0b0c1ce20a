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
            try {
                for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
                    if (line.startsWith("VmHWM:")) total += Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
                }
            } catch (IOException | RuntimeException e) {
                return -1;
            }
        }
        return total;
    }
}
