package io.synod.storage.wal;

/**
 * A record to be appended: a caller-chosen type (any byte except {@link RecordFormat#TYPE_NONE},
 * which marks the zero-filled end of the log) and the payload.
 */
public record WalWrite(byte type, byte[] payload) {
    public WalWrite {
        if (type == RecordFormat.TYPE_NONE) throw new IllegalArgumentException("record type 0 is reserved for the end-of-log marker");
        if (payload == null) throw new IllegalArgumentException("payload is required (use an empty array)");
    }
}
