package io.synod.server.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.synod.consensus.ConfState;
import io.synod.consensus.Entry;
import io.synod.consensus.EntryType;
import io.synod.consensus.Message;
import io.synod.consensus.ProposeResult;
import io.synod.consensus.Snapshot;
import io.synod.consensus.SnapshotMeta;
import io.synod.raft.RaftMessage;
import io.synod.raft.RaftMessage.AppendRequest;
import io.synod.raft.RaftMessage.AppendResponse;
import io.synod.raft.RaftMessage.HeartbeatRequest;
import io.synod.raft.RaftMessage.HeartbeatResponse;
import io.synod.raft.RaftMessage.ReadIndexRequest;
import io.synod.raft.RaftMessage.ReadIndexResponse;
import io.synod.raft.RaftMessage.SnapshotRequest;
import io.synod.raft.RaftMessage.TimeoutNow;
import io.synod.raft.RaftMessage.VoteRequest;
import io.synod.raft.RaftMessage.VoteResponse;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class RaftMessageCodecTest {
    static List<Message> everyKind() {
        var conf = new ConfState(Set.of(1L, 2L, 3L), Set.of(4L), Set.of(1L, 2L, 5L), Set.of(5L), true);
        return List.of(
                new VoteRequest(1, 2, 7, true, 100, 6, false),
                new VoteResponse(2, 1, 7, false, true, 99, 6),
                new AppendRequest(1, 3, 7, 10, 6, List.of(Entry.normal(7, 11, new byte[] {1, 2, 3}), Entry.noop(7, 12),
                        new Entry(7, 13, EntryType.CONF_CHANGE, new byte[] {9})), 9),
                new AppendRequest(1, 3, 7, 10, 6, List.of(), 9),
                new AppendResponse(3, 1, 7, true, 10, 8, 5),
                new HeartbeatRequest(1, 2, 7, 9, 42),
                new HeartbeatResponse(2, 1, 7, 42),
                new RaftMessage.CommitNotice(1, 2, 7, 15, 6, 14),
                new SnapshotRequest(1, 2, 7, new Snapshot(new SnapshotMeta(50, 6, conf), new byte[] {5, 6})),
                new TimeoutNow(1, 2, 7),
                new ReadIndexRequest(2, 1, 7, new byte[] {0, 0, 0, 1}),
                new ReadIndexResponse(1, 2, 7, 12, new byte[] {0, 0, 0, 1}),
                new ForwardMessage.Proposal(2, 1, 77, new byte[] {4, 5, 6}),
                new ForwardMessage.Answer(1, 2, 77, 7, 13, null, 1),
                new ForwardMessage.Answer(3, 2, 78, 0, 0, ProposeResult.Reason.NOT_LEADER, 1),
                new ForwardMessage.Renewal(2, 1, 79, 0x7ea5e),
                new ForwardMessage.Renewed(1, 2, 79, 60, null, 1),
                new ForwardMessage.Renewed(3, 2, 80, 0, ProposeResult.Reason.OVERLOADED, 1));
    }

    @Test
    void roundTripsEveryKind() {
        List<Message> in = everyKind();
        List<Message> out = RaftMessageCodec.decodeBatch(RaftMessageCodec.encodeBatch(in));
        assertThat(out).hasSize(in.size());
        for (int i = 0; i < in.size(); i++) {
            Message a = in.get(i), b = out.get(i);
            switch (a) {
                case SnapshotRequest s -> {
                    var t = (SnapshotRequest) b;
                    assertThat(t.snapshot().meta()).isEqualTo(s.snapshot().meta());
                    assertThat(t.snapshot().data()).isEqualTo(s.snapshot().data());
                }
                case ForwardMessage.Proposal p -> {
                    assertThat(((ForwardMessage.Proposal) b).requestId()).isEqualTo(p.requestId());
                    assertThat(((ForwardMessage.Proposal) b).command()).isEqualTo(p.command());
                }
                case ReadIndexRequest r -> assertThat(((ReadIndexRequest) b).context()).isEqualTo(r.context());
                case ReadIndexResponse r -> {
                    assertThat(((ReadIndexResponse) b).context()).isEqualTo(r.context());
                    assertThat(((ReadIndexResponse) b).index()).isEqualTo(r.index());
                }
                default -> assertThat(b).isEqualTo(a);
            }
            assertThat(b.from()).isEqualTo(a.from());
            assertThat(b.to()).isEqualTo(a.to());
            assertThat(b.term()).isEqualTo(a.term());
        }
    }

    @Test
    void rejectsEveryTruncationAndCorruptLengths() {
        byte[] frame = RaftMessageCodec.encodeBatch(everyKind());
        for (int len = 0; len < frame.length; len++) {
            byte[] cut = Arrays.copyOf(frame, len);
            assertThatThrownBy(() -> RaftMessageCodec.decodeBatch(cut)).isInstanceOf(IllegalArgumentException.class);
        }
        var random = new SplittableRandom(0x5eed);
        for (int i = 0; i < 2000; i++) {
            byte[] bad = frame.clone();
            bad[random.nextInt(bad.length)] = (byte) random.nextInt(256);
            try {
                RaftMessageCodec.decodeBatch(bad); // may decode to other valid values; must never throw anything else
            } catch (IllegalArgumentException expected) {
                // fine
            }
        }
    }
}
