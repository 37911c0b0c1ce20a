package io.synod.storage.wal;

/**
 * One record read back from the WAL: its log-wide index (1-based, gap-free), the caller's type
 * byte, the payload and where it was found.
 */
public record WalRecord(long index, byte type, byte[] payload, WalPosition position) {}
