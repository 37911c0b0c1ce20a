package io.synod.bench.load;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ResultMathTest {
    private static final long MS = 1_000_000;

    @Test
    void tallyCountsOnlyWhatWasSentInsideTheWindowAndFinishedBeforeItsEnd() {
        var t = new Tally();
        t.record(5, 6, true); // before window(): never counted
        t.window(100, 200);
        t.record(99, 150, true); // sent during warm-up
        t.record(100, 130, true);
        t.record(150, 199, true);
        t.record(150, 200, true); // finished at the end: out
        t.record(120, 121, false);
        t.refused(99);
        t.refused(150);
        t.refused(200);
        assertThat(t.ok()).isEqualTo(2);
        assertThat(t.errors()).isEqualTo(2);
        var h = t.histogram();
        assertThat(h.getTotalCount()).isEqualTo(2);
        assertThat(h.getMaxValue()).isBetween(49L, 50L);
    }

    @Test
    void stampedValuesCarryTheirSendTime() {
        byte[] pad = new byte[248];
        var v = WatchFanout.stamped(123_456_789_012L, pad);
        assertThat(v.size()).isEqualTo(256);
        assertThat(WatchFanout.stamp(v)).isEqualTo(123_456_789_012L);
        assertThat(WatchFanout.stamp(com.google.protobuf.ByteString.copyFromUtf8("x"))).isEqualTo(Long.MIN_VALUE);
    }

    @Test
    void expiryLatenessIsMeasuredFromTheLastAcknowledgedRenewal() {
        long ttl = 3000 * MS;
        long[] sent = {0, 0, 0, 0, 10 * MS, 0};
        long[] acked = {2 * MS, 2 * MS, 2 * MS, 2 * MS, 12 * MS, 2 * MS};
        // lease 0: 100 ms late; 1 kept (fine); 2: 400 ms late; 3 kept but lost; 4: seen before sent+ttl (early); 5: never
        long[] deleted = {ttl + 102 * MS, -1, ttl + 402 * MS, ttl, ttl + 5 * MS, -1};
        boolean[] abandoned = {true, false, true, false, true, true};
        var s = ExpiryStats.of(ttl, sent, acked, deleted, abandoned);
        assertThat(s.abandoned()).isEqualTo(4);
        assertThat(s.expired()).isEqualTo(3);
        assertThat(s.never()).isEqualTo(1);
        assertThat(s.keptLost()).isEqualTo(1);
        assertThat(s.early()).isEqualTo(1);
        // latenesses: -7 ms, 100 ms, 400 ms
        assertThat(s.lateP50Ms()).isCloseTo(100, within(1e-9));
        assertThat(s.lateP99Ms()).isCloseTo(400, within(1e-9));
        assertThat(s.lateMaxMs()).isCloseTo(400, within(1e-9));
        assertThat(s.asExtras()).containsEntry("expiry_early", 1.0).containsEntry("expiry_late_p50_ms", 100.0);
    }

    @Test
    void nearestRankPercentiles() {
        assertThat(ExpiryStats.rank(new long[0], 50)).isZero();
        assertThat(ExpiryStats.rank(new long[] {7}, 99)).isEqualTo(7);
        long[] v = new long[100];
        for (int i = 0; i < 100; i++) v[i] = i + 1;
        assertThat(ExpiryStats.rank(v, 50)).isEqualTo(50);
        assertThat(ExpiryStats.rank(v, 99)).isEqualTo(99);
        assertThat(ExpiryStats.rank(v, 100)).isEqualTo(100);
    }

    @Test
    void resultsPrintTheirExtras() {
        Map<String, Double> extras = new LinkedHashMap<>();
        extras.put("writes_per_second", 412.5);
        extras.put("expiry_early", 0.0);
        var r = new LoadResult(Workload.WATCH_FANOUT, 10, 0, 1, 10, 1, 2, 3, 4, 5, -1, -1, extras);
        assertThat(r.table()).contains("watch-fanout").endsWith("writes_per_second 412.500  expiry_early 0");
        assertThat(r.json()).endsWith(",\"writes_per_second\":412.500,\"expiry_early\":0}");
        assertThat(r.extra("expiry_early")).isZero();
        assertThat(r.extra("absent")).isNaN();
    }
}
