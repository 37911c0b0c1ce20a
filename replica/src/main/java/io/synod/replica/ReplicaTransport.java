package io.synod.replica;

import io.synod.consensus.Message;
import java.util.List;

/**
 * Sends the core's outgoing messages to peers. It must not block the driver's loop: an
 * implementation queues (boundedly) and drops on overflow; delivery failures are reported back
 * through {@link ReplicaDriver#reportUnreachable(long)}.
 */
public interface ReplicaTransport {
    void send(List<Message> messages);
}
