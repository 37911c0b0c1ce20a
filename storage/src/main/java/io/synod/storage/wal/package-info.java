/**
 * The write-ahead log: {@link io.synod.storage.wal.Wal} (segmented, CRC32C-framed, group
 * commit, torn-tail recovery), its limits ({@link io.synod.storage.wal.WalOptions}) and the
 * read-only inspector ({@link io.synod.storage.wal.WalDump}). The on-disk format is described on
 * {@link io.synod.storage.wal.SegmentHeader} and {@link io.synod.storage.wal.RecordFormat}; the
 * recovery rule that separates a torn tail from corruption on {@link io.synod.storage.wal.Wal}.
 */
package io.synod.storage.wal;
