package io.synod.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.synod.bench.load.Workload;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** Option parsing of {@code synod bench run} and the profiles of {@code synod bench compare} (no cluster is started). */
class BenchOptionsTest {
    @Test
    void runTakesTheScenarioKnobsAndDefaultsClientsPerWorkload() {
        var cmd = new BenchRunCommand();
        new CommandLine(cmd).parseArgs("--endpoints", "a:1,b:2", "--workload", "lease-keepalive", "--leases", "500", "--expiry-leases", "0",
                "--watchers", "20", "--watchers-per-stream", "5");
        assertThat(cmd.endpoints).containsExactly("a:1", "b:2");
        assertThat(cmd.leases).isEqualTo(500);
        assertThat(cmd.expiryLeases).isZero();
        assertThat(cmd.watchers).isEqualTo(20);
        assertThat(cmd.watchersPerStream).isEqualTo(5);
        assertThat(cmd.clients).isNull();
        assertThat(BenchRunCommand.clients(Workload.WATCH_FANOUT, null)).isEqualTo(1);
        assertThat(BenchRunCommand.clients(Workload.LOCK_CONTENTION, null)).isEqualTo(16);
        assertThat(BenchRunCommand.clients(Workload.PUT, null)).isEqualTo(16);
        assertThat(BenchRunCommand.clients(Workload.WATCH_FANOUT, 3)).isEqualTo(3);
    }

    @Test
    void compareSelectsWorkloadsAndSizesThemPerProfile() {
        var cmd = new BenchCompareCommand();
        new CommandLine(cmd).parseArgs("--workloads", "watch-fanout,lock-contention", "--rounds", "1");
        assertThat(cmd.workloads).containsExactly("watch-fanout", "lock-contention");
        assertThat(BenchCompareCommand.FULL_WORKLOADS).contains("watch-fanout", "lease-keepalive", "lock-contention");
        for (String w : BenchCompareCommand.FULL_WORKLOADS) assertThat(Workload.parse(w).cliName).isEqualTo(w);
        var full = BenchCompareCommand.setting(true);
        assertThat(full.clientsFor(Workload.PUT)).isEqualTo(64);
        assertThat(full.clientsFor(Workload.WATCH_FANOUT)).isEqualTo(1);
        assertThat(full.clientsFor(Workload.LOCK_CONTENTION)).isEqualTo(16);
        assertThat(full.scenario().watchers()).isEqualTo(1000);
        assertThat(full.scenario().leases()).isEqualTo(10_000);
        var quick = BenchCompareCommand.setting(false);
        assertThat(quick.scenario().watchers()).isLessThan(1000);
        assertThat(BenchCompareCommand.loadAverage()).isNotEmpty();
    }
}
