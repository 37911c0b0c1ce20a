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
 */
public record TransportLimits(int sendQueueDepthMax, int batchMessagesMax, int frameBytesMax, long sendTimeoutMillis,
        long retryBackoffMillis, int ioThreads) {
    public static final TransportLimits DEFAULTS = new TransportLimits(8192, 512, 32 << 20, 2000, 100, 2);

    public TransportLimits {
        if (sendQueueDepthMax < 1 || batchMessagesMax < 1 || frameBytesMax < 1024 || sendTimeoutMillis < 1 || retryBackoffMillis < 0
                || ioThreads < 0) {
            throw new IllegalArgumentException("TransportLimits out of range: " + sendQueueDepthMax + "/" + batchMessagesMax + "/"
                    + frameBytesMax + "/" + sendTimeoutMillis + "/" + retryBackoffMillis + "/" + ioThreads);
        }
    }
}
