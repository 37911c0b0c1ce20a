package io.synod.bench.load;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

class LoadOptionsTest {
    private static LoadOptions options(Workload w, double rate) {
        return new LoadOptions(List.of("127.0.0.1:1"), w, 4, 1, 10, 256, 0, 1, rate, List.of(), false);
    }

    @Test
    void everyWorkloadParsesByItsName() {
        for (Workload w : Workload.values()) assertThat(Workload.parse(w.cliName)).isSameAs(w);
        assertThat(Workload.parse("watch-fanout")).isSameAs(Workload.WATCH_FANOUT);
        assertThat(Workload.parse("lease-keepalive")).isSameAs(Workload.LEASE_KEEPALIVE);
        assertThat(Workload.parse("lock-contention")).isSameAs(Workload.LOCK_CONTENTION);
        assertThatThrownBy(() -> Workload.parse("watch")).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("lock-contention");
    }

    @Test
    void coordinationWorkloadsAreNotKeyValueOnesAndNeedNoPreload() {
        for (Workload w : List.of(Workload.WATCH_FANOUT, Workload.LEASE_KEEPALIVE, Workload.LOCK_CONTENTION)) {
            assertThat(w.isKv()).isFalse();
            assertThat(w.needsPreload()).isFalse();
        }
        assertThat(Workload.GET_LINEARIZABLE.needsPreload()).isTrue();
        assertThat(Workload.PUT.needsPreload()).isFalse();
        assertThat(Workload.WATCH_FANOUT.fixedClients()).isEqualTo(1);
        assertThat(Workload.LOCK_CONTENTION.fixedClients()).isEqualTo(16);
        assertThat(Workload.PUT.fixedClients()).isZero();
    }

    @Test
    void openLoopIsForKeyValueWorkloadsOnly() {
        assertThat(options(Workload.PUT, 100).ratePerSecond()).isEqualTo(100);
        assertThatThrownBy(() -> options(Workload.LEASE_KEEPALIVE, 100)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("lease-keepalive");
        assertThatThrownBy(() -> options(Workload.PUT, -1)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void scenarioDefaultsAreIssueSixsAndBoundsAreChecked() {
        assertThat(options(Workload.WATCH_FANOUT, 0).scenario()).isEqualTo(ScenarioOptions.DEFAULTS);
        assertThat(ScenarioOptions.DEFAULTS.watchers()).isEqualTo(1000);
        assertThat(ScenarioOptions.DEFAULTS.leases()).isEqualTo(10_000);
        assertThat(ScenarioOptions.DEFAULTS.streams()).isEqualTo(10);
        assertThat(ScenarioOptions.DEFAULTS.withWatchers(1001).streams()).isEqualTo(11);
        assertThat(ScenarioOptions.DEFAULTS.withLeases(7).leases()).isEqualTo(7);
        assertThatThrownBy(() -> ScenarioOptions.DEFAULTS.withWatchers(0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new ScenarioOptions(1, 0, 1, 0, 3, "l")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new ScenarioOptions(1, 1, 1, 0, 0, "l")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new ScenarioOptions(1, 1, 1, 0, 3, "")).isInstanceOf(IllegalArgumentException.class);
    }
}
