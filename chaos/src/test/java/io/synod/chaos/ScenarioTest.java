package io.synod.chaos;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * What each scenario promises the docs: {@code mixed} changes membership but leaves the opt-in faults out,
 * {@code power-cut} alone turns the emulation on, and monotonic clock offsets stay inside the bounds the kernel
 * accepts (never further back than the uptime allows).
 */
class ScenarioTest {
    @Test
    void mixedChangesMembershipButLeavesOptInFaultsOut() {
        assertThat(Scenario.MIXED.faults()).contains(Fault.MEMBERSHIP, Fault.KILL, Fault.PARTITION_SYMMETRIC)
                .doesNotContain(Fault.CLOCK_SKEW, Fault.DISK_FULL, Fault.POWER_CUT);
        assertThat(Scenario.MIXED.changesMembership()).isTrue();
        assertThat(Scenario.MEMBERSHIP.changesMembership()).isTrue();
        assertThat(Scenario.KILL.changesMembership()).isFalse();
        assertThat(Scenario.parse("power-cut")).isEqualTo(Scenario.POWER_CUT);
        for (Scenario s : Scenario.values()) assertThat(s.powerCutEmulation()).as(s.label()).isEqualTo(s == Scenario.POWER_CUT);
        assertThat(Scenario.drawable()).contains(Scenario.MEMBERSHIP, Scenario.POWER_CUT).doesNotContain(Scenario.CLOCK, Scenario.DISK);
    }

    @Test
    void monotonicOffsetsStayWithinTheUptimeAndTenDays() {
        double uptime = 500;
        for (int i = 0; i <= 1000; i++) {
            long o = TimeNamespaces.offsetSeconds(i / 1000.0 * 0.999999, uptime);
            assertThat(o).as("draw %d", i).isBetween(-(long) (uptime - 60), TimeNamespaces.FORWARD_SECONDS_MAX);
        }
        assertThat(TimeNamespaces.offsetSeconds(0.2, 1e9)).isLessThan(0).isGreaterThanOrEqualTo(-TimeNamespaces.BACK_SECONDS_MAX);
        assertThat(TimeNamespaces.offsetSeconds(0.9, 1e9)).isGreaterThan(86_400);
        assertThat(TimeNamespaces.offsetSeconds(0.2, 30)).as("no backwards offset right after boot").isZero();
    }
}
