package io.synod.mvcc;

import static io.synod.mvcc.StoreFixture.b;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Replicated alarms in the store: what NOSPACE and CORRUPT refuse and allow, and that they survive a restart. */
class AlarmStoreTest {
    @TempDir Path tmp;

    @Test
    void nospaceRefusesGrowthButServesDeletesAndCompaction() throws IOException {
        try (var f = new StoreFixture(tmp.resolve("s"), MvccOptions.defaults())) {
            f.put("a", "1");
            f.ok(new LeaseCommand.Grant(5, 60));
            assertThat(f.ok(new AlarmCommand(true, 7, AlarmCommand.NOSPACE))).isEqualTo(
                    new AlarmResponse(2, List.of(new AlarmCommand.Raised(7, AlarmCommand.NOSPACE)), true));
            assertThat(((AlarmResponse) f.ok(new AlarmCommand(true, 7, AlarmCommand.NOSPACE))).changed()).isFalse();
            assertThat(f.rejected(PutRequest.of(b("b"), b("2")))).isEqualTo(MvccError.NO_SPACE);
            assertThat(f.rejected(new TxnRequest(List.of(), List.of(PutRequest.of(b("b"), b("2"))), List.of()))).isEqualTo(MvccError.NO_SPACE);
            assertThat(f.rejected(new LeaseCommand.Grant(6, 60))).isEqualTo(MvccError.NO_SPACE);
            // A txn that only reads and deletes is fine; so are deletes, compaction and revokes.
            f.ok(new TxnRequest(List.of(), List.of(RangeRequest.single(b("a")), DeleteRangeRequest.single(b("zz"))), List.of()));
            f.del("a");
            f.ok(new CompactRequest(f.store.currentRevision()));
            f.ok(new LeaseCommand.Revoke(5));
            f.reopen();
            assertThat(f.store.alarms()).containsExactly(new AlarmCommand.Raised(7, AlarmCommand.NOSPACE));
            assertThat(f.rejected(PutRequest.of(b("b"), b("2")))).isEqualTo(MvccError.NO_SPACE);
            f.ok(new AlarmCommand(false, 7, AlarmCommand.NOSPACE));
            f.put("b", "2");
            assertThat(f.store.alarms()).isEmpty();
        }
    }

    @Test
    void corruptRefusesEveryWrite() throws IOException {
        try (var f = new StoreFixture(tmp.resolve("s"), MvccOptions.defaults())) {
            f.put("a", "1");
            f.ok(new AlarmCommand(true, 3, AlarmCommand.CORRUPT));
            assertThat(f.rejected(PutRequest.of(b("b"), b("2")))).isEqualTo(MvccError.CORRUPT);
            assertThat(f.rejected(DeleteRangeRequest.single(b("a")))).isEqualTo(MvccError.CORRUPT);
            assertThat(f.rejected(new CompactRequest(1))).isEqualTo(MvccError.CORRUPT);
            assertThat(f.rejected(new LeaseCommand.Grant(1, 60))).isEqualTo(MvccError.CORRUPT);
            assertThat(f.get("a").value()).isEqualTo(b("1"));
        }
    }
}
