package io.synod.bench.trace;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.Reader;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Takes the entry traces of the members of one cluster on one machine (the {@code trace.tsv} each
 * member writes when {@code synod.trace.sampleEvery} is set) and says where a write's time went:
 * for every member and trace point, the median and 90th percentile of the time since the leader
 * was handed the proposal, over the sampled entries the leader proposed. The members' timestamps
 * are comparable because they all read the host's monotonic clock.
 *
 * <p>Only entries with exactly one {@code PROPOSED} point count (two would mean the entry's index
 * was proposed by two leaders). A point missing for some entries (a follower that was behind, a
 * full trace buffer) has a smaller count, which the table shows.
 */
public final class TraceReport {
    /** One row of the report: a member's point, its count and its offsets from the proposal, in microseconds. */
    public record Row(String member, String point, int count, double medianMicros, double p90Micros) {}

    private record Mark(String member, String point, long nanos) {}

    private final Map<Long, List<Mark>> byIndex = new HashMap<>();

    /** Adds one member's trace ({@code index<TAB>point<TAB>nanos} lines). */
    public void add(String member, Reader trace) throws IOException {
        var in = new BufferedReader(trace);
        String line;
        int lineNo = 0;
        while ((line = in.readLine()) != null) {
            lineNo++;
            if (line.isBlank()) continue;
            String[] f = line.split("\t");
            if (f.length != 3) throw new IllegalArgumentException(member + " line " + lineNo + ": want index<TAB>point<TAB>nanos, got: " + line);
            byIndex.computeIfAbsent(Long.parseLong(f[0]), k -> new ArrayList<>()).add(new Mark(member, f[1], Long.parseLong(f[2])));
        }
    }

    /** How many sampled entries have exactly one proposal point, i.e. count in the report. */
    public int entries() {
        return (int) byIndex.values().stream().filter(m -> proposed(m) != null).count();
    }

    private static Mark proposed(List<Mark> marks) {
        Mark found = null;
        for (Mark m : marks) {
            if (!m.point().equals("PROPOSED")) continue;
            if (found != null) return null; // two members claim it: a leader change; skip
            found = m;
        }
        return found;
    }

    /** Whose point a row is about: "leader m1" or "follower m2", and the point's name. */
    private record Key(String member, String point) {}

    /** The rows, ordered by median offset (the order a typical write passed the points). */
    public List<Row> rows() {
        Map<Key, List<Long>> offsets = new LinkedHashMap<>();
        for (List<Mark> marks : byIndex.values()) {
            Mark p = proposed(marks);
            if (p == null) continue;
            // A point passed more than once for one index (an append sent again, so acknowledged again) counts at
            // its first passage, the one a write waits for.
            Map<Key, Long> first = new HashMap<>();
            for (Mark m : marks) {
                var key = new Key((m.member().equals(p.member()) ? "leader " : "follower ") + m.member(), m.point());
                first.merge(key, m.nanos(), Math::min);
            }
            first.forEach((key, nanos) -> offsets.computeIfAbsent(key, k -> new ArrayList<>()).add(nanos - p.nanos()));
        }
        var rows = new ArrayList<Row>();
        offsets.forEach((key, list) -> {
            long[] v = list.stream().mapToLong(Long::longValue).toArray();
            Arrays.sort(v);
            rows.add(new Row(key.member(), key.point(), v.length, quantile(v, 0.5) / 1000.0, quantile(v, 0.9) / 1000.0));
        });
        rows.sort((a, b) -> Double.compare(a.medianMicros(), b.medianMicros()));
        return rows;
    }

    /** The nearest-rank quantile of sorted values. */
    static long quantile(long[] sorted, double q) {
        if (sorted.length == 0) throw new IllegalArgumentException("no values");
        int rank = (int) Math.ceil(q * sorted.length);
        return sorted[Math.max(0, Math.min(sorted.length - 1, rank - 1))];
    }

    /** The report as a fixed-width table, one row per member and point, with the step from the row before. */
    public String table() {
        var sb = new StringBuilder(String.format("%-14s %-13s %7s %10s %10s %10s%n", "member", "point", "count", "median_us", "step_us", "p90_us"));
        double prev = 0;
        for (Row r : rows()) {
            sb.append(String.format("%-14s %-13s %7d %10.1f %10.1f %10.1f%n", r.member(), r.point(), r.count(), r.medianMicros(),
                    r.medianMicros() - prev, r.p90Micros()));
            prev = r.medianMicros();
        }
        return sb.toString();
    }
}
