package io.synod.server.transport;

/**
 * Bounds of the peer transport.
 *
 * @param sendQueueDepthMax   messages queued for one peer; beyond it new messages to that peer are dropped
 *                            (Raft retransmits) and counted
 * @param batchMessagesMax    messages sent to one peer in one frame
 * @param frameBytesMax       largest frame sent or accepted (also the peer server's inbound message limit)
 * @param sendTimeoutMillis   deadline of one frame's delivery; a peer that misses it is reported unreachable
 * @param retryBackoffMillis  pause after a failed delivery before the next attempt to that peer
 * @param ioThreads           event-loop threads of the channels to peers, apart from the listeners' (0: share gRPC's)
 * @param socketPort          port of this member's socket listener ({@link RaftSocketListener}) on its peer URL's host,
 *                            on which other members send Raft frames without gRPC; 0: none, frames arrive on the peer URL.
 *                            Not a bound, but the transport's one setting that is not
 */
public record TransportLimits(int sendQueueDepthMax, int batchMessagesMax, int frameBytesMax, long sendTimeoutMillis,
        long retryBackoffMillis, int ioThreads, int socketPort) {
    public static final TransportLimits DEFAULTS = new TransportLimits(8192, 512, 32 << 20, 2000, 100, 2, 0);

    public TransportLimits {
        if (sendQueueDepthMax < 1 || batchMessagesMax < 1 || frameBytesMax < 1024 || sendTimeoutMillis < 1 || retryBackoffMillis < 0
                || ioThreads < 0 || socketPort < 0 || socketPort > 65535) {
            throw new IllegalArgumentException("TransportLimits out of range: " + sendQueueDepthMax + "/" + batchMessagesMax + "/"
                    + frameBytesMax + "/" + sendTimeoutMillis + "/" + retryBackoffMillis + "/" + ioThreads + "/" + socketPort);
        }
    }

    /** Without a socket listener. */
    public TransportLimits(int sendQueueDepthMax, int batchMessagesMax, int frameBytesMax, long sendTimeoutMillis, long retryBackoffMillis,
            int ioThreads) {
        this(sendQueueDepthMax, batchMessagesMax, frameBytesMax, sendTimeoutMillis, retryBackoffMillis, ioThreads, 0);
    }

    /** These limits with a socket listener on {@code port} (0: none). */
    public TransportLimits withSocketPort(int port) {
        return new TransportLimits(sendQueueDepthMax, batchMessagesMax, frameBytesMax, sendTimeoutMillis, retryBackoffMillis, ioThreads, port);
    }
}
