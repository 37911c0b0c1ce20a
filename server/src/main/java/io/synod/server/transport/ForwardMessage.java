package io.synod.server.transport;

import io.synod.consensus.Message;

/**
 * Client writes forwarded between members inside the peer streams, next to the Raft messages
 * (and batched with them), instead of one gRPC call per write. A follower sends the encoded
 * command as a {@link Proposal}; the leader proposes it and sends back an {@link Answer} with the
 * index and term its entry got (or why it was refused) before the appends that carry the entry,
 * so the follower can wait for that entry and answer its client from its own apply, as etcd's
 * followers do with a proposal they forwarded. These messages are not for the consensus core:
 * their term is 0 and {@link PeerService} hands them to the forwarding handler, not to the driver.
 */
public sealed interface ForwardMessage extends Message {
    /** Rough bytes of a message's fixed fields, for batching. */
    long FIXED_BYTES = 48;

    @Override
    default long term() {
        return 0;
    }

    /** An encoded command that {@code from} asks the leader {@code to} to propose; {@code requestId} is from's own. */
    record Proposal(long from, long to, long requestId, byte[] command) implements ForwardMessage {
        @Override
        public long sizeBytes() {
            return FIXED_BYTES + command.length;
        }
    }

    /**
     * The leader's immediate answer to a {@link Proposal}: accepted at (entryTerm, entryIndex) when
     * {@code refusal} is null, else the core's refusal and the leader it named, if any.
     */
    record Answer(long from, long to, long requestId, long entryTerm, long entryIndex, io.synod.consensus.ProposeResult.Reason refusal,
            long leaderHint) implements ForwardMessage {
        @Override
        public long sizeBytes() {
            return FIXED_BYTES;
        }

        public boolean accepted() {
            return refusal == null;
        }
    }
}
