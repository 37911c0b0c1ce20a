package io.synod.cli;

import static org.assertj.core.api.Assertions.assertThat;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.synod.bench.load.BulkLoad;
import io.synod.bench.load.Workload;
import java.util.List;
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

    @Test
    void fullProfileSweepsPutsOverTheIssuesClientCountsAndKeySpace() {
        var cmd = new BenchCompareCommand();
        new CommandLine(cmd).parseArgs("--profile", "full", "--workloads", "put,get-linearizable");
        cmd.validate();
        var s = cmd.effectiveSetting();
        assertThat(s.putClients()).containsExactly(1, 16, 64, 256);
        assertThat(s.putKeys()).isEqualTo(100_000);
        var jobs = s.jobs(BenchCompareCommand.choose(cmd.workloads).workloads());
        assertThat(jobs).extracting(BenchCompareCommand.Job::label).containsExactly("put@1", "put@16", "put@64", "put@256", "get-linearizable");
        assertThat(jobs).extracting(BenchCompareCommand.Job::clients).containsExactly(1, 16, 64, 256, 64);
        // Reads read the preloaded key space, which must lie inside what the puts write over.
        assertThat(jobs.get(4).keys()).isEqualTo(10_000).isLessThanOrEqualTo(s.putKeys());
    }

    @Test
    void quickProfileRunsPutsOnceAtItsClientCountAndPutClientsOverrides() {
        var quick = new BenchCompareCommand();
        new CommandLine(quick).parseArgs();
        quick.validate();
        var jobs = quick.effectiveSetting().jobs(List.of(Workload.PUT));
        assertThat(jobs).extracting(BenchCompareCommand.Job::label).containsExactly("put@16");
        assertThat(jobs.get(0).keys()).isEqualTo(2_000);

        var cmd = new BenchCompareCommand();
        new CommandLine(cmd).parseArgs("--put-clients", "256,1,1", "--warmup-seconds", "5");
        cmd.validate();
        assertThat(cmd.effectiveSetting().putClients()).containsExactly(256, 1);
        assertThat(cmd.effectiveSetting().warmupTotalSeconds()).isEqualTo(5);
    }

    @Test
    void summaryLineKeepsTheIssuesFieldsFirst() {
        assertThat(BenchCompareCommand.summaryLine("put@1", 1500, 1000, 2.5, 3, 0.8, 0.9)).isEqualTo(
                "workload=put@1 synod_ops=1500 etcd_ops=1000 ratio=1.50 synod_p99_ms=2.50 etcd_p99_ms=3.00 synod_p50_ms=0.80 etcd_p50_ms=0.90");
    }

    @Test
    void footprintIsAnOptInPseudoWorkloadWithBoundedSizes() {
        var cmd = new BenchCompareCommand();
        new CommandLine(cmd).parseArgs("--workloads", "footprint", "--footprint-keys", "5000", "--footprint-txn-ops", "64",
                "--footprint-concurrency", "4", "--synod-member-heap", "1g");
        cmd.validate();
        var choice = BenchCompareCommand.choose(cmd.workloads);
        assertThat(choice.footprint()).isTrue();
        assertThat(choice.workloads()).isEmpty();
        assertThat(cmd.footprintKeys).isEqualTo(5000);
        assertThat(cmd.footprintTxnOps).isEqualTo(64);
        assertThat(cmd.footprintConcurrency).isEqualTo(4);
        assertThat(cmd.synodMemberHeap).isEqualTo("1g");
        assertThat(BenchCompareCommand.FULL_WORKLOADS).doesNotContain(BenchCompareCommand.FOOTPRINT);
        assertThat(BenchCompareCommand.choose(List.of("put", "footprint", "put")).workloads()).containsExactly(Workload.PUT);

        var defaults = new BenchCompareCommand();
        new CommandLine(defaults).parseArgs("--workloads", "footprint");
        assertThat(defaults.footprintKeys).isEqualTo(1_000_000);
        assertThat(defaults.footprintTxnOps).isEqualTo(BulkLoad.OPS_PER_TXN_MAX).isEqualTo(128);
    }

    @Test
    void outOfBoundsOptionsAreRefusedBeforeAnythingStarts() {
        for (String[] bad : List.of(new String[] {"--footprint-keys", "0"}, new String[] {"--footprint-keys", "10000001"},
                new String[] {"--footprint-txn-ops", "129"}, new String[] {"--footprint-concurrency", "0"},
                new String[] {"--put-clients", "0"}, new String[] {"--put-clients", "10001"}, new String[] {"--rounds", "0"},
                new String[] {"--profile", "long"}, new String[] {"--workloads", "nope"})) {
            var cmd = new BenchCompareCommand();
            new CommandLine(cmd).parseArgs(bad);
            assertThatThrownBy(cmd::validate).as(String.join(" ", bad)).isInstanceOf(CommandLine.ParameterException.class);
        }
    }
}
