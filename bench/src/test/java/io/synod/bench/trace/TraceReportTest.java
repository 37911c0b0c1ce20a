package io.synod.bench.trace;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.StringReader;
import org.junit.jupiter.api.Test;

class TraceReportTest {
    @Test
    void offsetsAreMeasuredFromTheLeadersProposalAcrossMembers() throws Exception {
        var report = new TraceReport();
        // Three entries; the leader proposed at different absolute times, the follower received 100, 200, 300 us later.
        report.add("m1", new StringReader("""
                64\tPROPOSED\t1000000
                64\tAPPLIED\t1500000
                128\tPROPOSED\t2000000
                128\tAPPLIED\t2700000
                192\tPROPOSED\t3000000
                192\tAPPLIED\t3900000
                """));
        report.add("m2", new StringReader("""
                64\tRECEIVED\t1100000
                128\tRECEIVED\t2200000
                192\tRECEIVED\t3300000
                """));
        assertThat(report.entries()).isEqualTo(3);
        var rows = report.rows();
        assertThat(rows).extracting(TraceReport.Row::point).containsExactly("PROPOSED", "RECEIVED", "APPLIED");
        assertThat(rows.get(1).member()).isEqualTo("follower m2");
        assertThat(rows.get(1).medianMicros()).isEqualTo(200.0);
        assertThat(rows.get(1).p90Micros()).isEqualTo(300.0);
        assertThat(rows.get(2).member()).isEqualTo("leader m1");
        assertThat(rows.get(2).medianMicros()).isEqualTo(700.0);
        assertThat(report.table()).contains("follower m2").contains("200.0");
    }

    @Test
    void aPointPassedTwiceForOneIndexCountsAtItsFirstPassage() throws Exception {
        var report = new TraceReport();
        report.add("m1", new StringReader("64\tPROPOSED\t1000\n64\tACK_RECEIVED\t9000\n64\tACK_RECEIVED\t5000\n"));
        var ack = report.rows().get(1);
        assertThat(ack.point()).isEqualTo("ACK_RECEIVED");
        assertThat(ack.count()).isEqualTo(1);
        assertThat(ack.medianMicros()).isEqualTo(4.0);
    }

    @Test
    void anIndexProposedByTwoLeadersIsLeftOut() throws Exception {
        var report = new TraceReport();
        report.add("m1", new StringReader("64\tPROPOSED\t1000\n64\tAPPLIED\t9000\n128\tPROPOSED\t5000\n"));
        report.add("m2", new StringReader("64\tPROPOSED\t2000\n"));
        assertThat(report.entries()).isEqualTo(1);
        assertThat(report.rows()).extracting(TraceReport.Row::count).containsOnly(1);
    }

    @Test
    void aMalformedLineIsRefusedWithItsPlace() {
        var report = new TraceReport();
        assertThatThrownBy(() -> report.add("m3", new StringReader("64\tPROPOSED\n"))).hasMessageContaining("m3 line 1");
    }

    @Test
    void quantileIsNearestRank() {
        long[] v = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
        assertThat(TraceReport.quantile(v, 0.5)).isEqualTo(5);
        assertThat(TraceReport.quantile(v, 0.9)).isEqualTo(9);
        assertThat(TraceReport.quantile(new long[] {7}, 0.9)).isEqualTo(7);
    }
}
