package io.synod.mvcc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SnapshotTest {
    @TempDir Path tmp;

    private List<SnapshotChunk> fillAndSnapshot(StoreFixture f) throws IOException {
        for (int i = 0; i < 300; i++) f.put("k" + (i % 50), "v" + i);
        f.del("k7");
        f.ok(new CompactRequest(100));
        f.put("after", "compact");
        List<SnapshotChunk> chunks = new ArrayList<>();
        try (MvccSnapshot s = f.store.snapshot(4096)) {
            while (!s.finished()) chunks.add(s.nextChunk());
        }
        return chunks;
    }

    @Test
    void snapshotStreamsInBoundedChunksAndInstallsIntoAFreshStore() throws IOException {
        try (StoreFixture f = new StoreFixture(tmp.resolve("src"), MvccOptions.defaults().withCompaction(10, 0))) {
            List<SnapshotChunk> chunks = fillAndSnapshot(f);
            assertThat(chunks.size()).isGreaterThan(2);
            assertThat(chunks).allMatch(c -> c.data().length <= 4096 && c.appliedIndex() == f.store.appliedIndex());
            assertThat(chunks.get(chunks.size() - 1).last()).isTrue();
            Path installed = tmp.resolve("dst");
            try (SnapshotReceiver r = new SnapshotReceiver(tmp.resolve("staging"), SnapshotReceiver.Limits.defaults())) {
                for (SnapshotChunk c : chunks) r.accept(c);
                assertThat(r.installInto(installed)).isEqualTo(f.store.appliedIndex());
            }
            try (StoreFixture g = new StoreFixture(installed, f.options)) {
                assertThat(g.store.appliedIndex()).isEqualTo(f.store.appliedIndex());
                assertThat(g.store.currentRevision()).isEqualTo(f.store.currentRevision());
                assertThat(g.store.compactRevision()).isEqualTo(100);
                assertThat(g.store.compactionPending()).isEqualTo(f.store.compactionPending());
                for (long rev = 100; rev <= f.store.currentRevision(); rev++) {
                    RangeRequest all = RangeRequest.all().atRevision(rev);
                    assertThat(g.store.range(all)).isEqualTo(f.store.range(all));
                }
                assertThat(g.store.changesSince(101)).isEqualTo(f.store.changesSince(101));
                // Both continue identically from the snapshot's index.
                assertThat(g.put("next", "1")).isEqualTo(f.put("next", "1"));
                g.finishCompaction();
                f.finishCompaction();
                assertThat(g.store.range(RangeRequest.all())).isEqualTo(f.store.range(RangeRequest.all()));
            }
        }
    }

    @Test
    void corruptLostOrForgedChunksAreRefused() throws IOException {
        try (StoreFixture f = new StoreFixture(tmp.resolve("src"), MvccOptions.defaults())) {
            List<SnapshotChunk> chunks = fillAndSnapshot(f);
            SnapshotChunk second = chunks.get(1);

            byte[] flipped = second.data().clone();
            flipped[10] ^= 1;
            try (SnapshotReceiver r = new SnapshotReceiver(tmp.resolve("s1"), SnapshotReceiver.Limits.defaults())) {
                r.accept(chunks.get(0));
                assertThatThrownBy(() -> r.accept(new SnapshotChunk(second.appliedIndex(), 1, flipped, second.crc(), second.last())))
                        .hasMessageContaining("checksum mismatch in chunk 1");
            }
            try (SnapshotReceiver r = new SnapshotReceiver(tmp.resolve("s2"), SnapshotReceiver.Limits.defaults())) {
                r.accept(chunks.get(0));
                assertThatThrownBy(() -> r.accept(chunks.get(2))).hasMessageContaining("expected chunk 1, got 2");
                assertThatThrownBy(() -> r.installInto(tmp.resolve("never"))).hasMessageContaining("incomplete");
            }
            // A forged chunk with a matching per-chunk CRC is still caught by the whole-stream checksum.
            CRC32C c = new CRC32C();
            c.update(flipped);
            try (SnapshotReceiver r = new SnapshotReceiver(tmp.resolve("s3"), SnapshotReceiver.Limits.defaults())) {
                for (SnapshotChunk ch : chunks) {
                    r.accept(ch.seq() == 1 ? new SnapshotChunk(ch.appliedIndex(), 1, flipped, (int) c.getValue(), ch.last()) : ch);
                }
                assertThatThrownBy(() -> r.installInto(tmp.resolve("forged"))).isInstanceOf(IOException.class);
            }
            assertThat(tmp.resolve("forged")).doesNotExist();
            try (SnapshotReceiver r = new SnapshotReceiver(tmp.resolve("s4"), new SnapshotReceiver.Limits(5000, 10))) {
                r.accept(chunks.get(0));
                assertThatThrownBy(() -> r.accept(chunks.get(1))).hasMessageContaining("exceeds 5000 bytes");
            }
        }
    }

    @Test
    void aSnapshotLeftByADeadProcessIsDeletedOnOpenButLiveDataStays() throws IOException {
        Path dir = tmp.resolve("store");
        try (StoreFixture f = new StoreFixture(dir, MvccOptions.defaults())) {
            f.put("a", "1");
            // Taken but never closed: what a crash in the middle of streaming leaves behind.
            f.store.snapshot(4096);
        }
        try (var siblings = java.nio.file.Files.list(tmp)) {
            assertThat(siblings.filter(p -> p.getFileName().toString().startsWith("store.snapshot-")).count()).isEqualTo(1);
        }
        try (StoreFixture g = new StoreFixture(dir, MvccOptions.defaults())) {
            try (var siblings = java.nio.file.Files.list(tmp)) {
                assertThat(siblings.filter(p -> p.getFileName().toString().startsWith("store.snapshot-")).count()).isZero();
            }
            assertThat(g.store.range(RangeRequest.all()).toString()).contains("a");
            assertThat(g.store.appliedIndex()).isEqualTo(1);
        }
    }
}
