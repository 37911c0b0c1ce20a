package io.synod.storage.wal;

/**
 * How the WAL makes a batch durable before completing its futures. Only the two forcing modes
 * keep the promise that an acknowledged write survives a power loss; the third exists for
 * tests and benchmarks that want to measure everything except the disk flush, and is named so
 * that nobody can select it by accident.
 */
public enum SyncMode {
    /** {@code FileChannel.force(false)} (fdatasync): file data plus the metadata needed to read it back. */
    FDATASYNC,
    /** {@code FileChannel.force(true)} (fsync): also flushes metadata such as modification time. */
    FSYNC,
    /** No flush at all: an acknowledged record can be lost when the machine (not only the process) crashes. */
    UNSAFE_NO_SYNC
}
