package io.synod.sim;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/**
 * The CI seed budget of the deterministic simulator: hundreds of seeded runs of 1 to 7 member
 * clusters under faults, each checked for Raft's safety properties, liveness after healing and
 * linearizability of the client history. A failure prints the seed and its replay command.
 */
class SimulationTest {
    /** Seeds run in CI; raise with -Dsynod.sim.seeds=N for a longer soak. */
    static final int CI_SEEDS = Integer.getInteger("synod.sim.seeds", 500);

    @Test
    void ciSeedBudgetFindsNoViolation() {
        var buf = new ByteArrayOutputStream();
        var out = new PrintStream(buf, true, StandardCharsets.UTF_8);
        SimRunner.Summary s = SimRunner.run(SimOptions.of(1), 1, CI_SEEDS, false, 5, out);
        String report = buf.toString(StandardCharsets.UTF_8);
        System.out.print(report);
        assertThat(s.failures()).as("simulator violations:%n%s", report).isEmpty();
        assertThat(s.seeds()).isEqualTo(CI_SEEDS);
    }

    @Test
    void aSeedReplaysExactly() {
        for (long seed : new long[] {7, 42, 1234}) {
            SimResult a = Simulation.run(SimOptions.of(seed));
            SimResult b = Simulation.run(SimOptions.of(seed));
            assertThat(b.summary().replaceAll(" check_ms=\\d+", "")).isEqualTo(a.summary().replaceAll(" check_ms=\\d+", ""));
        }
    }

    @Test
    void runsAreMeaningful() {
        // Across a few seeds the fault phase must actually crash members, change leaders and
        // membership, and complete client operations; a simulator that does nothing proves nothing.
        int crashes = 0, leaders = 0, confChanges = 0, ops = 0, snapshots = 0;
        var sizes = new java.util.TreeSet<Integer>();
        for (long seed = 1; seed <= 40; seed++) {
            SimResult r = Simulation.run(SimOptions.of(seed));
            assertThat(r.events()).isGreaterThanOrEqualTo(SimOptions.DEFAULT_STEPS);
            crashes += r.crashes();
            leaders += r.leaderChanges();
            confChanges += r.confChanges();
            ops += r.operationsOk();
            snapshots += r.snapshotsSent();
            sizes.add(r.options().resolvedNodes());
        }
        assertThat(crashes).isGreaterThan(40);
        assertThat(leaders).isGreaterThan(80);
        assertThat(confChanges).isGreaterThan(10);
        assertThat(ops).isGreaterThan(2000);
        assertThat(snapshots).isGreaterThan(0);
        assertThat(sizes).contains(1, 3, 5, 7);
    }

    @Test
    void replayCommandNamesTheSeedAndNonDefaultOptions() {
        assertThat(SimOptions.of(99).replayCommand()).isEqualTo("bin/synod sim --replay 99");
        assertThat(new SimOptions(5, 3, 200, 2, false).replayCommand()).isEqualTo("bin/synod sim --replay 5 --nodes 3 --steps 200 --no-faults");
    }

    @Test
    void faultFreeRunsCommitAndAgree() {
        SimResult r = Simulation.run(new SimOptions(3, 5, 5000, 2, false));
        assertThat(r.ok()).as(r.violations().toString()).isTrue();
        assertThat(r.linearizability()).isEqualTo("LINEARIZABLE");
        assertThat(r.committedIndex()).isGreaterThan(20);
        assertThat(r.operationsOk()).isGreaterThan(20);
        assertThat(r.crashes()).isZero();
    }
}
