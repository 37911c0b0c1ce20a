package io.synod.server;

import io.synod.replica.ReplicaLimits;
import io.synod.server.transport.TransportLimits;
import java.util.List;
import java.util.Map;

/**
 * The bounds of a member's engine room, settable by flags: the Raft loop's queues and apply
 * batches ({@link ReplicaLimits}) and the peer transport's queues, frames and threads
 * ({@link TransportLimits}). They were constants; an operator who sees peer messages dropped at
 * a full send queue, or a member with more cores than this project's 2-core test machine, can now
 * change them without a rebuild. Each flag is checked on its own, so a refusal names the flag.
 *
 * @param replica   the Raft loop's limits
 * @param transport the peer transport's limits
 */
public record EngineLimits(ReplicaLimits replica, TransportLimits transport) {
    public static final EngineLimits DEFAULTS = new EngineLimits(ReplicaLimits.DEFAULTS, TransportLimits.DEFAULTS);

    /** Room a peer frame keeps beyond one append and the largest request, for framing and the other messages. */
    static final int FRAME_SLACK_BYTES = 64 << 10;

    /** The flags that set these limits, for {@link ServerConfig#fromArgs}. */
    static final List<String> FLAGS = List.of("synod-raft-inbox-depth-max", "synod-raft-drain-batch-max", "synod-raft-pending-proposals-max",
            "synod-raft-pending-reads-max", "synod-raft-idle-poll-ms", "synod-apply-batch-max", "synod-apply-batch-bytes-max",
            "synod-peer-send-queue-depth-max", "synod-peer-batch-messages-max", "synod-peer-frame-bytes-max", "synod-peer-send-timeout-ms",
            "synod-peer-retry-backoff-ms", "synod-peer-io-threads", "synod-peer-socket-port");

    public EngineLimits {
        java.util.Objects.requireNonNull(replica, "replica");
        java.util.Objects.requireNonNull(transport, "transport");
    }

    /**
     * The limits the flags in {@code flags} ask for, the others at their defaults. A peer frame must
     * hold one append message ({@code appendBytesMax}) and the largest request a client may send
     * ({@code requestBytesMax}), or a member could not send a write it accepted.
     */
    static EngineLimits fromFlags(Map<String, String> flags, long appendBytesMax, long requestBytesMax) {
        ReplicaLimits r = ReplicaLimits.DEFAULTS;
        TransportLimits t = TransportLimits.DEFAULTS;
        var replica = new ReplicaLimits(
                positiveInt(flags, "synod-raft-inbox-depth-max", r.inboxDepthMax()),
                positiveInt(flags, "synod-raft-drain-batch-max", r.drainBatchMax()),
                positiveInt(flags, "synod-raft-pending-proposals-max", r.pendingProposalsMax()),
                positiveInt(flags, "synod-raft-pending-reads-max", r.pendingReadsMax()),
                positiveLong(flags, "synod-raft-idle-poll-ms", r.idlePollMillis()),
                positiveInt(flags, "synod-apply-batch-max", r.applyBatchMax()),
                positiveLong(flags, "synod-apply-batch-bytes-max", r.applyBatchBytesMax()));
        int frame = positiveInt(flags, "synod-peer-frame-bytes-max", t.frameBytesMax());
        long needed = appendBytesMax + requestBytesMax + FRAME_SLACK_BYTES;
        if (frame < needed) {
            throw new IllegalArgumentException("--synod-peer-frame-bytes-max must hold one append (" + appendBytesMax + " bytes) and the largest request ("
                    + requestBytesMax + " bytes, --max-request-bytes) plus " + FRAME_SLACK_BYTES + ": at least " + needed + ", got " + frame);
        }
        long backoff = parseLong(flags, "synod-peer-retry-backoff-ms", t.retryBackoffMillis());
        require(backoff >= 0, "--synod-peer-retry-backoff-ms must not be negative, got " + backoff);
        long threads = parseLong(flags, "synod-peer-io-threads", t.ioThreads());
        require(threads >= 0 && threads <= 1024, "--synod-peer-io-threads must be in [0, 1024] (0: share gRPC's event loops), got " + threads);
        var transport = new TransportLimits(
                positiveInt(flags, "synod-peer-send-queue-depth-max", t.sendQueueDepthMax()),
                positiveInt(flags, "synod-peer-batch-messages-max", t.batchMessagesMax()),
                frame,
                positiveLong(flags, "synod-peer-send-timeout-ms", t.sendTimeoutMillis()),
                backoff,
                (int) threads,
                socketPort(flags));
        return new EngineLimits(replica, transport);
    }

    private static int socketPort(Map<String, String> flags) {
        long port = parseLong(flags, "synod-peer-socket-port", 0);
        require(port >= 0 && port <= 65535, "--synod-peer-socket-port must be in [0, 65535] (0: no socket listener), got " + port);
        return (int) port;
    }

    private static long parseLong(Map<String, String> flags, String flag, long fallback) {
        String v = flags.get(flag);
        if (v == null) return fallback;
        try {
            return Long.parseLong(v.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--" + flag + " must be a whole number, got '" + v + "'");
        }
    }

    private static long positiveLong(Map<String, String> flags, String flag, long fallback) {
        long v = parseLong(flags, flag, fallback);
        require(v >= 1, "--" + flag + " must be positive, got " + v);
        return v;
    }

    private static int positiveInt(Map<String, String> flags, String flag, int fallback) {
        long v = positiveLong(flags, flag, fallback);
        require(v <= Integer.MAX_VALUE, "--" + flag + " must be at most " + Integer.MAX_VALUE + ", got " + v);
        return (int) v;
    }

    private static void require(boolean ok, String message) {
        if (!ok) throw new IllegalArgumentException(message);
    }
}
