package io.synod.consensus;

import java.util.Arrays;

/**
 * A linearizable read is safe to serve once the local state machine has applied {@code index}:
 * the leader confirmed it was still leader after the read arrived, and {@code index} was its
 * commit index then (Raft §6.4, ReadIndex). {@code requestContext} is the caller's id for the read.
 */
public record ReadState(long index, byte[] requestContext) {
    @Override
    public boolean equals(Object o) {
        return o instanceof ReadState r && r.index == index && Arrays.equals(r.requestContext, requestContext);
    }

    @Override
    public int hashCode() {
        return Long.hashCode(index) * 31 + Arrays.hashCode(requestContext);
    }

    @Override
    public String toString() {
        return "ReadState[" + index + "]";
    }
}
