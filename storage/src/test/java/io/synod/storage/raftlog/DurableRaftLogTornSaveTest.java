package io.synod.storage.raftlog;

import static org.assertj.core.api.Assertions.assertThat;

import io.synod.consensus.Entry;
import io.synod.consensus.HardState;
import io.synod.consensus.MemoryLogStorage;
import io.synod.storage.wal.RecordFormat;
import io.synod.storage.wal.SegmentScanner;
import io.synod.storage.wal.SyncMode;
import io.synod.storage.wal.WalOptions;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A crash in the middle of {@link DurableRaftLog#save} leaves a prefix of its records on disk.
 * After recovery the log must be exactly the state before the save plus a prefix of it: the
 * first k entries (overwriting from the first one's index), and the new hard state only if all
 * entries made it. Checked by cutting the last segment at every kind of offset inside the save.
 */
class DurableRaftLogTornSaveTest {
    @TempDir Path tmp;

    static final RaftLogOptions OPTS = new RaftLogOptions(new WalOptions(1 << 20, 4096, 64, 1 << 16, 1024, SyncMode.UNSAFE_NO_SYNC), 300);

    @Test
    void recoveryYieldsAPrefixOfTheInterruptedSave() throws IOException {
        long base = DurableRaftLogModelTest.seed();
        for (int run = 0; run < 30; run++) {
            long seed = base + run;
            try {
                runOnce(seed, tmp.resolve("r" + run));
            } catch (Throwable t) {
                throw new AssertionError("failed with seed " + seed + " (rerun with -Dsynod.seed=" + seed + ")", t);
            }
        }
    }

    private void runOnce(long seed, Path dir) throws IOException {
        var rnd = new Random(seed);
        var model = new MemoryLogStorage(DurableRaftLogModelTest.INITIAL);
        long term = 1;
        try (var log = DurableRaftLog.open(dir, OPTS, DurableRaftLogModelTest.INITIAL)) {
            for (int i = 0; i < 40; i++) {
                if (rnd.nextInt(8) == 0) term++;
                var entries = randomEntries(rnd, model, term);
                var hs = new HardState(term, 1, Math.max(0, model.lastIndex() - 2));
                log.save(hs, entries);
                model.setHardState(hs);
                model.append(entries);
                if (rnd.nextInt(15) == 0 && model.lastIndex() > model.firstIndex() + 2) {
                    long idx = model.lastIndex() - 2;
                    log.compact(idx, DurableRaftLogModelTest.INITIAL);
                    model.createSnapshot(idx, DurableRaftLogModelTest.INITIAL, new byte[0]);
                }
            }
        }
        Path seg = lastSegment(dir);
        int endBefore = endOffset(seg);
        term += rnd.nextInt(2);
        List<Entry> last = randomEntries(rnd, model, term);
        if (last.isEmpty()) last = List.of(Entry.normal(term, model.lastIndex() + 1, new byte[] {7}));
        var lastHs = new HardState(term, 2, model.lastIndex());
        try (var log = DurableRaftLog.open(dir, OPTS, DurableRaftLogModelTest.INITIAL)) {
            log.save(lastHs, last);
        }
        assertThat(lastSegment(dir)).isEqualTo(seg); // 1 MiB segments: the save stays in one segment
        int endAfter = endOffset(seg);
        // frame boundaries of the save's records: entries first, then the hard state
        var ends = new ArrayList<Integer>();
        int off = endBefore;
        for (Entry e : last) ends.add(off += RecordFormat.frameBytes(RaftLogCodec.ENTRY_HEADER_BYTES + e.data().length));
        ends.add(off += RecordFormat.frameBytes(24));
        assertThat(off).isEqualTo(endAfter);

        int cut = endBefore + rnd.nextInt(endAfter - endBefore + 1);
        try (FileChannel ch = FileChannel.open(seg, StandardOpenOption.WRITE)) {
            ch.truncate(cut);
        }
        int complete = 0;
        while (complete < ends.size() && ends.get(complete) <= cut) complete++;
        var expected = model.copy();
        expected.append(last.subList(0, Math.min(complete, last.size())));
        if (complete == ends.size()) expected.setHardState(lastHs);
        try (var log = DurableRaftLog.open(dir, OPTS, DurableRaftLogModelTest.INITIAL)) {
            DurableRaftLogModelTest.compare(expected, log, rnd);
        }
    }

    private static List<Entry> randomEntries(Random rnd, MemoryLogStorage model, long term) {
        long first = rnd.nextInt(4) == 0 ? model.firstIndex() + rnd.nextInt((int) (model.lastIndex() - model.firstIndex() + 2)) : model.lastIndex() + 1;
        var entries = new ArrayList<Entry>();
        int n = rnd.nextInt(5);
        for (int i = 0; i < n; i++) {
            byte[] data = new byte[rnd.nextInt(300)];
            rnd.nextBytes(data);
            entries.add(Entry.normal(term, first + i, data));
        }
        return entries;
    }

    private static Path lastSegment(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.toString().endsWith(".wal")).sorted().toList().getLast();
        }
    }

    private static int endOffset(Path seg) throws IOException {
        try (FileChannel ch = FileChannel.open(seg, StandardOpenOption.READ)) {
            return SegmentScanner.scan(ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size()), 4096, (i, t, b, o, l) -> {}).endOffset();
        }
    }
}
