package io.synod.storage.raftlog;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.synod.consensus.ConfState;
import io.synod.consensus.Entry;
import io.synod.consensus.EntryType;
import io.synod.consensus.HardState;
import io.synod.consensus.LogStorage;
import io.synod.consensus.MemoryLogStorage;
import io.synod.consensus.Snapshot;
import io.synod.consensus.SnapshotMeta;
import io.synod.storage.wal.SyncMode;
import io.synod.storage.wal.WalOptions;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Runs random sequences of saves (with overwrites), snapshots, compactions and restarts against
 * both {@link DurableRaftLog} and {@link MemoryLogStorage} and requires them to answer every read
 * the same way. Segments and the entry cache are tiny so that segment release, reads from disk
 * and replay from a released prefix all happen.
 */
class DurableRaftLogModelTest {
    @TempDir Path tmp;

    static final ConfState INITIAL = ConfState.ofVoters(Set.of(1L, 2L, 3L));

    static RaftLogOptions options(Random rnd) {
        // No flush needed for a model comparison inside one process; crash tests cover flushing.
        var wal = new WalOptions(2048 + rnd.nextInt(4096), 512, 64, 1 << 16, 1024, SyncMode.UNSAFE_NO_SYNC);
        return new RaftLogOptions(wal, rnd.nextInt(3) == 0 ? 0 : rnd.nextInt(2000));
    }

    @Test
    void behavesLikeMemoryLogStorage() throws Exception {
        long base = seed();
        for (int run = 0; run < 40; run++) {
            long seed = base + run;
            try {
                runOnce(seed, tmp.resolve("run-" + run), 250);
            } catch (Throwable t) {
                throw new AssertionError("failed with seed " + seed + " (rerun with -Dsynod.seed=" + seed + ")", t);
            }
        }
    }

    static long seed() {
        String prop = System.getProperty("synod.seed");
        long seed = prop != null ? Long.parseLong(prop) : System.nanoTime();
        System.out.println("DurableRaftLogModelTest seed=" + seed);
        return seed;
    }

    private void runOnce(long seed, Path dir, int ops) throws IOException {
        var rnd = new Random(seed);
        var opts = options(rnd);
        var model = new MemoryLogStorage(INITIAL);
        var log = DurableRaftLog.open(dir, opts, INITIAL);
        long term = 1;
        try {
            for (int op = 0; op < ops; op++) {
                int kind = rnd.nextInt(100);
                if (kind < 55) {
                    // save: sometimes overwrite a suffix, sometimes only a hard state
                    long first = model.firstIndex() + (long) rnd.nextInt((int) (model.lastIndex() - model.firstIndex() + 2));
                    if (rnd.nextInt(3) > 0) first = model.lastIndex() + 1;
                    if (rnd.nextInt(10) == 0) term++;
                    int n = rnd.nextInt(6);
                    var entries = new ArrayList<Entry>();
                    for (int i = 0; i < n; i++) {
                        byte[] data = new byte[rnd.nextInt(120)];
                        rnd.nextBytes(data);
                        var type = rnd.nextInt(10) == 0 ? EntryType.CONF_CHANGE : EntryType.NORMAL;
                        entries.add(new Entry(term, first + i, type, data));
                    }
                    HardState hs = rnd.nextInt(3) == 0 ? HardState.EMPTY
                            : new HardState(term, rnd.nextInt(4), Math.max(0, model.lastIndex() - rnd.nextInt(3)));
                    // The model compares in-process state, so flushing or not must not matter.
                    log.save(hs, entries, rnd.nextBoolean());
                    if (!hs.isEmpty()) model.setHardState(hs);
                    model.append(entries);
                } else if (kind < 65) {
                    // a snapshot from the leader: sometimes matching our log, sometimes not
                    long idx = Math.max(1, model.firstIndex() - 2 + rnd.nextInt((int) (model.lastIndex() - model.firstIndex() + 8)));
                    long t = idx <= model.lastIndex() && idx >= model.firstIndex() - 1 && rnd.nextBoolean() ? model.term(idx) : term + rnd.nextInt(2);
                    var meta = new SnapshotMeta(idx, Math.max(1, t), randomConf(rnd));
                    log.applySnapshot(meta);
                    model.applySnapshot(new Snapshot(meta, new byte[0]));
                } else if (kind < 75) {
                    if (model.lastIndex() > model.snapshot().meta().index()) {
                        long idx = model.snapshot().meta().index() + 1 + rnd.nextInt((int) (model.lastIndex() - model.snapshot().meta().index()));
                        var cs = randomConf(rnd);
                        SnapshotMeta meta = log.compact(idx, cs);
                        var snap = model.createSnapshot(idx, cs, new byte[0]);
                        assertThat(meta).isEqualTo(snap.meta());
                    }
                } else if (kind < 85) {
                    log.close();
                    log = DurableRaftLog.open(dir, opts, INITIAL);
                }
                compare(model, log, rnd);
            }
            log.close();
            log = DurableRaftLog.open(dir, opts, INITIAL);
            compare(model, log, rnd);
        } finally {
            log.close();
        }
    }

    static ConfState randomConf(Random rnd) {
        var voters = new HashSet<Long>();
        int n = 1 + rnd.nextInt(5);
        for (int i = 0; i < n; i++) voters.add(1L + rnd.nextInt(7));
        var learners = new HashSet<Long>();
        if (rnd.nextBoolean()) learners.add(10L + rnd.nextInt(3));
        Set<Long> outgoing = rnd.nextInt(4) == 0 ? Set.of(1L, 2L) : Set.of();
        var learnersOk = new HashSet<>(learners);
        learnersOk.removeAll(outgoing);
        return new ConfState(voters, learnersOk, outgoing, Set.of(), rnd.nextBoolean());
    }

    static void compare(MemoryLogStorage m, LogStorage d, Random rnd) {
        assertThat(d.hardState()).isEqualTo(m.hardState());
        assertThat(d.confState()).isEqualTo(m.confState());
        assertThat(d.firstIndex()).isEqualTo(m.firstIndex());
        assertThat(d.lastIndex()).isEqualTo(m.lastIndex());
        assertThat(d.snapshot().meta()).isEqualTo(m.snapshot().meta());
        for (long i = m.firstIndex() - 1; i <= m.lastIndex(); i++) assertThat(d.term(i)).as("term(%d)", i).isEqualTo(m.term(i));
        if (m.firstIndex() > 1) {
            assertThatThrownBy(() -> d.term(m.firstIndex() - 2)).isInstanceOf(LogStorage.CompactedException.class);
            assertThatThrownBy(() -> d.entries(m.firstIndex() - 1, m.lastIndex() + 1, Long.MAX_VALUE)).isInstanceOf(LogStorage.CompactedException.class);
        }
        assertThat(d.entries(m.firstIndex(), m.lastIndex() + 1, Long.MAX_VALUE)).isEqualTo(m.entries(m.firstIndex(), m.lastIndex() + 1, Long.MAX_VALUE));
        long span = m.lastIndex() - m.firstIndex() + 1;
        if (span > 0) {
            long lo = m.firstIndex() + rnd.nextLong(span);
            long hi = lo + rnd.nextLong(m.lastIndex() + 2 - lo);
            long maxBytes = rnd.nextInt(400);
            assertThat(d.entries(lo, hi, maxBytes)).isEqualTo(m.entries(lo, hi, maxBytes));
        }
    }

    @Test
    void segmentsAreReleasedAfterSnapshots() throws IOException {
        var opts = new RaftLogOptions(new WalOptions(4096, 512, 64, 1 << 16, 1024, SyncMode.UNSAFE_NO_SYNC), 0);
        Path dir = tmp.resolve("release");
        try (var log = DurableRaftLog.open(dir, opts, INITIAL)) {
            for (int i = 1; i <= 400; i++) log.save(new HardState(1, 1, i - 1), List.of(Entry.normal(1, i, new byte[100])));
            int before = log.walSegmentCount();
            assertThat(before).isGreaterThan(10);
            log.compact(390, INITIAL);
            assertThat(log.walSegmentCount()).isLessThanOrEqualTo(2);
            try (var files = Files.list(dir)) {
                assertThat(files.filter(p -> p.toString().endsWith(".wal")).count()).isEqualTo(log.walSegmentCount());
            }
        }
        try (var log = DurableRaftLog.open(dir, opts, INITIAL)) {
            assertThat(log.firstIndex()).isEqualTo(391);
            assertThat(log.lastIndex()).isEqualTo(400);
            assertThat(log.hardState()).isEqualTo(new HardState(1, 1, 399));
            assertThat(log.entries(391, 401, Long.MAX_VALUE)).hasSize(10);
        }
    }

    @Test
    void rejectsAppendsThatLeaveAGap() throws IOException {
        try (var log = DurableRaftLog.open(tmp.resolve("gap"), options(new Random(1)), INITIAL)) {
            log.save(HardState.EMPTY, List.of(Entry.normal(1, 1, new byte[1])));
            assertThatThrownBy(() -> log.save(HardState.EMPTY, List.of(Entry.normal(1, 3, new byte[1])))).hasMessageContaining("gap");
        }
    }
}
