package io.synod.server.transport;

import io.synod.consensus.Message;

/**
 * Client requests forwarded between members inside the peer streams, next to the Raft messages
 * (and batched with them), instead of one gRPC call per request. A follower sends an encoded
 * write as a {@link Proposal}; the leader proposes it and sends back an {@link Answer} with the
 * index and term its entry got (or why it was refused) before the appends that carry the entry,
 * so the follower can wait for that entry and answer its client from its own apply, as etcd's
 * followers do with a proposal they forwarded. A lease keep-alive is a {@link Renewal}: only the
 * leader's clock can renew a lease, so the leader answers it with a {@link Renewed} carrying the
 * TTL (etcd's followers forward keep-alives to the leader too, one HTTP request each). These
 * messages are not for the consensus core: their term is 0 and {@link PeerService} hands them to
 * the forwarding handler, not to the driver.
 */
public sealed interface ForwardMessage extends Message {
    /** Rough bytes of a message's fixed fields, for batching. */
    long FIXED_BYTES = 48;

    @Override
    default long term() {
        return 0;
    }

    /** A message that asks for an answer, matched by the sender's own {@code requestId}. */
    sealed interface Request extends ForwardMessage {
        long requestId();
    }

    /** An encoded command that {@code from} asks the leader {@code to} to propose; {@code requestId} is from's own. */
    record Proposal(long from, long to, long requestId, byte[] command) implements Request {
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

    /** A keep-alive of lease {@code leaseId} that {@code from} received and asks the leader {@code to} to make. */
    record Renewal(long from, long to, long requestId, long leaseId) implements Request {
        @Override
        public long sizeBytes() {
            return FIXED_BYTES;
        }
    }

    /**
     * The leader's answer to a {@link Renewal}: the lease's TTL in seconds (0: no such lease) when
     * {@code refusal} is null, else why it did not renew (it does not lead: retry with {@code leaderHint}).
     */
    record Renewed(long from, long to, long requestId, long ttlSeconds, io.synod.consensus.ProposeResult.Reason refusal, long leaderHint)
            implements ForwardMessage {
        @Override
        public long sizeBytes() {
            return FIXED_BYTES;
        }
    }
}
