package io.synod.raft;

import static org.assertj.core.api.Assertions.assertThat;

import io.synod.consensus.Entry;
import io.synod.consensus.EntryType;
import io.synod.consensus.Snapshot;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Which messages may add to the receiver's log: the driver runs only the others on the thread they arrive on. */
class RaftMessageTest {
    @Test
    void onlyAppendsWithEntriesAndSnapshotsAddToTheLog() {
        var entry = new Entry(2, 5, EntryType.NORMAL, new byte[] {1});
        assertThat(new RaftMessage.AppendRequest(1, 2, 2, 4, 2, List.of(entry), 4).appendsEntries()).isTrue();
        assertThat(new RaftMessage.SnapshotRequest(1, 2, 2, Snapshot.EMPTY).appendsEntries()).isTrue();

        assertThat(new RaftMessage.AppendRequest(1, 2, 2, 5, 2, List.of(), 5).appendsEntries()).as("a probe or commit update").isFalse();
        assertThat(new RaftMessage.AppendResponse(2, 1, 2, false, 5, 0, 0).appendsEntries()).isFalse();
        assertThat(new RaftMessage.HeartbeatRequest(1, 2, 2, 5, 0).appendsEntries()).isFalse();
        assertThat(new RaftMessage.HeartbeatResponse(2, 1, 2, 0).appendsEntries()).isFalse();
        assertThat(new RaftMessage.VoteRequest(1, 2, 3, false, 5, 2, false).appendsEntries()).isFalse();
        assertThat(new RaftMessage.VoteResponse(2, 1, 3, false, true, 5, 2).appendsEntries()).isFalse();
        assertThat(new RaftMessage.TimeoutNow(1, 2, 2).appendsEntries()).isFalse();
        assertThat(new RaftMessage.ReadIndexRequest(2, 1, 2, new byte[8]).appendsEntries()).isFalse();
        assertThat(new RaftMessage.ReadIndexResponse(1, 2, 2, 5, new byte[8]).appendsEntries()).isFalse();
    }

    @Test
    void aWriteIsTracedByTheLastEntryAnAppendCarriesAndTheIndexAnAnswerAccepts() {
        var e5 = new Entry(2, 5, EntryType.NORMAL, new byte[] {1});
        var e6 = new Entry(2, 6, EntryType.NORMAL, new byte[] {2});
        assertThat(new RaftMessage.AppendRequest(1, 2, 2, 4, 2, List.of(e5, e6), 4).traceIndex()).isEqualTo(6);
        assertThat(new RaftMessage.AppendRequest(1, 2, 2, 6, 2, List.of(), 6).traceIndex()).isEqualTo(-1);
        assertThat(new RaftMessage.AppendResponse(2, 1, 2, false, 6, 0, 0).traceIndex()).isEqualTo(6);
        assertThat(new RaftMessage.AppendResponse(2, 1, 2, true, 6, 3, 1).traceIndex()).as("a rejection acknowledges nothing").isEqualTo(-1);
        assertThat(new RaftMessage.HeartbeatResponse(2, 1, 2, 0).traceIndex()).isEqualTo(-1);
    }
}
