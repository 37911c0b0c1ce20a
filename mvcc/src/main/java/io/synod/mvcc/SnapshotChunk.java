package io.synod.mvcc;

/**
 * One bounded piece of a state-machine snapshot in transit. {@code seq} numbers chunks from 0 so
 * a receiver notices loss or reordering; {@code crc} is the CRC32C of {@code data} so corruption
 * is caught per chunk; the last chunk's stream also ends with a checksum of the whole snapshot.
 * {@code appliedIndex} is the log index the snapshot reflects, for the driver's bookkeeping.
 */
public record SnapshotChunk(long appliedIndex, int seq, byte[] data, int crc, boolean last) {}
