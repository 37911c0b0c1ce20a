package io.synod.server.transport;

import io.synod.consensus.Snapshot;
import io.synod.mvcc.SnapshotChunk;
import io.synod.raft.RaftMessage;
import io.synod.raft.RaftMessage.SnapshotRequest;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.util.List;

/**
 * Frames of one snapshot transfer ({@link PeerProtocol#SNAPSHOT}): first a header frame
 * {@code [1][RaftMessageCodec batch of the SnapshotRequest, without data]}, then chunk frames
 * {@code [2][appliedIndex:long][seq:int][crc32c:int][last:byte][data]}. The chunk's own checksum
 * and sequence number are checked by the receiver ({@link io.synod.mvcc.SnapshotReceiver}).
 */
final class SnapshotFrames {
    private SnapshotFrames() {}

    static final byte HEADER = 1, CHUNK = 2;

    /** One decoded frame. */
    sealed interface Frame {}

    record Header(SnapshotRequest request) implements Frame {}

    record Chunk(SnapshotChunk chunk) implements Frame {}

    static byte[] header(SnapshotRequest request) {
        // The state travels as chunks; the header only says where it sits in the log and who sends it.
        var bare = new SnapshotRequest(request.from(), request.to(), request.term(), new Snapshot(request.snapshot().meta(), new byte[0]));
        byte[] batch = RaftMessageCodec.encodeBatch(List.of(bare));
        return ByteBuffer.allocate(1 + batch.length).put(HEADER).put(batch).array();
    }

    static byte[] chunk(SnapshotChunk c) {
        return ByteBuffer.allocate(SnapshotLimits.CHUNK_FRAME_OVERHEAD_BYTES + c.data().length).put(CHUNK).putLong(c.appliedIndex())
                .putInt(c.seq()).putInt(c.crc()).put((byte) (c.last() ? 1 : 0)).put(c.data()).array();
    }

    /** Decodes one frame; {@link IllegalArgumentException} if it is malformed. */
    static Frame decode(byte[] frame) {
        try {
            ByteBuffer in = ByteBuffer.wrap(frame);
            byte kind = in.get();
            if (kind == HEADER) {
                byte[] batch = new byte[in.remaining()];
                in.get(batch);
                List<io.synod.consensus.Message> ms = RaftMessageCodec.decodeBatch(batch);
                if (ms.size() != 1 || !(ms.get(0) instanceof SnapshotRequest s)) {
                    throw new IllegalArgumentException("snapshot header must hold one SnapshotRequest, got " + ms);
                }
                return new Header(s);
            }
            if (kind == CHUNK) {
                long index = in.getLong();
                int seq = in.getInt();
                int crc = in.getInt();
                byte last = in.get();
                if (last != 0 && last != 1) throw new IllegalArgumentException("bad last flag " + last);
                byte[] data = new byte[in.remaining()];
                in.get(data);
                return new Chunk(new SnapshotChunk(index, seq, data, crc, last == 1));
            }
            throw new IllegalArgumentException("unknown snapshot frame kind " + kind);
        } catch (BufferUnderflowException e) {
            throw new IllegalArgumentException("truncated snapshot frame of " + frame.length + " bytes", e);
        }
    }
}
