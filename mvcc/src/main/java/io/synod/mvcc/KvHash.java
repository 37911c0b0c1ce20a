package io.synod.mvcc;

/**
 * The result of {@link MvccStore#hashKv(long)}: a CRC32C over the key-value history a client can
 * still read at or below {@code revision}, the revision it covers, and the compaction revision
 * in force when it was taken. Two members that applied the same log up to {@code revision} and
 * the same compactions report the same hash, whatever their physical compaction progress.
 *
 * @param hash            CRC32C of the retained revisions, see {@link MvccStore#hashKv(long)}
 * @param revision        the revision hashed (the current one when 0 was asked for)
 * @param compactRevision the compaction revision at the time of hashing (0 if never compacted)
 */
public record KvHash(int hash, long revision, long compactRevision) {}
