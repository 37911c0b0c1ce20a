package io.synod.storage.wal;

import java.util.List;

/**
 * What a synchronous batch append made durable: the index of its first record (the others
 * follow without gaps) and each record's position, in the order given.
 */
public record AppendResult(long firstIndex, List<WalPosition> positions) {
    public AppendResult {
        positions = List.copyOf(positions);
    }

    public long lastIndex() {
        return firstIndex + positions.size() - 1;
    }
}
