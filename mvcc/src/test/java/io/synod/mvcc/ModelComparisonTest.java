package io.synod.mvcc;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Runs random command sequences against the RocksDB store and {@link ModelStore} side by side,
 * comparing every result, random (historical) ranges, the change feed, and state across
 * restarts, replays and incremental compaction. Each run prints nothing unless it fails, when
 * the message names the seed; rerun one with {@code -Dmvcc.seed=N}.
 */
class ModelComparisonTest {
    @TempDir Path tmp;

    private static final int RUNS = Integer.getInteger("mvcc.runs", 20);
    private static final int STEPS = Integer.getInteger("mvcc.steps", 250);

    @Test
    @Timeout(180)
    void storeMatchesModel() throws IOException {
        Long fixed = Long.getLong("mvcc.seed");
        long base = fixed != null ? fixed : new SplittableRandom().nextLong();
        int runs = fixed != null ? 1 : RUNS;
        int writingTxns = 0;
        int rejections = 0;
        for (int i = 0; i < runs; i++) {
            long seed = base + i;
            Path dir = tmp.resolve("run" + i);
            try {
                int[] stats = run(seed, dir);
                writingTxns += stats[0];
                rejections += stats[1];
            } catch (AssertionError | RuntimeException e) {
                throw new AssertionError("model comparison failed with seed " + seed + " (rerun: -Dmvcc.seed=" + seed + ")", e);
            } finally {
                deleteTree(dir);
            }
        }
        // Guard against the generator drifting into only-rejected or only-trivial commands (leases and NOSPACE alarms
        // reject some writes by design, so the bar sits below the 115-180 writing txns per 20 runs seen).
        assertThat(writingTxns).as("txns that wrote, seeds from " + base).isGreaterThan(runs * STEPS / 60);
        assertThat(rejections).as("rejected commands, seeds from " + base).isPositive();
    }

    private static int[] run(long seed, Path dir) throws IOException {
        SplittableRandom rnd = new SplittableRandom(seed);
        int writingTxns = 0;
        int rejections = 0;
        MvccOptions options = MvccOptions.defaults()
                .withCompaction(1 + rnd.nextInt(6), rnd.nextInt(2))
                .withMaxEventsPerCatchUp(1 + rnd.nextInt(5))
                .withLeaseRevokeKeysMax(1 + rnd.nextInt(4));
        RandomCommands gen = new RandomCommands(rnd);
        ModelStore model = new ModelStore(options);
        gen.epochOf = id -> model.leases.containsKey(id) ? model.leases.get(id).epoch() : 1 + rnd.nextInt(40);
        List<Event> heard = new ArrayList<>();
        CommandCodec codec = new CommandCodec(CommandCodec.Limits.defaults());
        try (StoreFixture f = new StoreFixture(dir, options)) {
            f.store.addListener((rev, evs) -> heard.addAll(evs));
            for (int step = 0; step < STEPS; step++) {
                int what = rnd.nextInt(100);
                String ctx = "step " + step;
                if (what < 18) {
                    // A batch, as the replica hands over a run of committed commands: one write, same results in order.
                    int n = 2 + rnd.nextInt(5);
                    long[] indexes = new long[n];
                    List<Command> batch = new ArrayList<>();
                    List<Result> expected = new ArrayList<>();
                    for (int k = 0; k < n; k++) {
                        Command c = codec.decode(codec.encode(gen.command(model.current(), model.compactRevision)));
                        indexes[k] = f.nextIndex++;
                        batch.add(c);
                        expected.add(model.apply(indexes[k], c));
                    }
                    List<Result> actual = f.store.apply(indexes, batch);
                    assertThat(actual).as(ctx + " batch " + batch).isEqualTo(expected);
                    assertThat(f.store.appliedIndex()).as(ctx).isEqualTo(indexes[n - 1]);
                    for (int k = 0; k < n; k++) {
                        Result r = actual.get(k);
                        if (r instanceof Result.Applied a) heard.removeAll(a.events());
                        if (batch.get(k) instanceof TxnRequest && r instanceof Result.Applied a && !a.events().isEmpty()) writingTxns++;
                        if (r instanceof Result.Rejected) rejections++;
                    }
                    assertThat(heard).as(ctx + " listener").isEmpty();
                } else if (what < 55) {
                    Command c = gen.command(model.current(), model.compactRevision);
                    // Everything goes through the codec, as it would through the log.
                    Command replicated = codec.decode(codec.encode(c));
                    assertThat(replicated).as(ctx).isEqualTo(c);
                    Result expected = model.apply(f.nextIndex, c);
                    Result actual = f.apply(replicated);
                    assertThat(actual).as(ctx + " apply " + c).isEqualTo(expected);
                    if (actual instanceof Result.Applied a) heard.removeAll(a.events()); // listener got exactly these
                    if (c instanceof TxnRequest && actual instanceof Result.Applied a && !a.events().isEmpty()) writingTxns++;
                    if (actual instanceof Result.Rejected) rejections++;
                    assertThat(heard).as(ctx + " listener").isEmpty();
                } else if (what < 80) {
                    RangeRequest r = gen.range(model.current());
                    assertThat(outcome(() -> f.store.range(r))).as(ctx + " range " + r).isEqualTo(outcome(() -> model.range(r)));
                } else if (what < 88) {
                    f.store.runCompactionStep();
                } else if (what < 93) {
                    long from = rnd.nextLong(model.current() + 2);
                    assertThat(outcome(() -> catchUp(f.store, from))).as(ctx + " changes since " + from)
                            .isEqualTo(outcome(() -> model.changesSince(from)));
                } else if (what < 96) {
                    f.reopen();
                    f.store.addListener((rev, evs) -> heard.addAll(evs));
                } else {
                    long old = f.store.appliedIndex() == 0 ? 0 : 1 + rnd.nextLong(f.store.appliedIndex());
                    assertThat(f.store.apply(old, gen.command(model.current(), model.compactRevision)))
                            .isEqualTo(new Result.AlreadyApplied(f.store.appliedIndex()));
                }
                assertThat(f.store.currentRevision()).as(ctx).isEqualTo(model.current());
                assertThat(f.store.alarms()).as(ctx + " alarms").isEqualTo(model.alarms);
                assertThat(f.store.leases()).as(ctx + " leases").containsExactlyElementsOf(
                        model.leases.values().stream().filter(Lease::live).toList());
                assertThat(f.store.revokingLeases()).as(ctx + " revoking leases").containsExactlyElementsOf(
                        model.leases.values().stream().filter(l -> !l.live()).toList());
                for (long id = 1; id <= 3; id++) {
                    assertThat(f.store.leaseKeys(id)).as(ctx + " keys of lease " + id).isEqualTo(model.leaseKeys(id));
                }
                assertThat(f.store.compactRevision()).as(ctx).isEqualTo(model.compactRevision);
            }
            // Full state at every retained revision, before and after finishing compaction and a restart.
            checkAllRevisions(f.store, model);
            f.finishCompaction();
            f.reopen();
            checkAllRevisions(f.store, model);
        }
        if (Boolean.getBoolean("mvcc.stats")) System.out.printf("seed %d: %d writing txns, %d rejections%n", seed, writingTxns, rejections);
        return new int[] {writingTxns, rejections};
    }

    private static void checkAllRevisions(MvccStore store, ModelStore model) {
        for (long rev = Math.max(1, model.compactRevision); rev <= model.current(); rev++) {
            RangeRequest all = RangeRequest.all().atRevision(rev);
            assertThat(store.range(all)).as("all keys at " + rev).isEqualTo(model.range(all));
        }
        long from = model.compactRevision + 1;
        assertThat(catchUp(store, from)).as("changes since " + from).isEqualTo(model.changesSince(from));
    }

    /** Follows the paged catch-up to the end, checking pages never split a revision. */
    private static List<Event> catchUp(MvccStore store, long from) {
        List<Event> out = new ArrayList<>();
        long next = from;
        long last = -1;
        while (next <= store.currentRevision()) {
            Changes c = store.changesSince(next);
            for (Event e : c.events()) {
                assertThat(e.revision().main()).as("page split a revision").isNotEqualTo(last);
            }
            if (!c.events().isEmpty()) last = c.events().get(c.events().size() - 1).revision().main();
            out.addAll(c.events());
            assertThat(c.nextRevision()).isGreaterThan(next);
            next = c.nextRevision();
        }
        return out;
    }

    /** A response or the error it failed with, so both sides compare as values. */
    private static Object outcome(java.util.function.Supplier<Object> read) {
        try {
            return read.get();
        } catch (MvccException e) {
            return e.error();
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) return;
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) Files.delete(p);
        }
    }
}
