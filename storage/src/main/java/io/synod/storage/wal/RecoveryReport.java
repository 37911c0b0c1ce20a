package io.synod.storage.wal;

/**
 * What {@link Wal#open} found: how many segments and records, and whether it cut a torn tail
 * (a write interrupted by a crash, never acknowledged) off the last segment.
 *
 * @param firstIndex      index of the first record still held (records before it were released)
 * @param nextIndex       index the next appended record will get
 * @param tornTailOffset  byte offset in the last segment where a torn tail was cut, or -1
 * @param tornTailBytes   how many non-zero bytes were cleared there (0 when none)
 */
public record RecoveryReport(int segments, long firstIndex, long nextIndex, long tornTailOffset, long tornTailBytes) {
    public boolean truncatedTornTail() {
        return tornTailOffset >= 0;
    }
}
