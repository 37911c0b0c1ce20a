package io.synod.replica;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.StringWriter;
import org.junit.jupiter.api.Test;

class EntryTracerTest {
    @Test
    void recordsOnlySampledIndexesAndStopsWhenFull() throws Exception {
        var t = new EntryTracer(4, 3);
        t.mark(3, EntryTracer.Point.PROPOSED);
        t.mark(4, EntryTracer.Point.PROPOSED, 100);
        t.mark(8, EntryTracer.Point.PERSISTED, 200);
        t.mark(-1, EntryTracer.Point.ACKED); // a message about no index
        t.mark(12, EntryTracer.Point.APPLIED, 300);
        t.mark(16, EntryTracer.Point.APPLIED, 400); // beyond the limit of 3
        assertThat(t.size()).isEqualTo(3);
        var out = new StringWriter();
        t.dump(out);
        assertThat(out.toString()).isEqualTo("4\tPROPOSED\t100\n8\tPERSISTED\t200\n12\tAPPLIED\t300\n");
    }

    @Test
    void offRecordsNothing() throws Exception {
        EntryTracer.OFF.mark(64, EntryTracer.Point.PROPOSED);
        assertThat(EntryTracer.OFF.enabled()).isFalse();
        assertThat(EntryTracer.OFF.size()).isZero();
    }
}
