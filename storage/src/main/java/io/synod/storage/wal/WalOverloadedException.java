package io.synod.storage.wal;

/**
 * Thrown by {@link Wal#append} when {@link WalOptions#pendingRecordsMax()} appends are already
 * queued. Failing fast (instead of blocking) keeps the bound on memory explicit and lets the
 * caller decide whether to back off, shed load or wait.
 */
public final class WalOverloadedException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public WalOverloadedException(int pendingRecordsMax) {
        super("WAL append queue is full (" + pendingRecordsMax + " pending records); back off and retry");
    }
}
