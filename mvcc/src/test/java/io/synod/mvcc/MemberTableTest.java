package io.synod.mvcc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Cluster member metadata in the store: applied atomically with the index, replays ignored,
 * durable across reopen, carried by a snapshot, removed ids remembered and never readmitted.
 */
class MemberTableTest {
    @TempDir Path tmp;

    static final Member A = new Member(11, "a", List.of("http://127.0.0.1:2380"), List.of("http://127.0.0.1:2379"), false);
    static final Member B = new Member(22, "", List.of("http://127.0.0.1:2480"), List.of(), true);

    @Test
    void membersAreAppliedWithTheIndexSurviveReopenAndTravelInSnapshots() throws IOException {
        Path installed = tmp.resolve("dst");
        try (StoreFixture f = new StoreFixture(tmp.resolve("src"), MvccOptions.defaults())) {
            f.store.applyMembers(f.nextIndex++, List.of(A), List.of());
            f.put("k", "v");
            f.store.applyMembers(f.nextIndex++, List.of(B), List.of());
            assertThat(f.store.members()).containsExactly(A, B);
            long applied = f.store.appliedIndex();
            f.store.applyMembers(applied, List.of(), List.of(11L)); // a replay: ignored
            assertThat(f.store.members()).containsExactly(A, B);
            f.store.applyMembers(f.nextIndex++, List.of(B.withLearner(false).withAttributes("b", List.of("http://c"))), List.of(11L));
            assertThat(f.store.members()).containsExactly(new Member(22, "b", B.peerUrls(), List.of("http://c"), false));
            assertThat(f.store.removedMembers()).containsExactly(11L);
            assertThatThrownBy(() -> f.store.applyMembers(f.nextIndex++, List.of(A), List.of()))
                    .hasMessageContaining("was removed and cannot come back");

            List<SnapshotChunk> chunks = new ArrayList<>();
            try (MvccSnapshot s = f.store.snapshot(4096)) {
                while (!s.finished()) chunks.add(s.nextChunk());
            }
            try (SnapshotReceiver r = new SnapshotReceiver(tmp.resolve("staging"), SnapshotReceiver.Limits.defaults())) {
                for (SnapshotChunk c : chunks) r.accept(c);
                r.installInto(installed);
            }
        }
        try (StoreFixture g = new StoreFixture(tmp.resolve("src"), MvccOptions.defaults())) {
            assertThat(g.store.members()).extracting(Member::name).containsExactly("b");
            assertThat(g.store.removedMembers()).containsExactly(11L);
        }
        try (StoreFixture g = new StoreFixture(installed, MvccOptions.defaults())) {
            assertThat(g.store.members()).extracting(Member::name).containsExactly("b");
            assertThat(g.store.removedMembers()).containsExactly(11L);
        }
    }

    @Test
    void memberRecordsRoundTripAndRejectCorruption() {
        assertThat(Member.decode(A.encode())).isEqualTo(A);
        assertThat(Member.decode(B.encode())).isEqualTo(B);
        byte[] bad = A.encode();
        bad[0] = 9;
        assertThatThrownBy(() -> Member.decode(bad)).hasMessageContaining("version 9");
        assertThatThrownBy(() -> Member.decode(java.util.Arrays.copyOf(A.encode(), 12))).isInstanceOf(IllegalArgumentException.class);
    }
}
