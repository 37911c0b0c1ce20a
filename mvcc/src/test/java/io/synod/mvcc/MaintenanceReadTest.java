package io.synod.mvcc;

import static io.synod.mvcc.StoreFixture.b;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The operator's reads of the store: {@link MvccStore#hashKv} must agree between stores that
 * applied the same history whatever their physical compaction progress, must not change once a
 * revision is written, and must tell different histories apart; {@link MvccStore#defragment}
 * must give space back after deletes and compaction.
 */
class MaintenanceReadTest {
    @TempDir Path dir;

    /** Physical compaction only through runCompactionStep, so two stores can be at different points. */
    private static final MvccOptions OPTIONS = MvccOptions.defaults().withCompaction(7, 0);

    /** Applies the same seeded mix of puts, overwrites and deletes to every store given. */
    private static void writeHistory(long seed, int commands, StoreFixture... stores) {
        var random = new SplittableRandom(seed);
        for (int i = 0; i < commands; i++) {
            String key = "k" + random.nextInt(20);
            boolean delete = random.nextInt(4) == 0;
            String value = "v" + random.nextInt(1000);
            for (StoreFixture f : stores) {
                if (delete) f.apply(DeleteRangeRequest.single(b(key)));
                else f.put(key, value);
            }
        }
    }

    @Test
    void hashKvAgreesAcrossStoresWhateverTheirPhysicalCompactionProgress() throws Exception {
        long seed = new SplittableRandom().nextLong();
        try (var a = new StoreFixture(dir.resolve("a"), OPTIONS); var c = new StoreFixture(dir.resolve("c"), OPTIONS)) {
            writeHistory(seed, 300, a, c);
            long compactAt = a.store.currentRevision() - 40;
            a.ok(new CompactRequest(compactAt));
            c.ok(new CompactRequest(compactAt));
            writeHistory(seed + 1, 50, a, c);
            assertThat(a.store.runCompactionStep()).as("seed=0x%x", seed).isTrue(); // a: one step only
            c.finishCompaction(); // c: all the way
            assertThat(a.store.compactionPending()).as("seed=0x%x", seed).isTrue();
            assertThat(a.store.hashAll()).as("physical hashes differ while a still compacts, seed=0x%x", seed)
                    .isNotEqualTo(c.store.hashAll());

            long current = a.store.currentRevision();
            assertThat(c.store.currentRevision()).isEqualTo(current);
            for (long rev : new long[] {0, compactAt, compactAt + 1, compactAt + 25, current}) {
                KvHash ha = a.store.hashKv(rev);
                KvHash hc = c.store.hashKv(rev);
                assertThat(ha).as("revision %d, seed=0x%x", rev, seed).isEqualTo(hc);
                assertThat(ha.compactRevision()).isEqualTo(compactAt);
                assertThat(ha.revision()).isEqualTo(rev == 0 ? current : rev);
            }
            a.finishCompaction();
            assertThat(a.store.hashKv(current)).as("seed=0x%x", seed).isEqualTo(c.store.hashKv(current));
            assertThat(a.store.hashAll()).as("seed=0x%x", seed).isEqualTo(c.store.hashAll());
        }
    }

    @Test
    void hashKvOfAWrittenRevisionNeverChangesAndNewWritesChangeTheCurrentHash() throws Exception {
        try (var f = new StoreFixture(dir, OPTIONS)) {
            writeHistory(42, 100, f);
            long rev = f.store.currentRevision();
            KvHash before = f.store.hashKv(rev);
            f.put("k1", "another");
            assertThat(f.store.hashKv(rev)).isEqualTo(before);
            assertThat(f.store.hashKv(0).hash()).isNotEqualTo(before.hash());
            f.reopen();
            assertThat(f.store.hashKv(rev)).isEqualTo(before);
        }
    }

    @Test
    void hashKvTellsDifferentValuesApart() throws Exception {
        try (var a = new StoreFixture(dir.resolve("a"), OPTIONS); var c = new StoreFixture(dir.resolve("c"), OPTIONS)) {
            a.put("x", "1");
            c.put("x", "2");
            assertThat(a.store.currentRevision()).isEqualTo(c.store.currentRevision());
            assertThat(a.store.hashKv(0).hash()).isNotEqualTo(c.store.hashKv(0).hash());
        }
    }

    @Test
    void hashKvRefusesCompactedAndFutureRevisions() throws Exception {
        try (var f = new StoreFixture(dir, OPTIONS)) {
            writeHistory(7, 50, f);
            long compactAt = f.store.currentRevision() - 5;
            f.ok(new CompactRequest(compactAt));
            assertThatThrownBy(() -> f.store.hashKv(compactAt - 1)).isInstanceOf(MvccException.class)
                    .hasMessageContaining("compacted");
            assertThatThrownBy(() -> f.store.hashKv(f.store.currentRevision() + 1)).isInstanceOf(MvccException.class)
                    .hasMessageContaining("future revision");
            assertThat(f.store.hashKv(compactAt).revision()).isEqualTo(compactAt);
        }
    }

    @Test
    void defragmentGivesBackTheSpaceOfDeletedAndCompactedHistory() throws Exception {
        try (var f = new StoreFixture(dir, OPTIONS)) {
            var random = new SplittableRandom(1);
            for (int i = 0; i < 2000; i++) f.put("key-" + (i % 500), incompressible(random, 2048));
            f.store.flush(); // the values reach SST files before they are deleted
            for (int i = 0; i < 500; i++) f.apply(DeleteRangeRequest.single(b("key-" + i)));
            f.ok(new CompactRequest(f.store.currentRevision()));
            f.finishCompaction();
            f.store.flush();
            long before = f.store.dbSizeBytes();
            assertThat(before).as("rows written and flushed to SST files").isGreaterThan(1_000_000);
            KvHash hash = f.store.hashKv(0);

            assertThat(f.store.defragment()).isTrue();

            long after = f.store.dbSizeBytes();
            assertThat(after).as("size after defragment (before: %d)", before).isLessThan(before / 10);
            assertThat(f.store.dbSizeInUseBytes()).isLessThanOrEqualTo(after + 1);
            assertThat(f.store.hashKv(0)).as("defragment changes no data").isEqualTo(hash);
            f.put("after", "defrag");
            assertThat(f.get("after").value()).isEqualTo(b("defrag"));
        }
    }

    private static String incompressible(SplittableRandom random, int chars) {
        var sb = new StringBuilder(chars);
        for (int i = 0; i < chars; i++) sb.append((char) ('!' + random.nextInt(90)));
        return sb.toString();
    }

    @Test
    void defragmentAfterCloseIsRefused() throws Exception {
        var f = new StoreFixture(dir, OPTIONS);
        f.close();
        assertThatThrownBy(f.store::defragment).isInstanceOf(IllegalStateException.class);
        assertThat(f.store.dbSizeBytes()).isZero();
    }
}
