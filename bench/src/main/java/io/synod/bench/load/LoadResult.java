package io.synod.bench.load;

/**
 * What one run measured. Latencies are in milliseconds; {@code serverCpuMicrosPerOp} is the user+system
 * CPU time of the given server processes divided by completed operations (the steadiest figure on a
 * shared machine), or -1 when no pids were given. An "operation" is what the workload counts: a
 * request answered, or for watch fan-out an event delivered. {@code extras} holds the workload's
 * other figures by name (writes per second under fan-out, lease expiry accuracy), in order.
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
        long serverPeakRssBytes,
        java.util.Map<String, Double> extras) {

    public LoadResult {
        extras = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(extras));
    }

    /** A named extra figure, or NaN when the run did not produce it. */
    public double extra(String name) {
        return extras.getOrDefault(name, Double.NaN);
    }

    private String extrasText(String sep, String kv, boolean quoteKeys) {
        var b = new StringBuilder();
        for (var e : extras.entrySet()) {
            b.append(sep).append(quoteKeys ? "\"" + e.getKey() + "\"" : e.getKey()).append(kv);
            double v = e.getValue();
            b.append(v == Math.rint(v) && Math.abs(v) < 1e15 ? Long.toString((long) v) : String.format(java.util.Locale.ROOT, "%.3f", v));
        }
        return b.toString();
    }

    public String table() {
        return String.format("%-17s %10.0f ops/s  p50 %7.2f ms  p90 %7.2f  p99 %7.2f  p99.9 %7.2f  max %7.2f  errors %d  cpu/op %s  peak_rss %s",
                workload.cliName, opsPerSecond, p50Ms, p90Ms, p99Ms, p999Ms, maxMs, errors,
                serverCpuMicrosPerOp < 0 ? "n/a" : String.format("%.1f us", serverCpuMicrosPerOp),
                serverPeakRssBytes <= 0 ? "n/a" : (serverPeakRssBytes >> 20) + " MiB") + extrasText("  ", " ", false);
    }

    public String json() {
        return String.format(java.util.Locale.ROOT,
                "{\"workload\":\"%s\",\"operations\":%d,\"errors\":%d,\"seconds\":%.3f,\"ops_per_second\":%.1f,\"p50_ms\":%.3f,"
                        + "\"p90_ms\":%.3f,\"p99_ms\":%.3f,\"p999_ms\":%.3f,\"max_ms\":%.3f,\"server_cpu_us_per_op\":%.2f,\"server_peak_rss_bytes\":%d%s}",
                workload.cliName, operations, errors, seconds, opsPerSecond, p50Ms, p90Ms, p99Ms, p999Ms, maxMs, serverCpuMicrosPerOp,
                serverPeakRssBytes, extrasText(",", ":", true));
    }
}
