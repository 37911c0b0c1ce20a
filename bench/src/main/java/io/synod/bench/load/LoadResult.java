package io.synod.bench.load;

/**
 * What one run measured. Latencies are in milliseconds; {@code serverCpuMicrosPerOp} is the user+system
 * CPU time of the given server processes divided by completed operations (the steadiest figure on a
 * shared machine), or -1 when no pids were given.
 */
public record LoadResult(
        Workload workload,
        long operations,
        long errors,
        double seconds,
        double opsPerSecond,
        double p50Ms,
        double p90Ms,
        double p99Ms,
        double p999Ms,
        double maxMs,
        double serverCpuMicrosPerOp,
        long serverPeakRssBytes) {

    public String table() {
        return String.format("%-17s %10.0f ops/s  p50 %7.2f ms  p90 %7.2f  p99 %7.2f  p99.9 %7.2f  max %7.2f  errors %d  cpu/op %s  peak_rss %s",
                workload.cliName, opsPerSecond, p50Ms, p90Ms, p99Ms, p999Ms, maxMs, errors,
                serverCpuMicrosPerOp < 0 ? "n/a" : String.format("%.1f us", serverCpuMicrosPerOp),
                serverPeakRssBytes <= 0 ? "n/a" : (serverPeakRssBytes >> 20) + " MiB");
    }

    public String json() {
        return String.format(java.util.Locale.ROOT,
                "{\"workload\":\"%s\",\"operations\":%d,\"errors\":%d,\"seconds\":%.3f,\"ops_per_second\":%.1f,\"p50_ms\":%.3f,"
                        + "\"p90_ms\":%.3f,\"p99_ms\":%.3f,\"p999_ms\":%.3f,\"max_ms\":%.3f,\"server_cpu_us_per_op\":%.2f,\"server_peak_rss_bytes\":%d}",
                workload.cliName, operations, errors, seconds, opsPerSecond, p50Ms, p90Ms, p99Ms, p999Ms, maxMs, serverCpuMicrosPerOp,
                serverPeakRssBytes);
    }
}
