package io.synod.mvcc;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Kills a writer process without closing the store (RocksDB's WAL off, small memtables so
 * flushes happen throughout, compaction running) and checks the reopened store is exactly the
 * state after some applied index, and that replaying the rest of the log from there reaches the
 * same final state as a model that never crashed.
 */
class CrashRecoveryTest {
    @TempDir Path tmp;

    static MvccOptions crashOptions() {
        return MvccOptions.defaults().withWriteBufferBytes(64 * 1024).withCompaction(7, 1);
    }

    /** The log: deterministic from the seed and the store's revisions, so both processes agree. */
    static Command commandAt(SplittableRandom rnd, RandomCommands gen, long current, long compact) {
        if (rnd.nextInt(3) == 0) {
            byte[] big = new byte[512 + rnd.nextInt(2048)];
            rnd.nextBytes(big);
            return PutRequest.of(gen.key(), Bytes.copyOf(big));
        }
        return gen.command(current, compact);
    }

    /** Child process: applies {@code n} commands and halts without flushing or closing. */
    public static void main(String[] args) throws IOException {
        Path dir = Path.of(args[0]);
        long seed = Long.parseLong(args[1]);
        int n = Integer.parseInt(args[2]);
        SplittableRandom rnd = new SplittableRandom(seed);
        RandomCommands gen = new RandomCommands(rnd);
        MvccStore store = MvccStore.open(dir, crashOptions());
        for (int i = 1; i <= n; i++) {
            store.apply(i, commandAt(rnd, gen, store.currentRevision(), store.compactRevision()));
        }
        Runtime.getRuntime().halt(0);
    }

    @Test
    @Timeout(120)
    void reopenedStoreIsAPrefixOfTheLogAndReplayCatchesUp() throws Exception {
        long base = new SplittableRandom().nextLong();
        List<Long> recovered = new ArrayList<>();
        List<Integer> written = new ArrayList<>();
        for (int run = 0; run < 3; run++) {
            long seed = base + run;
            int n = 800 + new SplittableRandom(seed).nextInt(1500);
            written.add(n);
            Path dir = tmp.resolve("crash" + run);
            String java = ProcessHandle.current().info().command().orElse(System.getProperty("java.home") + "/bin/java");
            Process p = new ProcessBuilder(java, "--enable-native-access=ALL-UNNAMED", "-cp",
                    System.getProperty("java.class.path"), CrashRecoveryTest.class.getName(), dir.toString(),
                    Long.toString(seed), Integer.toString(n)).inheritIO().start();
            assertThat(p.waitFor(90, TimeUnit.SECONDS)).as("child finished").isTrue();
            assertThat(p.exitValue()).as("child exit, seed %d", seed).isZero();

            ModelStore model = new ModelStore(crashOptions());
            SplittableRandom rnd = new SplittableRandom(seed);
            RandomCommands gen = new RandomCommands(rnd);
            List<Command> log = new ArrayList<>();
            try (MvccStore store = MvccStore.open(dir, crashOptions())) {
                long applied = store.appliedIndex();
                recovered.add(applied);
                if (Boolean.getBoolean("mvcc.stats")) System.out.printf("seed %d: recovered %d of %d%n", seed, applied, n);
                assertThat(applied).as("seed %d", seed).isBetween(0L, (long) n);
                for (int i = 1; i <= applied; i++) {
                    Command c = commandAt(rnd, gen, model.current(), model.compactRevision);
                    log.add(c);
                    model.apply(i, c);
                }
                String ctx = "seed " + seed + " recovered at index " + applied + " of " + n;
                assertThat(store.currentRevision()).as(ctx).isEqualTo(model.current());
                assertThat(store.compactRevision()).as(ctx).isEqualTo(model.compactRevision);
                for (long rev = Math.max(1, model.compactRevision); rev <= model.current(); rev++) {
                    RangeRequest all = RangeRequest.all().atRevision(rev);
                    assertThat(store.range(all)).as(ctx + " at " + rev).isEqualTo(model.range(all));
                }
                for (int i = (int) applied + 1; i <= n; i++) {
                    Command c = commandAt(rnd, gen, model.current(), model.compactRevision);
                    assertThat(store.apply(i, c)).as(ctx + " replaying " + i).isEqualTo(model.apply(i, c));
                }
                assertThat(store.range(RangeRequest.all())).as(ctx).isEqualTo(model.range(RangeRequest.all()));
                assertThat(store.changesSince(model.compactRevision + 1).events())
                        .isEqualTo(model.changesSince(model.compactRevision + 1));
            }
        }
        // The test is only meaningful if the crashes landed between flushes: something survived, something was lost.
        assertThat(recovered).as("some flushed state survived").anyMatch(a -> a > 0);
        assertThat(recovered).as("some unflushed commands were lost: %s of %s", recovered, written)
                .isNotEqualTo(written.stream().map(Integer::longValue).toList());
    }
}
