package io.synod.storage.wal;

/** A record's type and payload as read back by position (the index is the caller's to track). */
public record WalRecordData(byte type, byte[] payload) {}
