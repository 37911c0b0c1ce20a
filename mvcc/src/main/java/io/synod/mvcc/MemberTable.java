package io.synod.mvcc;

import io.synod.common.Assert;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;
import org.rocksdb.WriteBatch;

/**
 * The cluster's members as the store keeps them, in column family {@code members}: row
 * {@code 'm' + id} holds a {@link Member}, row {@code 'r' + id} marks an id that was removed
 * (etcd never lets a removed id back in, and a removed member must be able to learn that it was
 * removed). Both live in RocksDB next to the key-value data, so a snapshot (a checkpoint of every
 * column family) carries them, and they change only in the same write batch as the applied index.
 * Not thread-safe: {@link MvccStore} guards it with its own lock.
 */
final class MemberTable {
    private static final byte MEMBER = 'm';
    private static final byte REMOVED = 'r';

    /** Members by id. */
    private final TreeMap<Long, Member> members = new TreeMap<>();
    /** Ids removed from the cluster; disjoint from the keys of {@link #members}. */
    private final TreeSet<Long> removed = new TreeSet<>();

    void load(RocksIterator it) throws RocksDBException {
        for (it.seekToFirst(); it.isValid(); it.next()) {
            byte[] k = it.key();
            Assert.that(k.length == 9, "members row key of %d bytes", k.length);
            long id = RecordCodec.bytesLong(java.util.Arrays.copyOfRange(k, 1, 9));
            if (k[0] == MEMBER) {
                Member m = Member.decode(it.value());
                Assert.that(m.id() == id, "member row %d holds member %d", id, m.id());
                members.put(id, m);
            } else {
                Assert.that(k[0] == REMOVED, "members row of unknown kind %d", k[0]);
                removed.add(id);
            }
        }
        it.status();
        for (long id : removed) Assert.that(!members.containsKey(id), "member %d is both present and removed", id);
    }

    /** Stages upserts and removals into {@code batch}; call {@link #commit} once the batch is written. */
    void stage(WriteBatch batch, ColumnFamilyHandle cf, Collection<Member> upserts, Collection<Long> removals) throws RocksDBException {
        for (Member m : upserts) {
            Assert.that(!removed.contains(m.id()), "member %d was removed and cannot come back", m.id());
            batch.put(cf, key(MEMBER, m.id()), m.encode());
        }
        for (long id : removals) {
            batch.delete(cf, key(MEMBER, id));
            batch.put(cf, key(REMOVED, id), new byte[0]);
        }
    }

    void commit(Collection<Member> upserts, Collection<Long> removals) {
        for (Member m : upserts) members.put(m.id(), m);
        for (long id : removals) {
            members.remove(id);
            removed.add(id);
        }
    }

    /** Stages the removal of every row (members and removed ids alike), for a store restored into a new cluster. */
    void stageClear(WriteBatch batch, ColumnFamilyHandle cf) throws RocksDBException {
        for (long id : members.keySet()) batch.delete(cf, key(MEMBER, id));
        for (long id : removed) batch.delete(cf, key(REMOVED, id));
    }

    void commitClear() {
        members.clear();
        removed.clear();
    }

    List<Member> members() {
        return List.copyOf(members.values());
    }

    Optional<Member> member(long id) {
        return Optional.ofNullable(members.get(id));
    }

    Set<Long> removed() {
        return Set.copyOf(removed);
    }

    private static byte[] key(byte kind, long id) {
        byte[] k = new byte[9];
        k[0] = kind;
        System.arraycopy(RecordCodec.longBytes(id), 0, k, 1, 8);
        return k;
    }
}
