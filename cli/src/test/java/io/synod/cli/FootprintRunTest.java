package io.synod.cli;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The pure parts of the footprint mode: reading du's output, and the summary line and table (no cluster is started). */
class FootprintRunTest {
    private static final long MIB = 1 << 20;

    @Test
    void duOutputIsReadInKib() {
        assertThat(FootprintRun.parseDuKib("123456\t/tmp/x/m1\n")).isEqualTo(123456);
        assertThat(FootprintRun.parseDuKib("du: cannot access '/nope': No such file or directory")).isEqualTo(-1);
        assertThat(FootprintRun.parseDuKib("")).isEqualTo(-1);
    }

    @Test
    void lineStartsWithTheIssuesFieldsAndTheTableHasBothSystems() {
        var s = new FootprintRun.Figures("synod", 1_000_000, 20, new long[] {600 * MIB, 500 * MIB, 550 * MIB}, new long[] {580 * MIB, 490 * MIB,
                540 * MIB}, new long[] {400 * MIB, 400 * MIB, 401 * MIB}, 2, 300, new FootprintRun.Restart(2000, 2500.4), 450 * MIB,
                new FootprintRun.Restart(2600, 3100));
        var e = new FootprintRun.Figures("etcd", 1_000_000, 40, new long[] {400 * MIB, 400 * MIB, 300 * MIB}, new long[] {400 * MIB, 390 * MIB,
                300 * MIB}, new long[] {600 * MIB, 600 * MIB, 600 * MIB}, 1, 100, new FootprintRun.Restart(1000, 1200), 350 * MIB,
                new FootprintRun.Restart(1100, 1300));
        assertThat(FootprintRun.line(s, e)).startsWith(
                "footprint keys=1000000 synod_rss_mb=600 etcd_rss_mb=400 rss_ratio=1.50 synod_restart_ms=2500 etcd_restart_ms=1200 ")
                .contains("synod_kill_restart_ms=3100", "synod_disk_mb=401", "etcd_disk_mb=600", "synod_load_s=20.0");
        String md = FootprintRun.markdown(s, e);
        assertThat(md).contains("| peak RSS per member, MiB | 600 / 500 / 550 | 400 / 400 / 300 |  |")
                .contains("| **restart to serve after SIGTERM**, ms | 2500 | 1200 | 2.08 |")
                .contains("| restart after SIGTERM: client port open, ms | 2000 | 1000 | 2.00 |");
        assertThat(FootprintRun.ratio(-1, 5)).isEqualTo("n/a");
        assertThat(FootprintRun.mib(-1)).isEqualTo("n/a");
    }
}
