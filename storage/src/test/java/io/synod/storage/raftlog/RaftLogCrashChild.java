package io.synod.storage.raftlog;

import io.synod.consensus.ConfState;
import io.synod.consensus.Entry;
import io.synod.consensus.HardState;
import io.synod.consensus.LogStorage;
import io.synod.consensus.MemoryLogStorage;
import io.synod.consensus.Snapshot;
import io.synod.consensus.SnapshotMeta;
import io.synod.storage.wal.SyncMode;
import io.synod.storage.wal.WalOptions;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;

/**
 * The process {@link RaftLogCrashTest} kills: applies a seeded stream of operations (saves with
 * overwrites, compactions, leader snapshots) to a {@link DurableRaftLog} and prints the number of
 * each operation once it returned (is durable). Each operation is generated from the random
 * stream and the log's current state only, so the parent can regenerate it from a model.
 */
public final class RaftLogCrashChild {
    static final ConfState INITIAL = ConfState.ofVoters(Set.of(1L, 2L, 3L));

    static RaftLogOptions options(SyncMode mode) {
        return new RaftLogOptions(new WalOptions(16 * 1024, 2048, 64, 1 << 16, 1024, mode, 64), 2000);
    }

    sealed interface Op {}

    record Save(HardState hs, List<Entry> entries) implements Op {}

    record Compact(long index, ConfState cs) implements Op {}

    record Install(SnapshotMeta meta) implements Op {}

    static Op next(Random rnd, LogStorage s) {
        long term = Math.max(1, s.hardState().term());
        int kind = rnd.nextInt(100);
        if (kind < 85 || s.lastIndex() < s.firstIndex()) {
            if (rnd.nextInt(12) == 0) term++;
            long first = rnd.nextInt(5) == 0 ? s.firstIndex() + rnd.nextInt((int) (s.lastIndex() - s.firstIndex() + 2)) : s.lastIndex() + 1;
            var entries = new ArrayList<Entry>();
            int n = rnd.nextInt(6);
            for (int i = 0; i < n; i++) {
                byte[] data = new byte[rnd.nextInt(600)];
                rnd.nextBytes(data);
                entries.add(Entry.normal(term, first + i, data));
            }
            long lastAfter = n > 0 ? first + n - 1 : s.lastIndex();
            return new Save(new HardState(term, 1 + rnd.nextInt(3), Math.max(0, lastAfter - rnd.nextInt(3))), entries);
        }
        if (kind < 95) {
            long snap = s.firstIndex() - 1;
            long idx = snap + 1 + rnd.nextInt((int) (s.lastIndex() - snap));
            return new Compact(idx, ConfState.ofVoters(Set.of(1L, 2L, 3L, 4L + rnd.nextInt(3))));
        }
        long idx = s.lastIndex() + rnd.nextInt(5) - 2;
        idx = Math.max(idx, s.firstIndex());
        long t = idx <= s.lastIndex() && rnd.nextBoolean() ? s.term(idx) : term + 1;
        return new Install(new SnapshotMeta(idx, t, INITIAL));
    }

    static void apply(Op op, DurableRaftLog log) throws IOException {
        switch (op) {
            case Save s -> log.save(s.hs(), s.entries());
            case Compact c -> log.compact(c.index(), c.cs());
            case Install i -> log.applySnapshot(i.meta());
        }
    }

    static void apply(Op op, MemoryLogStorage m) {
        switch (op) {
            case Save s -> {
                m.append(s.entries());
                m.setHardState(s.hs());
            }
            case Compact c -> m.createSnapshot(c.index(), c.cs(), new byte[0]);
            case Install i -> m.applySnapshot(new Snapshot(i.meta(), new byte[0]));
        }
    }

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        long seed = Long.parseLong(args[1]);
        SyncMode mode = SyncMode.valueOf(args[2]);
        var out = new PrintStream(new FileOutputStream(FileDescriptor.out), true);
        var rnd = new Random(seed);
        try (var log = DurableRaftLog.open(dir, options(mode), INITIAL)) {
            for (long op = 0; ; op++) {
                apply(next(rnd, log), log);
                out.println(op);
            }
        }
    }
}
