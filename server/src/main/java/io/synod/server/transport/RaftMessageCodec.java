package io.synod.server.transport;

import io.synod.consensus.ConfState;
import io.synod.consensus.Entry;
import io.synod.consensus.EntryType;
import io.synod.consensus.Message;
import io.synod.consensus.Snapshot;
import io.synod.consensus.SnapshotMeta;
import io.synod.raft.RaftMessage;
import io.synod.raft.RaftMessage.AppendRequest;
import io.synod.raft.RaftMessage.AppendResponse;
import io.synod.raft.RaftMessage.CommitNotice;
import io.synod.raft.RaftMessage.HeartbeatRequest;
import io.synod.raft.RaftMessage.HeartbeatResponse;
import io.synod.raft.RaftMessage.ReadIndexRequest;
import io.synod.raft.RaftMessage.ReadIndexResponse;
import io.synod.raft.RaftMessage.SnapshotRequest;
import io.synod.raft.RaftMessage.TimeoutNow;
import io.synod.raft.RaftMessage.VoteRequest;
import io.synod.raft.RaftMessage.VoteResponse;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The peer wire format of {@link RaftMessage}s and {@link ForwardMessage}s: a batch is {@code [version][count:int]} followed
 * by that many messages, each {@code [kind:byte][from][to][term]} and its own fields in record
 * order (longs big-endian, booleans one byte, byte arrays and lists length-prefixed). Decoding
 * checks every length against the bytes that remain, so a corrupt or hostile frame fails with
 * {@link IllegalArgumentException} instead of allocating what it claims.
 */
public final class RaftMessageCodec {
    private RaftMessageCodec() {}

    private static final byte VERSION = 1;
    private static final byte VOTE_REQ = 1, VOTE_RESP = 2, APPEND_REQ = 3, APPEND_RESP = 4, HEARTBEAT_REQ = 5,
            HEARTBEAT_RESP = 6, SNAPSHOT_REQ = 7, TIMEOUT_NOW = 8, READ_INDEX_REQ = 9, READ_INDEX_RESP = 10,
            FORWARD_PROPOSAL = 11, FORWARD_ANSWER = 12, COMMIT_NOTICE = 13, FORWARD_RENEWAL = 14, FORWARD_RENEWED = 15;
    private static final io.synod.consensus.ProposeResult.Reason[] REASONS = io.synod.consensus.ProposeResult.Reason.values();

    public static byte[] encodeBatch(List<? extends Message> messages) {
        var bytes = new ByteArrayOutputStream(256);
        var out = new DataOutputStream(bytes);
        try {
            out.writeByte(VERSION);
            out.writeInt(messages.size());
            for (Message m : messages) encode(m, out);
            out.flush();
        } catch (IOException e) {
            throw new UncheckedIOException(e); // cannot happen on a byte array
        }
        return bytes.toByteArray();
    }

    public static List<Message> decodeBatch(byte[] frame) {
        ByteBuffer in = ByteBuffer.wrap(frame);
        try {
            if (in.get() != VERSION) throw new IllegalArgumentException("unknown peer frame version");
            int n = count(in, 13);
            var out = new ArrayList<Message>(n);
            for (int i = 0; i < n; i++) out.add(decode(in));
            if (in.hasRemaining()) throw new IllegalArgumentException(in.remaining() + " trailing bytes in peer frame");
            return out;
        } catch (BufferUnderflowException e) {
            throw new IllegalArgumentException("truncated peer frame of " + frame.length + " bytes", e);
        }
    }

    private static void encode(Message message, DataOutputStream out) throws IOException {
        if (message instanceof ForwardMessage f) {
            encodeForward(f, out);
            return;
        }
        RaftMessage m = (RaftMessage) message;
        switch (m) {
            case VoteRequest v -> {
                header(out, VOTE_REQ, m);
                out.writeBoolean(v.preVote());
                out.writeLong(v.lastLogIndex());
                out.writeLong(v.lastLogTerm());
                out.writeBoolean(v.leadershipTransfer());
            }
            case VoteResponse v -> {
                header(out, VOTE_RESP, m);
                out.writeBoolean(v.preVote());
                out.writeBoolean(v.granted());
                out.writeLong(v.commitIndex());
                out.writeLong(v.commitTerm());
            }
            case AppendRequest a -> {
                header(out, APPEND_REQ, m);
                out.writeLong(a.prevLogIndex());
                out.writeLong(a.prevLogTerm());
                out.writeLong(a.leaderCommit());
                out.writeInt(a.entries().size());
                for (Entry e : a.entries()) {
                    out.writeLong(e.term());
                    out.writeLong(e.index());
                    out.writeByte(e.type().ordinal());
                    bytes(out, e.data());
                }
            }
            case AppendResponse a -> {
                header(out, APPEND_RESP, m);
                out.writeBoolean(a.rejected());
                out.writeLong(a.index());
                out.writeLong(a.hintIndex());
                out.writeLong(a.hintTerm());
            }
            case HeartbeatRequest h -> {
                header(out, HEARTBEAT_REQ, m);
                out.writeLong(h.commit());
                out.writeLong(h.readSeq());
            }
            case HeartbeatResponse h -> {
                header(out, HEARTBEAT_RESP, m);
                out.writeLong(h.readSeq());
            }
            case CommitNotice c -> {
                header(out, COMMIT_NOTICE, m);
                out.writeLong(c.index());
                out.writeLong(c.logTerm());
                out.writeLong(c.commit());
            }
            case SnapshotRequest s -> {
                header(out, SNAPSHOT_REQ, m);
                SnapshotMeta meta = s.snapshot().meta();
                out.writeLong(meta.index());
                out.writeLong(meta.term());
                ConfState c = meta.confState();
                for (Set<Long> set : List.of(c.voters(), c.learners(), c.votersOutgoing(), c.learnersNext())) {
                    out.writeInt(set.size());
                    for (long id : set) out.writeLong(id);
                }
                out.writeBoolean(c.autoLeave());
                bytes(out, s.snapshot().data());
            }
            case TimeoutNow t -> header(out, TIMEOUT_NOW, m);
            case ReadIndexRequest r -> {
                header(out, READ_INDEX_REQ, m);
                bytes(out, r.context());
            }
            case ReadIndexResponse r -> {
                header(out, READ_INDEX_RESP, m);
                out.writeLong(r.index());
                bytes(out, r.context());
            }
        }
    }

    private static void encodeForward(ForwardMessage m, DataOutputStream out) throws IOException {
        switch (m) {
            case ForwardMessage.Proposal p -> {
                header(out, FORWARD_PROPOSAL, m);
                out.writeLong(p.requestId());
                bytes(out, p.command());
            }
            case ForwardMessage.Answer a -> {
                header(out, FORWARD_ANSWER, m);
                out.writeLong(a.requestId());
                out.writeLong(a.entryTerm());
                out.writeLong(a.entryIndex());
                out.writeByte(a.refusal() == null ? -1 : a.refusal().ordinal());
                out.writeLong(a.leaderHint());
            }
            case ForwardMessage.Renewal r -> {
                header(out, FORWARD_RENEWAL, m);
                out.writeLong(r.requestId());
                out.writeLong(r.leaseId());
            }
            case ForwardMessage.Renewed r -> {
                header(out, FORWARD_RENEWED, m);
                out.writeLong(r.requestId());
                out.writeLong(r.ttlSeconds());
                out.writeByte(r.refusal() == null ? -1 : r.refusal().ordinal());
                out.writeLong(r.leaderHint());
            }
        }
    }

    private static void header(DataOutputStream out, byte kind, Message m) throws IOException {
        out.writeByte(kind);
        out.writeLong(m.from());
        out.writeLong(m.to());
        out.writeLong(m.term());
    }

    private static void bytes(DataOutputStream out, byte[] b) throws IOException {
        out.writeInt(b.length);
        out.write(b);
    }

    private static Message decode(ByteBuffer in) {
        byte kind = in.get();
        long from = in.getLong(), to = in.getLong(), term = in.getLong();
        return switch (kind) {
            case VOTE_REQ -> new VoteRequest(from, to, term, bool(in), in.getLong(), in.getLong(), bool(in));
            case VOTE_RESP -> new VoteResponse(from, to, term, bool(in), bool(in), in.getLong(), in.getLong());
            case APPEND_REQ -> {
                long prevIndex = in.getLong(), prevTerm = in.getLong(), commit = in.getLong();
                int n = count(in, 21);
                var entries = new ArrayList<Entry>(n);
                EntryType[] types = EntryType.values();
                for (int i = 0; i < n; i++) {
                    long t = in.getLong(), idx = in.getLong();
                    int type = in.get();
                    if (type < 0 || type >= types.length) throw new IllegalArgumentException("unknown entry type " + type);
                    entries.add(new Entry(t, idx, types[type], bytes(in)));
                }
                yield new AppendRequest(from, to, term, prevIndex, prevTerm, entries, commit);
            }
            case APPEND_RESP -> new AppendResponse(from, to, term, bool(in), in.getLong(), in.getLong(), in.getLong());
            case HEARTBEAT_REQ -> new HeartbeatRequest(from, to, term, in.getLong(), in.getLong());
            case HEARTBEAT_RESP -> new HeartbeatResponse(from, to, term, in.getLong());
            case COMMIT_NOTICE -> new CommitNotice(from, to, term, in.getLong(), in.getLong(), in.getLong());
            case SNAPSHOT_REQ -> {
                long index = in.getLong(), snapTerm = in.getLong();
                Set<Long> voters = ids(in), learners = ids(in), outgoing = ids(in), next = ids(in);
                var conf = new ConfState(voters, learners, outgoing, next, bool(in));
                yield new SnapshotRequest(from, to, term, new Snapshot(new SnapshotMeta(index, snapTerm, conf), bytes(in)));
            }
            case TIMEOUT_NOW -> new TimeoutNow(from, to, term);
            case READ_INDEX_REQ -> new ReadIndexRequest(from, to, term, bytes(in));
            case READ_INDEX_RESP -> new ReadIndexResponse(from, to, term, in.getLong(), bytes(in));
            case FORWARD_PROPOSAL -> new ForwardMessage.Proposal(from, to, in.getLong(), bytes(in));
            case FORWARD_ANSWER -> {
                long id = in.getLong(), entryTerm = in.getLong(), entryIndex = in.getLong();
                yield new ForwardMessage.Answer(from, to, id, entryTerm, entryIndex, refusal(in), in.getLong());
            }
            case FORWARD_RENEWAL -> new ForwardMessage.Renewal(from, to, in.getLong(), in.getLong());
            case FORWARD_RENEWED -> {
                long id = in.getLong(), ttl = in.getLong();
                yield new ForwardMessage.Renewed(from, to, id, ttl, refusal(in), in.getLong());
            }
            default -> throw new IllegalArgumentException("unknown raft message kind " + kind);
        };
    }

    /** A refusal reason's ordinal, -1 for none. */
    private static io.synod.consensus.ProposeResult.Reason refusal(ByteBuffer in) {
        int reason = in.get();
        if (reason < -1 || reason >= REASONS.length) throw new IllegalArgumentException("unknown refusal " + reason);
        return reason < 0 ? null : REASONS[reason];
    }

    private static boolean bool(ByteBuffer in) {
        return in.get() != 0;
    }

    /** A length prefix, checked against what is left: each element takes at least {@code minBytes}. */
    private static int count(ByteBuffer in, int minBytes) {
        int n = in.getInt();
        if (n < 0 || (long) n * minBytes > in.remaining()) {
            throw new IllegalArgumentException("length " + n + " exceeds the " + in.remaining() + " bytes left in the peer frame");
        }
        return n;
    }

    private static byte[] bytes(ByteBuffer in) {
        byte[] b = new byte[count(in, 1)];
        in.get(b);
        return b;
    }

    private static Set<Long> ids(ByteBuffer in) {
        int n = count(in, 8);
        var s = new HashSet<Long>(n);
        for (int i = 0; i < n; i++) s.add(in.getLong());
        return s;
    }
}
