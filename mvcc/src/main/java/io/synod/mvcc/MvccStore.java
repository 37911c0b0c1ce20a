package io.synod.mvcc;

import io.synod.common.Assert;
import io.synod.mvcc.auth.AuthCodec;
import io.synod.mvcc.auth.AuthState;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.zip.CRC32C;
import org.rocksdb.Checkpoint;
import org.rocksdb.ColumnFamilyDescriptor;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.ColumnFamilyOptions;
import org.rocksdb.CompactRangeOptions;
import org.rocksdb.DBOptions;
import org.rocksdb.FlushOptions;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.ReadOptions;
import org.rocksdb.RocksIterator;
import org.rocksdb.WriteBatch;
import org.rocksdb.WriteOptions;

/**
 * The etcd-v3 multi-version key-value state machine, stored in RocksDB. It applies committed
 * commands in log order ({@link #apply}), serves reads at any retained revision ({@link #range}),
 * compacts history incrementally, and publishes every change for watches ({@link #changesSince},
 * {@link ChangeListener}). It knows nothing about consensus: the revision counter is its own and
 * is not derived from the log index, so another source of revisions could replace it.
 *
 * <p>Layout. Column family {@code rev}: row key = revision (main, sub) as 16 big-endian bytes,
 * row value = one version of one key (see {@link RecordCodec}), tombstones included. Column
 * family {@code meta}: {@code applied} (last applied log index), {@code revision} (current main
 * revision), {@code compact} (logical compaction revision) and, while physical compaction runs,
 * {@code compact.scheduled} (target revision + the key to resume from). The key index
 * ({@link KeyIndex}) is rebuilt in memory on open by one scan of {@code rev}. The current
 * revision is stored explicitly rather than derived from the newest row, so removing the newest
 * rows (tombstones at the compaction revision) can never make it go backwards after a restart.
 *
 * <p>Atomicity and durability. Everything one command changes, together with its log index and
 * the new revision, is one {@link WriteBatch}, so a command is on disk entirely or not at all.
 * RocksDB's own WAL is off by default: the Raft log already holds every command, and the
 * database uses {@code atomic_flush} so that memtables of both column families reach disk
 * together; after a crash the store is therefore always exactly the state after some applied
 * index, which {@link #appliedIndex()} reports, and the driver replays the log from there. The
 * consequence for the driver: it may only discard log entries up to the index returned by
 * {@link #flush()}, never up to {@link #appliedIndex()}. {@link MvccOptions#rocksWal()} turns an
 * unsynced RocksDB WAL on for setups that truncate the log more eagerly; the replay rule is then
 * still needed after a machine crash.
 *
 * <p>Failure. Requests that etcd refuses come back as {@link Result.Rejected}, having checked
 * everything before the first change, so nothing partial is ever visible. A RocksDB write error
 * leaves memory ahead of disk, so the store then refuses all further use and must be reopened.
 *
 * <p>Known differences from etcd, all deliberate: catch-up from exactly the compaction revision
 * is refused (see {@link #changesSince}); a NONE sort order with a non-key target sorts the
 * whole range before the limit (see the range code); compacting at revision 0 or below is
 * refused as already compacted.
 *
 * <p>Leases. Column family {@code lease}: row key = lease id (8 bytes), value = granted TTL,
 * remaining milliseconds at the last grant/renewal/checkpoint, and epoch (see
 * {@link LeaseCommand}). Which keys are attached to which lease is not stored: it follows from
 * each key's latest live version, so it is rebuilt from the key index on open. The store only
 * applies lease commands; deciding when a lease has run out is the leader's job, outside.
 *
 * <p>Threads. One thread applies; any threads may read. A read-write lock keeps reads off the
 * index while it changes; compaction steps are bounded so they hold the lock only briefly.
 */
public final class MvccStore implements AutoCloseable {
    static {
        RocksDB.loadLibrary();
    }

    private static final byte[] CF_REV = "rev".getBytes(StandardCharsets.UTF_8);
    private static final byte[] CF_META = "meta".getBytes(StandardCharsets.UTF_8);
    private static final byte[] CF_LEASE = "lease".getBytes(StandardCharsets.UTF_8);
    private static final byte[] CF_MEMBERS = "members".getBytes(StandardCharsets.UTF_8);
    /** The auth store: one record, {@link #AUTH_STATE}, holding the whole {@link AuthState} (users and roles are few and small). */
    private static final byte[] CF_AUTH = "auth".getBytes(StandardCharsets.UTF_8);
    private static final byte[] AUTH_STATE = "state".getBytes(StandardCharsets.UTF_8);
    private static final byte[] META_APPLIED = "applied".getBytes(StandardCharsets.UTF_8);
    private static final byte[] META_REVISION = "revision".getBytes(StandardCharsets.UTF_8);
    private static final byte[] META_COMPACT = "compact".getBytes(StandardCharsets.UTF_8);
    private static final byte[] META_SCHEDULED = "compact.scheduled".getBytes(StandardCharsets.UTF_8);
    private static final byte[] META_ALARMS = "alarms".getBytes(StandardCharsets.UTF_8);

    /** etcd starts an empty store at revision 1, so the first write gets revision 2. */
    public static final long INITIAL_REVISION = 1;

    /** A physical compaction in progress: removing history at or below {@code target}, resuming at {@code cursor}. */
    private record Scheduled(long target, Bytes cursor) {
        byte[] encode() {
            byte[] c = cursor.unsafeArray();
            return ByteBuffer.allocate(8 + c.length).putLong(target).put(c).array();
        }

        static Scheduled decode(byte[] b) {
            return new Scheduled(ByteBuffer.wrap(b).getLong(), Bytes.copyOf(b, 8, b.length - 8));
        }
    }

    private final Path dir;
    private final MvccOptions options;
    private final DBOptions dbOptions;
    private final ColumnFamilyOptions cfOptions;
    private final WriteOptions writeOptions;
    private final List<ColumnFamilyHandle> handles;
    private final RocksDB db;
    private final ColumnFamilyHandle revCf;
    private final ColumnFamilyHandle metaCf;
    private final ColumnFamilyHandle leaseCf;
    private final ColumnFamilyHandle membersCf;
    private final ColumnFamilyHandle authCf;

    private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
    private final KeyIndex index = new KeyIndex();
    private final CopyOnWriteArrayList<ChangeListener> listeners = new CopyOnWriteArrayList<>();
    private final CopyOnWriteArrayList<LeaseListener> leaseListeners = new CopyOnWriteArrayList<>();
    /** Live leases by id; mirrors column family {@code lease}. */
    private final java.util.TreeMap<Long, Lease> leases = new java.util.TreeMap<>();
    /** Keys whose latest live version is attached to each lease; rebuilt from the index on open. */
    private final Map<Long, java.util.TreeSet<Bytes>> leaseKeys = new HashMap<>();
    /** Cluster members (column family {@code members}), see {@link #applyMembers}. */
    private final MemberTable memberTable = new MemberTable();

    private long appliedIndex;
    private long currentRevision;
    private long compactRevision;
    private Optional<Scheduled> scheduled;
    /** Raised alarms, oldest first; mirrors meta key {@code alarms}. */
    private List<AlarmCommand.Raised> alarms = List.of();
    /** Users, roles and the enabled flag; mirrors the {@code auth} column family. */
    private AuthState auth = AuthState.EMPTY;
    private boolean closed;
    private Optional<Throwable> failure = Optional.empty();

    /** Serializes defragmentation, so {@link #close()} can wait for a running one by taking it. */
    private final Object maintenanceLock = new Object();
    /** Guards the cancellation state below; never held while RocksDB works. */
    private final Object cancelLock = new Object();
    // Guarded by cancelLock: the options of the running defragmentation (its native handle is
    // open exactly while it is here, so cancelling through it is safe), and whether close() asked
    // for cancellation.
    private Optional<CompactRangeOptions> defragmenting = Optional.empty();
    private boolean defragmentCancelled;

    private MvccStore(Path dir, MvccOptions options) throws RocksDBException {
        this.dir = dir;
        this.options = options;
        this.cfOptions = new ColumnFamilyOptions().setWriteBufferSize(options.writeBufferBytes());
        this.dbOptions = new DBOptions().setCreateIfMissing(true).setCreateMissingColumnFamilies(true)
                .setAtomicFlush(true);
        this.writeOptions = new WriteOptions().setDisableWAL(!options.rocksWal()).setSync(false);
        List<ColumnFamilyDescriptor> descriptors = List.of(
                new ColumnFamilyDescriptor(RocksDB.DEFAULT_COLUMN_FAMILY, cfOptions),
                new ColumnFamilyDescriptor(CF_REV, cfOptions),
                new ColumnFamilyDescriptor(CF_META, cfOptions),
                new ColumnFamilyDescriptor(CF_LEASE, cfOptions),
                new ColumnFamilyDescriptor(CF_MEMBERS, cfOptions),
                new ColumnFamilyDescriptor(CF_AUTH, cfOptions));
        this.handles = new ArrayList<>();
        RocksDB opened;
        try {
            opened = RocksDB.open(dbOptions, dir.toString(), descriptors, handles);
        } catch (RocksDBException e) {
            for (ColumnFamilyHandle h : handles) h.close();
            writeOptions.close();
            dbOptions.close();
            cfOptions.close();
            throw e;
        }
        this.db = opened;
        this.revCf = handles.get(1);
        this.metaCf = handles.get(2);
        this.leaseCf = handles.get(3);
        this.membersCf = handles.get(4);
        this.authCf = handles.get(5);
    }

    /** Opens (creating if needed) the store in {@code dir} and rebuilds the key index from it. */
    public static MvccStore open(Path dir, MvccOptions options) throws IOException {
        Files.createDirectories(dir);
        deleteStaleSnapshots(dir);
        MvccStore s;
        try {
            s = new MvccStore(dir, options);
        } catch (RocksDBException e) {
            throw new IOException("cannot open mvcc store at " + dir, e);
        }
        try {
            s.load();
        } catch (RocksDBException | RuntimeException e) {
            s.close();
            throw new IOException("cannot load mvcc store at " + dir, e);
        }
        return s;
    }

    /**
     * Snapshot checkpoints live beside the store and are deleted when their stream is closed; one
     * left by a process that died mid-stream is garbage (nothing can resume it), so it goes now.
     */
    static int deleteStaleSnapshots(Path dir) throws IOException {
        Path parent = dir.toAbsolutePath().getParent();
        String prefix = dir.getFileName() + ".snapshot-";
        int deleted = 0;
        try (var siblings = Files.list(parent)) {
            for (Path p : siblings.filter(p -> p.getFileName().toString().startsWith(prefix) && Files.isDirectory(p)).toList()) {
                try (var tree = Files.walk(p)) {
                    for (Path f : tree.sorted(java.util.Comparator.reverseOrder()).toList()) Files.delete(f);
                }
                deleted++;
            }
        }
        return deleted;
    }

    /** Read-ahead of the key index rebuild's scan at open. */
    static final long LOAD_READAHEAD_BYTES = 4L << 20;

    private void load() throws RocksDBException {
        appliedIndex = readMeta(META_APPLIED, 0);
        currentRevision = readMeta(META_REVISION, INITIAL_REVISION);
        compactRevision = readMeta(META_COMPACT, 0);
        alarms = decodeAlarms(db.get(metaCf, META_ALARMS));
        byte[] authRecord = db.get(authCf, AUTH_STATE);
        auth = authRecord == null ? AuthState.EMPTY : AuthCodec.decodeState(authRecord);
        byte[] sch = db.get(metaCf, META_SCHEDULED);
        scheduled = sch == null ? Optional.empty() : Optional.of(Scheduled.decode(sch));
        // One sequential pass over every retained version (a restart's biggest cost with many keys): read ahead, and
        // keep the pass's blocks out of the block cache, which the requests that follow need more.
        try (ReadOptions scan = new ReadOptions().setFillCache(false).setReadaheadSize(LOAD_READAHEAD_BYTES);
                RocksIterator it = db.newIterator(revCf, scan)) {
            for (it.seekToFirst(); it.isValid(); it.next()) {
                RecordCodec.Indexed row = RecordCodec.decodeIndexed(it.key(), it.value());
                Assert.that(row.entry().main() <= currentRevision,
                        "row at revision %d beyond stored current revision %d", row.entry().main(), currentRevision);
                index.append(row.key(), row.entry());
            }
            it.status();
        }
        try (RocksIterator it = db.newIterator(leaseCf)) {
            for (it.seekToFirst(); it.isValid(); it.next()) {
                Lease l = decodeLease(it.key(), it.value());
                leases.put(l.id(), l);
            }
            it.status();
        }
        try (RocksIterator it = db.newIterator(membersCf)) {
            memberTable.load(it);
        }
        for (Map.Entry<Bytes, KeyIndex.History> e : index.tailFrom(Bytes.EMPTY).entrySet()) {
            e.getValue().latestLive().filter(live -> live.lease() != 0).ifPresent(live -> attach(live.lease(), e.getKey()));
        }
    }

    private static byte[] encodeAlarms(List<AlarmCommand.Raised> list) {
        ByteBuffer b = ByteBuffer.allocate(4 + 12 * list.size()).putInt(list.size());
        for (AlarmCommand.Raised r : list) b.putLong(r.memberId()).putInt(r.type());
        return b.array();
    }

    private static List<AlarmCommand.Raised> decodeAlarms(byte[] v) {
        if (v == null) return List.of();
        ByteBuffer b = ByteBuffer.wrap(v);
        int n = b.getInt();
        Assert.that(n >= 0 && v.length == 4 + 12 * n, "alarms record of %d bytes claims %d alarms", v.length, n);
        List<AlarmCommand.Raised> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) out.add(new AlarmCommand.Raised(b.getLong(), b.getInt()));
        return List.copyOf(out);
    }

    /** The alarms raised in the cluster, oldest first (replicated: every member reports the same). */
    public List<AlarmCommand.Raised> alarms() {
        lock.readLock().lock();
        try {
            return alarms;
        } finally {
            lock.readLock().unlock();
        }
    }

    /** The replicated auth state as of the applied index. */
    public AuthState auth() {
        lock.readLock().lock();
        try {
            return auth;
        } finally {
            lock.readLock().unlock();
        }
    }

    private boolean corrupt() {
        for (AlarmCommand.Raised r : alarms) if (r.type() == AlarmCommand.CORRUPT) return true;
        return false;
    }

    private boolean noSpace() {
        for (AlarmCommand.Raised r : alarms) if (r.type() == AlarmCommand.NOSPACE) return true;
        return false;
    }

    /** Whether a txn would write a put on the path it takes (nested txns included). */
    private static boolean txnPuts(TxnRequest t, java.util.Iterator<Boolean> path) {
        boolean puts = false;
        boolean ok = path.next();
        for (RequestOp op : ok ? t.success() : t.failure()) {
            if (op instanceof PutRequest) puts = true;
            if (op instanceof TxnRequest nested && txnPuts(nested, path)) puts = true;
        }
        return puts;
    }

    private static byte[] leaseKey(long id) {
        return RecordCodec.longBytes(id);
    }

    private static byte[] encodeLease(Lease l) {
        return ByteBuffer.allocate(25).putLong(l.ttlSeconds()).putLong(l.remainingMillis()).putLong(l.epoch())
                .put((byte) (l.revoking() ? 1 : 0)).array();
    }

    private static Lease decodeLease(byte[] key, byte[] value) {
        Assert.that(key.length == 8 && value.length == 25, "lease row has key of %d and value of %d bytes", key.length, value.length);
        ByteBuffer v = ByteBuffer.wrap(value);
        return new Lease(RecordCodec.bytesLong(key), v.getLong(), v.getLong(), v.getLong(), v.get() != 0);
    }

    private void attach(long lease, Bytes key) {
        leaseKeys.computeIfAbsent(lease, k -> new java.util.TreeSet<>()).add(key);
    }

    private void detach(long lease, Bytes key) {
        var keys = leaseKeys.get(lease);
        if (keys == null) return;
        keys.remove(key);
        if (keys.isEmpty()) leaseKeys.remove(lease);
    }

    private long readMeta(byte[] key, long absent) throws RocksDBException {
        byte[] v = db.get(metaCf, key);
        return v == null ? absent : RecordCodec.bytesLong(v);
    }

    public MvccOptions options() {
        return options;
    }

    public Path directory() {
        return dir;
    }

    /** The last log index applied (0 for a new store); the driver resumes after it. */
    public long appliedIndex() {
        lock.readLock().lock();
        try {
            return appliedIndex;
        } finally {
            lock.readLock().unlock();
        }
    }

    public long currentRevision() {
        lock.readLock().lock();
        try {
            return currentRevision;
        } finally {
            lock.readLock().unlock();
        }
    }

    /** Reads below this revision fail with {@link MvccError#COMPACTED}; 0 if never compacted. */
    public long compactRevision() {
        lock.readLock().lock();
        try {
            return compactRevision;
        } finally {
            lock.readLock().unlock();
        }
    }

    public void addListener(ChangeListener l) {
        listeners.add(l);
    }

    public void removeListener(ChangeListener l) {
        listeners.remove(l);
    }

    public void addLeaseListener(LeaseListener l) {
        leaseListeners.add(l);
    }

    public void removeLeaseListener(LeaseListener l) {
        leaseListeners.remove(l);
    }

    /** A change to a lease made by the command being applied, announced once the write has landed. */
    private record LeaseChange(LeaseListener.Change change, long id, Optional<Lease> lease) {}

    /** The lease as last replicated, if it exists (check {@link Lease#live()}: it may be half-way through a revoke). */
    public Optional<Lease> lease(long id) {
        lock.readLock().lock();
        try {
            checkUsable();
            return Optional.ofNullable(leases.get(id));
        } finally {
            lock.readLock().unlock();
        }
    }

    /** Every live lease (not being revoked), by id. */
    public List<Lease> leases() {
        return leases(true);
    }

    /** How many leases the store holds, live or half-way through a revoke (each one until its last key is gone). */
    public int leaseCount() {
        lock.readLock().lock();
        try {
            checkUsable();
            return leases.size();
        } finally {
            lock.readLock().unlock();
        }
    }

    /** Leases whose revoke has begun but still have keys to delete, by id. */
    public List<Lease> revokingLeases() {
        return leases(false);
    }

    private List<Lease> leases(boolean live) {
        lock.readLock().lock();
        try {
            checkUsable();
            return leases.values().stream().filter(l -> l.live() == live).toList();
        } finally {
            lock.readLock().unlock();
        }
    }

    /** The keys currently attached to lease {@code id}, in key order. */
    public List<Bytes> leaseKeys(long id) {
        lock.readLock().lock();
        try {
            checkUsable();
            var keys = leaseKeys.get(id);
            return keys == null ? List.of() : List.copyOf(keys);
        } finally {
            lock.readLock().unlock();
        }
    }

    // ---------------------------------------------------------------- apply

    /**
     * Applies the command committed at log index {@code index}. Indices must increase (gaps are
     * fine: not every log entry is a command); an index at or below {@link #appliedIndex()} is a
     * replay and is ignored.
     */
    public Result apply(long index, Command command) {
        return apply(new long[] {index}, List.of(command)).get(0);
    }

    /**
     * Applies the commands committed at {@code indexes} (ascending), in order, as one write to the
     * store: each command sees the effects of those before it exactly as if they had been applied
     * one at a time (values not yet written are read from the batch), readers see none of them
     * until all are in, and the applied index moves to the last one with them. Listeners hear each
     * command's changes afterwards, in order. One write per batch instead of one per command: a
     * profile of a member under lease keep-alives had 7% of its CPU in the per-command writes.
     */
    public List<Result> apply(long[] indexes, List<Command> commands) {
        Assert.that(indexes.length == commands.size(), "apply: %d indexes for %d commands", indexes.length, commands.size());
        List<Result> results = new ArrayList<>(commands.size());
        List<Applied> applied = new ArrayList<>(commands.size());
        boolean compacting; // whether a compaction is under way after this batch: only then is the lock taken again below
        lock.writeLock().lock();
        try {
            checkUsable();
            try (WriteBatch batch = new WriteBatch()) {
                long last = appliedIndex;
                long revisionBefore = currentRevision;
                Map<Revision, Bytes> unwritten = new HashMap<>();
                for (int i = 0; i < indexes.length; i++) {
                    long index = indexes[i];
                    if (index <= last) {
                        results.add(new Result.AlreadyApplied(last));
                        continue;
                    }
                    Writer w = new Writer(batch, unwritten);
                    results.add(execute(index, commands.get(i), w, batch));
                    last = index;
                    // Memory ahead of the write, as for the index: readers are locked out until the batch is in.
                    if (w.changed()) currentRevision = w.main;
                    if (!w.events.isEmpty() || !w.leaseChanges.isEmpty()) applied.add(new Applied(w.main, List.copyOf(w.events), w.leaseChanges));
                }
                if (last == appliedIndex) return results; // only replays
                batch.put(metaCf, META_APPLIED, RecordCodec.longBytes(last));
                if (currentRevision != revisionBefore) batch.put(metaCf, META_REVISION, RecordCodec.longBytes(currentRevision));
                write(batch);
                appliedIndex = last;
                compacting = scheduled.isPresent();
            } catch (RocksDBException e) {
                throw fail(e);
            } catch (RuntimeException e) {
                // An invariant broke after the index may have changed: memory can no longer be trusted.
                failure = Optional.of(e);
                throw e;
            }
        } finally {
            lock.writeLock().unlock();
        }
        for (Applied a : applied) {
            if (!a.events().isEmpty()) {
                for (ChangeListener l : listeners) l.onChanges(a.revision(), a.events());
            }
            for (LeaseChange c : a.leaseChanges()) {
                for (LeaseListener l : leaseListeners) l.onLease(c.change(), c.id(), c.lease());
            }
        }
        // Compaction's share of the work, after the listeners: they may still read versions this batch replaced
        // (a late watcher's previous values), and one step per lock hold lets readers in between.
        long steps = compacting ? (long) options.compactionStepsPerApply() * commands.size() : 0;
        for (long i = 0; i < steps; i++) {
            lock.writeLock().lock();
            try {
                if (closed || failure.isPresent() || scheduled.isEmpty()) break;
                compactStep();
            } finally {
                lock.writeLock().unlock();
            }
        }
        return results;
    }

    /** True while a write holds the store (an apply batch, a compaction step, a flush): a read now would wait for it. */
    public boolean writing() {
        return lock.isWriteLocked();
    }

    /** What one command of an applied batch tells the listeners. */
    private record Applied(long revision, List<Event> events, List<LeaseChange> leaseChanges) {}

    /**
     * Applies a membership change committed at {@code index}: members added or changed
     * ({@code upserts}, replacing any record with the same id) and ids removed, in the same write
     * as the applied index. A replayed index (at or below {@link #appliedIndex()}) is ignored.
     * A removed id never comes back (etcd's rule).
     */
    public void applyMembers(long index, List<Member> upserts, List<Long> removals) {
        lock.writeLock().lock();
        try {
            checkUsable();
            if (index <= appliedIndex) return;
            try (WriteBatch batch = new WriteBatch()) {
                memberTable.stage(batch, membersCf, upserts, removals);
                batch.put(metaCf, META_APPLIED, RecordCodec.longBytes(index));
                write(batch);
                memberTable.commit(upserts, removals);
                appliedIndex = index;
            }
        } catch (RocksDBException e) {
            throw fail(e);
        } finally {
            lock.writeLock().unlock();
        }
    }

    /** Every current member, by id. */
    public List<Member> members() {
        lock.readLock().lock();
        try {
            return memberTable.members();
        } finally {
            lock.readLock().unlock();
        }
    }

    /** Ids removed from the cluster (they never come back). */
    public java.util.Set<Long> removedMembers() {
        lock.readLock().lock();
        try {
            return memberTable.removed();
        } finally {
            lock.readLock().unlock();
        }
    }

    /** Records that a log entry which carries no command (a no-op or configuration entry) was applied. */
    public void markApplied(long index) {
        lock.writeLock().lock();
        try {
            checkUsable();
            if (index <= appliedIndex) return;
            try (WriteBatch batch = new WriteBatch()) {
                batch.put(metaCf, META_APPLIED, RecordCodec.longBytes(index));
                write(batch);
                appliedIndex = index;
            }
        } catch (RocksDBException e) {
            throw fail(e);
        } finally {
            lock.writeLock().unlock();
        }
    }

    private void write(WriteBatch batch) {
        try {
            db.write(writeOptions, batch);
        } catch (RocksDBException e) {
            throw fail(e);
        }
    }

    private IllegalStateException fail(Throwable e) {
        failure = Optional.of(e);
        return new IllegalStateException("mvcc store write failed; reopen the store to continue", e);
    }

    private void checkUsable() {
        if (closed) throw new IllegalStateException("mvcc store is closed");
        failure.ifPresent(f -> {
            throw new IllegalStateException("mvcc store failed earlier; reopen it", f);
        });
    }

    private Result execute(long index, Command command, Writer w, WriteBatch batch) {
        // As etcd's corrupt applier: once members are known to disagree, no write is applied until an operator disarms.
        if (corrupt() && (command instanceof PutRequest || command instanceof DeleteRangeRequest || command instanceof TxnRequest
                || command instanceof CompactRequest || command instanceof LeaseCommand.Grant || command instanceof LeaseCommand.Revoke)) {
            return new Result.Rejected(MvccError.CORRUPT);
        }
        try {
            return switch (command) {
                case PutRequest p -> {
                    Optional<MvccError> err = Requests.checkPut(p);
                    if (err.isEmpty() && noSpace()) err = Optional.of(MvccError.NO_SPACE);
                    err = err.or(() -> checkPutState(p));
                    if (err.isPresent()) yield new Result.Rejected(err.get());
                    yield new Result.Applied(w.put(p), w.events);
                }
                case DeleteRangeRequest d -> {
                    if (d.key().isEmpty()) yield new Result.Rejected(MvccError.EMPTY_KEY);
                    yield new Result.Applied(w.delete(d), w.events);
                }
                case TxnRequest t -> {
                    Optional<MvccError> err = Requests.checkTxn(t, options);
                    if (err.isPresent()) yield new Result.Rejected(err.get());
                    List<Boolean> path = new ArrayList<>();
                    err = planTxn(t, path, w.pendingValues);
                    if (err.isPresent()) yield new Result.Rejected(err.get());
                    // As etcd's capped applier: a txn that would put is refused under NOSPACE, reads and deletes are not.
                    if (noSpace() && txnPuts(t, path.iterator())) yield new Result.Rejected(MvccError.NO_SPACE);
                    yield new Result.Applied(w.txn(t, path.iterator()), w.events);
                }
                case CompactRequest c -> {
                    if (c.revision() <= compactRevision) yield new Result.Rejected(MvccError.COMPACTED);
                    if (c.revision() > currentRevision) yield new Result.Rejected(MvccError.FUTURE_REVISION);
                    Scheduled s = new Scheduled(c.revision(), Bytes.EMPTY);
                    batch.put(metaCf, META_COMPACT, RecordCodec.longBytes(c.revision()));
                    batch.put(metaCf, META_SCHEDULED, s.encode());
                    // Memory is updated before the write lands; a failed write poisons the store anyway.
                    compactRevision = c.revision();
                    scheduled = Optional.of(s);
                    yield new Result.Applied(new CompactResponse(currentRevision), List.of());
                }
                case LeaseCommand l -> {
                    if (l instanceof LeaseCommand.Grant && noSpace()) yield new Result.Rejected(MvccError.NO_SPACE);
                    yield executeLease(index, l, w);
                }
                case AlarmCommand a -> {
                    var raised = new AlarmCommand.Raised(a.memberId(), a.type());
                    List<AlarmCommand.Raised> next = new ArrayList<>(alarms);
                    boolean changed = a.activate() ? !next.contains(raised) && next.add(raised) : next.remove(raised);
                    if (changed) {
                        batch.put(metaCf, META_ALARMS, encodeAlarms(next));
                        alarms = List.copyOf(next); // memory ahead of the write, as elsewhere: a failed write poisons the store
                    }
                    yield new Result.Applied(new AlarmResponse(currentRevision, alarms, changed), List.of());
                }
                case AuthCommand a -> {
                    AuthState.Outcome o = auth.apply(a.op());
                    if (o.error().isPresent()) yield new Result.Rejected(o.error().get());
                    if (o.state() != auth) {
                        batch.put(authCf, AUTH_STATE, AuthCodec.encode(o.state()));
                        auth = o.state(); // memory ahead of the write, as elsewhere: a failed write poisons the store
                    }
                    yield new Result.Applied(new AuthResponse(currentRevision, auth), List.of());
                }
            };
        } catch (RocksDBException e) {
            throw fail(e);
        }
    }

    private Optional<MvccError> checkPutState(PutRequest p) {
        if ((p.ignoreValue() || p.ignoreLease()) && latestLive(p.key()).isEmpty()) {
            return Optional.of(MvccError.KEY_NOT_FOUND);
        }
        if (!p.ignoreLease() && p.lease() != 0 && (!leases.containsKey(p.lease()) || !leases.get(p.lease()).live())) {
            return Optional.of(MvccError.LEASE_NOT_FOUND);
        }
        return Optional.empty();
    }

    private Result executeLease(long index, LeaseCommand command, Writer w) throws RocksDBException {
        return switch (command) {
            case LeaseCommand.Grant g -> {
                if (leases.containsKey(g.id())) yield new Result.Rejected(MvccError.LEASE_EXISTS);
                Lease l = new Lease(g.id(), g.ttlSeconds(), Math.multiplyExact(g.ttlSeconds(), 1000L), index);
                w.saveLease(l, LeaseListener.Change.GRANTED);
                yield new Result.Applied(new LeaseResponse(w.now(), g.id(), g.ttlSeconds(), true), List.of());
            }
            case LeaseCommand.Revoke r -> {
                if (!leases.containsKey(r.id())) yield new Result.Rejected(MvccError.LEASE_NOT_FOUND);
                long ttl = leases.get(r.id()).ttlSeconds();
                boolean complete = w.revoke(r.id());
                yield new Result.Applied(new LeaseResponse(w.now(), r.id(), ttl, true, complete), w.events);
            }
            case LeaseCommand.Renew r -> {
                Lease old = leases.get(r.id());
                if (old == null || !old.live()) yield new Result.Applied(new LeaseResponse(w.now(), r.id(), 0, false), List.of());
                w.saveLease(new Lease(old.id(), old.ttlSeconds(), old.ttlSeconds() * 1000L, index), LeaseListener.Change.RENEWED);
                yield new Result.Applied(new LeaseResponse(w.now(), r.id(), old.ttlSeconds(), true), List.of());
            }
            case LeaseCommand.Expire e -> {
                Lease l = leases.get(e.id());
                if (l == null || l.epoch() != e.epoch()) {
                    yield new Result.Applied(new LeaseResponse(w.now(), e.id(), 0, false), List.of());
                }
                boolean complete = w.revoke(e.id());
                yield new Result.Applied(new LeaseResponse(w.now(), e.id(), l.ttlSeconds(), true, complete), w.events);
            }
            case LeaseCommand.Checkpoint c -> {
                int applied = 0;
                for (LeaseCommand.Remaining r : c.leases()) {
                    Lease l = leases.get(r.id());
                    if (l == null || l.epoch() != r.epoch() || !l.live()) continue;
                    w.saveLease(new Lease(l.id(), l.ttlSeconds(), Math.min(r.remainingMillis(), l.ttlSeconds() * 1000L), l.epoch()),
                            LeaseListener.Change.CHECKPOINTED);
                    applied++;
                }
                yield new Result.Applied(new LeaseResponse(w.now(), 0, 0, applied > 0), List.of());
            }
        };
    }

    private Optional<KeyIndex.Entry> latestLive(Bytes key) {
        return index.history(key).flatMap(KeyIndex.History::latestLive);
    }

    /**
     * Decides every branch the txn will take, against the state before it (as etcd does, nested
     * compares do not see the txn's own writes), and checks the ops on that path against the same
     * state, so that execution afterwards cannot fail half-way.
     */
    private Optional<MvccError> planTxn(TxnRequest t, List<Boolean> path, Map<Revision, Bytes> pending) throws RocksDBException {
        boolean ok = true;
        for (Compare c : t.compares()) {
            if (!evaluate(c, pending)) {
                ok = false;
                break;
            }
        }
        path.add(ok);
        for (RequestOp op : ok ? t.success() : t.failure()) {
            Optional<MvccError> err = switch (op) {
                case RangeRequest r -> {
                    if (r.revision() > currentRevision) yield Optional.of(MvccError.FUTURE_REVISION);
                    if (r.revision() > 0 && r.revision() < compactRevision) yield Optional.of(MvccError.COMPACTED);
                    yield Optional.empty();
                }
                case PutRequest p -> checkPutState(p);
                case DeleteRangeRequest d -> Optional.<MvccError>empty();
                case TxnRequest nested -> planTxn(nested, path, pending);
            };
            if (err.isPresent()) return err;
        }
        return Optional.empty();
    }

    private boolean evaluate(Compare c, Map<Revision, Bytes> pending) throws RocksDBException {
        NavigableMap<Bytes, KeyIndex.History> slice = index.slice(c.key(), c.rangeEnd());
        boolean any = false;
        for (Map.Entry<Bytes, KeyIndex.History> e : slice.entrySet()) {
            Optional<KeyIndex.Entry> live = e.getValue().latestLive();
            if (live.isEmpty()) continue;
            any = true;
            int cmp = switch (c.target()) {
                case Compare.Version v -> Long.compare(live.get().version(), v.version());
                case Compare.Create cr -> Long.compare(live.get().create(), cr.revision());
                case Compare.Mod m -> Long.compare(live.get().main(), m.revision());
                case Compare.Lease l -> Long.compare(live.get().lease(), l.lease());
                case Compare.Value v -> readValue(live.get(), pending).compareTo(v.value());
            };
            if (!holds(c.op(), cmp)) return false;
        }
        if (any) return true;
        if (c.target() instanceof Compare.Value) return false;
        long operand = switch (c.target()) {
            case Compare.Version v -> v.version();
            case Compare.Create cr -> cr.revision();
            case Compare.Mod m -> m.revision();
            case Compare.Lease l -> l.lease();
            case Compare.Value v -> throw Assert.unreachable("value compare on missing key");
        };
        return holds(c.op(), Long.compare(0, operand));
    }

    private static boolean holds(Compare.Op op, int cmp) {
        return switch (op) {
            case EQUAL -> cmp == 0;
            case NOT_EQUAL -> cmp != 0;
            case GREATER -> cmp > 0;
            case LESS -> cmp < 0;
        };
    }

    /**
     * Carries out the writes of one command: every change gets the next sub revision of main
     * revision current+1, goes into the batch and into the index at once (so later ops of a txn
     * see it), and its value is remembered until the batch is written.
     */
    private final class Writer {
        final WriteBatch batch;
        final long begin = currentRevision;
        final long main = currentRevision + 1;
        int nextSub;
        /** Values written by this batch, not yet in the store: later commands of the batch read them from here. */
        final Map<Revision, Bytes> pendingValues;
        final List<Event> events = new ArrayList<>();
        final List<LeaseChange> leaseChanges = new ArrayList<>();

        Writer(WriteBatch batch, Map<Revision, Bytes> pendingValues) {
            this.batch = batch;
            this.pendingValues = pendingValues;
        }

        boolean changed() {
            return nextSub > 0;
        }

        /** The revision a read issued now inside this command would see as current. */
        long now() {
            return changed() ? main : begin;
        }

        void saveLease(Lease l, LeaseListener.Change change) throws RocksDBException {
            batch.put(leaseCf, leaseKey(l.id()), encodeLease(l));
            leases.put(l.id(), l);
            leaseChanges.add(new LeaseChange(change, l.id(), Optional.of(l)));
        }

        /**
         * Deletes the lease's keys, in key order and all at this command's revision, up to the
         * per-command limit; then the lease itself if none are left (true), else marks it revoking (false).
         */
        boolean revoke(long id) throws RocksDBException {
            var keys = leaseKeys.get(id);
            List<Bytes> batchKeys = keys == null ? List.of() : keys.stream().limit(options.leaseRevokeKeysMax()).toList();
            for (Bytes key : batchKeys) delete(new DeleteRangeRequest(key, Bytes.EMPTY, false));
            if (leaseKeys.containsKey(id)) {
                Lease l = leases.get(id);
                Assert.that(batchKeys.size() == options.leaseRevokeKeysMax(), "lease %d kept keys after deleting only %d", id, batchKeys.size());
                saveLease(new Lease(l.id(), l.ttlSeconds(), l.remainingMillis(), l.epoch(), true), LeaseListener.Change.REVOKING);
                return false;
            }
            batch.delete(leaseCf, leaseKey(id));
            leases.remove(id);
            leaseChanges.add(new LeaseChange(LeaseListener.Change.REVOKED, id, Optional.empty()));
            return true;
        }

        PutResponse put(PutRequest p) throws RocksDBException {
            Optional<KeyIndex.Entry> prev = latestLive(p.key());
            boolean readPrev = prev.isPresent() && (p.prevKv() || p.ignoreValue() || prevKvWanted(p.key()));
            Optional<KeyValue> prevKv = !readPrev ? Optional.empty()
                    : Optional.of(keyValue(p.key(), prev.get(), readValue(prev.get(), pendingValues)));
            Bytes value = p.ignoreValue() ? prevKv.orElseThrow().value() : p.value();
            long lease = p.ignoreLease() ? prev.orElseThrow().lease() : p.lease();
            int sub = nextSub++;
            KeyIndex.Entry e = new KeyIndex.Entry(main, sub,
                    prev.map(KeyIndex.Entry::create).orElse(main),
                    prev.map(x -> x.version() + 1).orElse(1L), lease, false);
            batch.put(revCf, RecordCodec.revKey(main, sub), RecordCodec.encode(p.key(), e, value));
            index.append(p.key(), e);
            prev.ifPresent(x -> {
                if (x.lease() != 0) detach(x.lease(), p.key());
            });
            if (lease != 0) attach(lease, p.key());
            pendingValues.put(e.revision(), value);
            KeyValue kv = keyValue(p.key(), e, value);
            events.add(new Event(Event.Type.PUT, kv, prevKv, e.revision(), prev.isPresent() && !readPrev));
            return new PutResponse(main, p.prevKv() ? prevKv : Optional.empty());
        }

        DeleteRangeResponse delete(DeleteRangeRequest d) throws RocksDBException {
            List<Map.Entry<Bytes, KeyIndex.Entry>> victims = new ArrayList<>();
            for (Map.Entry<Bytes, KeyIndex.History> e : index.slice(d.key(), d.rangeEnd()).entrySet()) {
                e.getValue().latestLive().ifPresent(live -> victims.add(Map.entry(e.getKey(), live)));
            }
            List<KeyValue> prevKvs = new ArrayList<>();
            for (Map.Entry<Bytes, KeyIndex.Entry> v : victims) {
                boolean readPrev = d.prevKv() || prevKvWanted(v.getKey());
                KeyValue prevKv = readPrev ? keyValue(v.getKey(), v.getValue(), readValue(v.getValue(), pendingValues)) : null;
                int sub = nextSub++;
                KeyIndex.Entry tomb = new KeyIndex.Entry(main, sub, 0, 0, 0, true);
                batch.put(revCf, RecordCodec.revKey(main, sub), RecordCodec.encode(v.getKey(), tomb, Bytes.EMPTY));
                index.append(v.getKey(), tomb);
                if (v.getValue().lease() != 0) detach(v.getValue().lease(), v.getKey());
                events.add(new Event(Event.Type.DELETE, new KeyValue(v.getKey(), 0, main, 0, Bytes.EMPTY, 0),
                        Optional.ofNullable(prevKv), tomb.revision(), !readPrev));
                if (d.prevKv()) prevKvs.add(prevKv);
            }
            return new DeleteRangeResponse(now(), victims.size(), prevKvs);
        }

        TxnResponse txn(TxnRequest t, java.util.Iterator<Boolean> path) throws RocksDBException {
            boolean ok = path.next();
            List<Response> responses = new ArrayList<>();
            for (RequestOp op : ok ? t.success() : t.failure()) {
                responses.add(switch (op) {
                    case RangeRequest r -> rangeAt(r, now(), pendingValues, 0);
                    case PutRequest p -> put(p);
                    case DeleteRangeRequest d -> delete(d);
                    case TxnRequest nested -> txn(nested, path);
                });
            }
            return new TxnResponse(now(), ok, responses);
        }
    }

    /** True when some listener wants the replaced value of {@code key} with the event (all do when none said otherwise). */
    private boolean prevKvWanted(Bytes key) {
        if (listeners.isEmpty()) return true; // only the result carries the events: keep them whole
        for (ChangeListener l : listeners) {
            if (l.wantsPrevKv(key)) return true;
        }
        return false;
    }

    /**
     * {@code e} with the version it replaced read from history when the write did not read it
     * ({@link Event#prevKvUnread()}); without one when compaction has removed that version since
     * (etcd then sends the event without it too). Other events are returned as they are.
     */
    public Event withPrevKv(Event e) {
        if (!e.prevKvUnread()) return e;
        lock.readLock().lock();
        try {
            checkUsable();
            Optional<KeyIndex.Entry> prev = index.history(e.kv().key())
                    .flatMap(h -> h.before(e.revision().main(), Math.toIntExact(e.revision().sub())))
                    .filter(p -> !p.tombstone());
            Optional<KeyValue> prevKv = prev.isEmpty() ? Optional.empty()
                    : Optional.of(keyValue(e.kv().key(), prev.get(), readValue(prev.get(), Map.of())));
            return new Event(e.type(), e.kv(), prevKv, e.revision());
        } catch (RocksDBException ex) {
            throw new IllegalStateException("previous value read failed", ex);
        } finally {
            lock.readLock().unlock();
        }
    }

    private static KeyValue keyValue(Bytes key, KeyIndex.Entry e, Bytes value) {
        return new KeyValue(key, e.create(), e.main(), e.version(), value, e.lease());
    }

    private Bytes readValue(KeyIndex.Entry e, Map<Revision, Bytes> pending) throws RocksDBException {
        Bytes p = pending.get(e.revision());
        if (p != null) return p;
        byte[] row = db.get(revCf, RecordCodec.revKey(e.main(), e.sub()));
        Assert.that(row != null, "index points at missing row %d.%d", e.main(), e.sub());
        return RecordCodec.value(row);
    }

    // ---------------------------------------------------------------- reads

    /** Serves a range at the current or a retained historical revision. */
    public RangeResponse range(RangeRequest r) {
        return range(r, 0);
    }

    /**
     * {@link #range(RangeRequest)}, refused with {@link MvccError#rangeTooLarge} as soon as the keys
     * and values it reads add up to more than {@code bytesMax} (0: no limit), so one read holds at
     * most about that much of the store in memory. With a sort or a revision filter every match is
     * read, so the bound applies to the matches rather than to the (limited) response.
     */
    public RangeResponse range(RangeRequest r, long bytesMax) {
        Assert.that(bytesMax >= 0, "range byte limit must not be negative: %d", bytesMax);
        lock.readLock().lock();
        try {
            checkUsable();
            if (r.key().isEmpty()) throw MvccError.EMPTY_KEY.exception();
            if (r.revision() > currentRevision) throw MvccError.FUTURE_REVISION.exception();
            long rev = r.revision() <= 0 ? currentRevision : r.revision();
            if (rev < compactRevision) throw MvccError.COMPACTED.exception();
            return rangeAt(r, currentRevision, Map.of(), bytesMax);
        } catch (RocksDBException e) {
            throw new IllegalStateException("range read failed", e);
        } finally {
            lock.readLock().unlock();
        }
    }

    /** The range itself, once the revision checks passed; {@code current} is the header revision; {@code bytesMax} 0 is no limit. */
    private RangeResponse rangeAt(RangeRequest r, long current, Map<Revision, Bytes> pending, long bytesMax) throws RocksDBException {
        long rev = r.revision() <= 0 ? current : r.revision();
        boolean filtered = r.minModRevision() != 0 || r.maxModRevision() != 0
                || r.minCreateRevision() != 0 || r.maxCreateRevision() != 0;
        RangeRequest.SortOrder order = r.sortOrder();
        if (r.sortTarget() != RangeRequest.SortTarget.KEY && order == RangeRequest.SortOrder.NONE) {
            order = RangeRequest.SortOrder.ASCEND;
        } else if (r.sortTarget() == RangeRequest.SortTarget.KEY && order == RangeRequest.SortOrder.ASCEND) {
            order = RangeRequest.SortOrder.NONE; // the index already yields ascending keys
        }
        // Sorting or filtering needs every match; otherwise one beyond the limit tells "more".
        // Deliberate difference from etcd 3.5/3.6: etcd decides this on the order as requested, so
        // NONE with a non-key target and a limit sorts only the first limit+1 keys by key; here
        // the implied ascending sort covers the whole range, as the API documentation promises.
        long fetch = (order != RangeRequest.SortOrder.NONE || filtered || r.limit() <= 0
                || r.limit() == Long.MAX_VALUE) ? 0 : r.limit() + 1;
        long count = 0;
        List<Bytes> keys = new ArrayList<>();
        List<KeyIndex.Entry> entries = new ArrayList<>();
        for (Map.Entry<Bytes, KeyIndex.History> e : index.slice(r.key(), r.rangeEnd()).entrySet()) {
            Optional<KeyIndex.Entry> live = e.getValue().liveAt(rev);
            if (live.isEmpty()) continue;
            count++;
            if (!r.countOnly() && (fetch == 0 || keys.size() < fetch)) {
                keys.add(e.getKey());
                entries.add(live.get());
            }
        }
        if (r.countOnly()) return new RangeResponse(current, List.of(), false, count);

        boolean needValues = !r.keysOnly()
                || (order != RangeRequest.SortOrder.NONE && r.sortTarget() == RangeRequest.SortTarget.VALUE);
        long keyBytes = 0;
        if (bytesMax > 0) {
            for (Bytes k : keys) keyBytes += k.size();
            if (keyBytes > bytesMax) throw MvccError.rangeTooLarge(bytesMax).exception();
        }
        List<Bytes> values = needValues ? readValues(entries, pending, keyBytes, bytesMax) : null;
        List<KeyValue> kvs = new ArrayList<>(keys.size());
        for (int i = 0; i < keys.size(); i++) {
            KeyValue kv = keyValue(keys.get(i), entries.get(i), needValues ? values.get(i) : Bytes.EMPTY);
            if (r.maxModRevision() != 0 && kv.modRevision() > r.maxModRevision()) continue;
            if (r.minModRevision() != 0 && kv.modRevision() < r.minModRevision()) continue;
            if (r.maxCreateRevision() != 0 && kv.createRevision() > r.maxCreateRevision()) continue;
            if (r.minCreateRevision() != 0 && kv.createRevision() < r.minCreateRevision()) continue;
            kvs.add(kv);
        }
        if (order != RangeRequest.SortOrder.NONE) {
            Comparator<KeyValue> cmp = switch (r.sortTarget()) {
                case KEY -> Comparator.comparing(KeyValue::key);
                case VERSION -> Comparator.comparingLong(KeyValue::version);
                case CREATE -> Comparator.comparingLong(KeyValue::createRevision);
                case MOD -> Comparator.comparingLong(KeyValue::modRevision);
                case VALUE -> Comparator.comparing(KeyValue::value);
            };
            // Stable sort over key order: ties stay in ascending key order either way (etcd leaves ties unspecified).
            kvs.sort(order == RangeRequest.SortOrder.DESCEND ? cmp.reversed() : cmp);
        }
        boolean more = false;
        if (r.limit() > 0 && kvs.size() > r.limit()) {
            kvs = kvs.subList(0, (int) r.limit());
            more = true;
        }
        if (r.keysOnly()) kvs = kvs.stream().map(KeyValue::withoutValue).toList();
        return new RangeResponse(current, kvs, more, count);
    }

    /** Values a read may hold before the first check of {@code bytesMax}: values are read in batches of this many. */
    private static final int LIMITED_READ_BATCH = 256;

    /**
     * The values of {@code entries}, in order. With {@code bytesMax} > 0 they are read in batches
     * and the read is refused ({@link MvccError#rangeTooLarge}) once their sizes and {@code keyBytes}
     * add up to more, so at most one batch beyond the limit is ever held.
     */
    private List<Bytes> readValues(List<KeyIndex.Entry> entries, Map<Revision, Bytes> pending, long keyBytes, long bytesMax)
            throws RocksDBException {
        if (bytesMax <= 0) return readValues(entries, pending);
        List<Bytes> out = new ArrayList<>(entries.size());
        long bytes = keyBytes;
        for (int from = 0; from < entries.size(); from += LIMITED_READ_BATCH) {
            List<Bytes> batch = readValues(entries.subList(from, Math.min(entries.size(), from + LIMITED_READ_BATCH)), pending);
            for (Bytes v : batch) bytes += v.size();
            if (bytes > bytesMax) throw MvccError.rangeTooLarge(bytesMax).exception();
            out.addAll(batch);
        }
        return out;
    }

    private List<Bytes> readValues(List<KeyIndex.Entry> entries, Map<Revision, Bytes> pending) throws RocksDBException {
        List<byte[]> keys = new ArrayList<>();
        List<ColumnFamilyHandle> cfs = new ArrayList<>();
        List<Integer> slots = new ArrayList<>();
        List<Bytes> out = new ArrayList<>(entries.size());
        for (int i = 0; i < entries.size(); i++) {
            KeyIndex.Entry e = entries.get(i);
            Bytes p = pending.get(e.revision());
            out.add(p);
            if (p == null) {
                keys.add(RecordCodec.revKey(e.main(), e.sub()));
                cfs.add(revCf);
                slots.add(i);
            }
        }
        if (keys.size() == 1) {
            byte[] row = db.get(revCf, keys.get(0)); // a point read is cheaper than a one-key multiGet
            Assert.that(row != null, "index points at missing row for slot %d", slots.get(0));
            out.set(slots.get(0), RecordCodec.value(row));
        } else if (!keys.isEmpty()) {
            List<byte[]> rows = db.multiGetAsList(cfs, keys);
            for (int j = 0; j < rows.size(); j++) {
                byte[] row = rows.get(j);
                Assert.that(row != null, "index points at missing row for slot %d", slots.get(j));
                out.set(slots.get(j), RecordCodec.value(row));
            }
        }
        return out;
    }

    /**
     * History from {@code fromRevision} onwards, for a watcher catching up: at most about
     * {@link MvccOptions#maxEventsPerCatchUp()} events, never splitting a revision. Fails with
     * {@link MvccError#COMPACTED} when {@code fromRevision} is at or below the compaction revision.
     * (etcd refuses only below it, but compaction removes tombstones at the compaction revision
     * itself, so a catch-up from exactly there could silently miss deletes; this store refuses.)
     */
    public Changes changesSince(long fromRevision) {
        lock.readLock().lock();
        try {
            checkUsable();
            if (fromRevision <= compactRevision) throw MvccError.COMPACTED.exception();
            long from = Math.max(fromRevision, INITIAL_REVISION + 1);
            List<Event> events = new ArrayList<>();
            long next = currentRevision + 1;
            try (RocksIterator it = db.newIterator(revCf)) {
                for (it.seek(RecordCodec.revKey(from, 0)); it.isValid(); it.next()) {
                    RecordCodec.Row row = RecordCodec.decode(it.key(), it.value());
                    long main = row.entry().main();
                    if (events.size() >= options.maxEventsPerCatchUp()
                            && main != events.get(events.size() - 1).revision().main()) {
                        next = main;
                        break;
                    }
                    events.add(toEvent(row));
                }
                it.status();
            }
            return new Changes(events, Math.max(next, fromRevision));
        } catch (RocksDBException e) {
            throw new IllegalStateException("change feed read failed", e);
        } finally {
            lock.readLock().unlock();
        }
    }

    private Event toEvent(RecordCodec.Row row) throws RocksDBException {
        KeyIndex.Entry e = row.entry();
        Optional<KeyIndex.Entry> prev = index.history(row.key()).flatMap(h -> h.before(e.main(), e.sub()))
                .filter(p -> !p.tombstone());
        Optional<KeyValue> prevKv = prev.isEmpty() ? Optional.empty()
                : Optional.of(keyValue(row.key(), prev.get(), readValue(prev.get(), Map.of())));
        if (e.tombstone()) {
            return new Event(Event.Type.DELETE, new KeyValue(row.key(), 0, e.main(), 0, Bytes.EMPTY, 0), prevKv,
                    e.revision());
        }
        return new Event(Event.Type.PUT, row.keyValue(), prevKv, e.revision());
    }

    // ---------------------------------------------------------------- compaction

    /** True while old versions below the compaction revision are still being removed. */
    public boolean compactionPending() {
        lock.readLock().lock();
        try {
            return scheduled.isPresent();
        } finally {
            lock.readLock().unlock();
        }
    }

    /**
     * Removes one bounded batch of compacted history (at most {@link MvccOptions#compactionBatch()}
     * units of work: a row deleted or a key visited with nothing to delete), recording progress in the same write so a
     * restart resumes where it stopped. Returns whether work remains.
     */
    public boolean runCompactionStep() {
        lock.writeLock().lock();
        try {
            checkUsable();
            if (scheduled.isPresent()) compactStep();
            return scheduled.isPresent();
        } finally {
            lock.writeLock().unlock();
        }
    }

    private void compactStep() {
        Scheduled s = scheduled.orElseThrow();
        int budget = options.compactionBatch();
        List<Map.Entry<Bytes, Integer>> trims = new ArrayList<>();
        Optional<Bytes> resumeAt = Optional.empty();
        try (WriteBatch batch = new WriteBatch()) {
            for (Map.Entry<Bytes, KeyIndex.History> e : index.tailFrom(s.cursor()).entrySet()) {
                if (budget <= 0) {
                    resumeAt = Optional.of(e.getKey());
                    break;
                }
                KeyIndex.History h = e.getValue();
                int removable = h.removableAt(s.target());
                // Budget is at least 1 here, so every step removes something when anything is due.
                int take = Math.min(removable, budget);
                for (int i = 0; i < take; i++) {
                    KeyIndex.Entry old = h.get(i);
                    batch.delete(revCf, RecordCodec.revKey(old.main(), old.sub()));
                }
                budget -= Math.max(take, 1);
                if (take > 0) trims.add(Map.entry(e.getKey(), take));
                if (take < removable) {
                    resumeAt = Optional.of(e.getKey());
                    break;
                }
            }
            Optional<Scheduled> after = resumeAt.map(k -> new Scheduled(s.target(), k));
            if (after.isPresent()) batch.put(metaCf, META_SCHEDULED, after.get().encode());
            else batch.delete(metaCf, META_SCHEDULED);
            write(batch);
            for (Map.Entry<Bytes, Integer> t : trims) index.removeFirst(t.getKey(), t.getValue());
            scheduled = after;
        } catch (RocksDBException e) {
            throw fail(e);
        }
    }

    // ---------------------------------------------------------------- maintenance

    /**
     * Hashes the key-value history a client can still read, up to {@code revision} (0: the
     * current revision), as etcd's HashKV does, so operators can compare members. The hash is a
     * CRC32C over each retained revision row in revision order: its 16-byte revision key
     * (main, sub, big-endian) followed by its stored record (key, create revision, version,
     * lease, value, tombstone flag; see {@link RecordCodec}). "Retained" is the logical view:
     * every revision above the compaction revision, plus the version of each key that was live
     * at the compaction revision. Rows that physical compaction has not removed yet are skipped,
     * so members at the same revision and compaction agree even if one is still compacting.
     *
     * <p>Cost: one scan of the history up to {@code revision}, under the read lock, so applies
     * wait for it; it is an operator's call, not a request path.
     *
     * @throws MvccException {@link MvccError#COMPACTED} below the compaction revision,
     *                       {@link MvccError#FUTURE_REVISION} beyond the current one
     */
    public KvHash hashKv(long revision) {
        lock.readLock().lock();
        try {
            checkUsable();
            if (revision > currentRevision) throw MvccError.FUTURE_REVISION.exception();
            if (revision > 0 && revision < compactRevision) throw MvccError.COMPACTED.exception();
            long upTo = revision <= 0 ? currentRevision : revision;
            Assert.that(upTo >= compactRevision && upTo <= currentRevision, "hash revision %d outside [%d, %d]", upTo, compactRevision,
                    currentRevision);
            var crc = new CRC32C();
            try (RocksIterator it = db.newIterator(revCf)) {
                for (it.seekToFirst(); it.isValid(); it.next()) {
                    byte[] key = it.key();
                    long main = ByteBuffer.wrap(key).getLong();
                    if (main > upTo) break;
                    byte[] value = it.value();
                    if (main <= compactRevision && !liveAtCompaction(RecordCodec.decode(key, value))) continue;
                    crc.update(key);
                    crc.update(value);
                }
                it.status();
            }
            return new KvHash((int) crc.getValue(), upTo, compactRevision);
        } catch (RocksDBException e) {
            throw new IllegalStateException("hash read failed", e);
        } finally {
            lock.readLock().unlock();
        }
    }

    /** True if {@code row} is the version of its key that was live at the compaction revision. */
    private boolean liveAtCompaction(RecordCodec.Row row) {
        return index.history(row.key()).flatMap(h -> h.liveAt(compactRevision))
                .filter(e -> e.main() == row.entry().main() && e.sub() == row.entry().sub())
                .isPresent();
    }

    /**
     * A CRC32C over every row physically stored in the revision column family (revision key, then
     * record), as etcd's Hash covers its whole backend. Unlike {@link #hashKv(long)} it depends
     * on physical compaction progress, so it is for checking one member over time (corruption),
     * not for comparing members. Same cost as {@link #hashKv(long)}.
     */
    public int hashAll() {
        lock.readLock().lock();
        try {
            checkUsable();
            var crc = new CRC32C();
            try (RocksIterator it = db.newIterator(revCf)) {
                for (it.seekToFirst(); it.isValid(); it.next()) {
                    crc.update(it.key());
                    crc.update(it.value());
                }
                it.status();
            }
            return (int) crc.getValue();
        } catch (RocksDBException e) {
            throw new IllegalStateException("hash read failed", e);
        } finally {
            lock.readLock().unlock();
        }
    }

    /**
     * Bytes the store occupies as RocksDB accounts them: live SST files plus memtables, summed
     * over the column families (etcd's "db size"). 0 once the store is closed.
     */
    public long dbSizeBytes() {
        return longProperty("rocksdb.total-sst-files-size") + longProperty("rocksdb.cur-size-all-mem-tables");
    }

    /**
     * RocksDB's estimate of the bytes that hold live data (etcd's "db size in use"): what a full
     * compaction ({@link #defragment()}) would shrink {@link #dbSizeBytes()} towards.
     */
    public long dbSizeInUseBytes() {
        return longProperty("rocksdb.estimate-live-data-size") + longProperty("rocksdb.cur-size-all-mem-tables");
    }

    private long longProperty(String name) {
        lock.readLock().lock();
        try {
            if (closed) return 0;
            return db.getAggregatedLongProperty(name);
        } catch (RocksDBException e) {
            throw new IllegalStateException("cannot read RocksDB property " + name, e);
        } finally {
            lock.readLock().unlock();
        }
    }

    /**
     * Reclaims space (etcd's Defragment): a manual RocksDB compaction of every column family down
     * to the bottom level, which drops deleted and overwritten rows and tombstones. It does not
     * take the store's lock, so applies and reads go on while it runs (RocksDB compacts from
     * immutable files); it is not exclusive, so RocksDB's automatic compactions keep running
     * too. One runs at a time; a second call waits for the first. {@link #close()} cancels it.
     *
     * @return whether it ran to the end (false if {@link #close()} cancelled it or had begun)
     */
    public boolean defragment() {
        synchronized (maintenanceLock) {
            lock.readLock().lock();
            try {
                checkUsable();
            } finally {
                lock.readLock().unlock();
            }
            var opts = new CompactRangeOptions()
                    .setExclusiveManualCompaction(false)
                    .setBottommostLevelCompaction(CompactRangeOptions.BottommostLevelCompaction.kForceOptimized);
            try {
                for (ColumnFamilyHandle cf : List.of(revCf, metaCf)) {
                    synchronized (cancelLock) {
                        if (defragmentCancelled) return false;
                        defragmenting = Optional.of(opts);
                    }
                    db.compactRange(cf, null, null, opts);
                }
                return true;
            } catch (RocksDBException e) {
                synchronized (cancelLock) {
                    if (defragmentCancelled) return false; // RocksDB reports a cancelled manual compaction as an error
                }
                throw new IllegalStateException("defragment of " + dir + " failed", e);
            } finally {
                synchronized (cancelLock) {
                    defragmenting = Optional.empty();
                }
                opts.close();
            }
        }
    }

    /** Cancels a running defragmentation, refuses new ones, and waits until none runs. */
    private void closeMaintenance() {
        synchronized (cancelLock) {
            defragmentCancelled = true;
            defragmenting.ifPresent(o -> o.setCanceled(true));
        }
        synchronized (maintenanceLock) {
            // Taken only to wait: a running defragment() holds it until RocksDB returns.
        }
    }

    // ---------------------------------------------------------------- durability

    /**
     * Forces everything applied so far to disk and returns the applied index that is now
     * durable: the driver may discard its log up to there.
     */
    public long flush() {
        lock.writeLock().lock();
        try (FlushOptions fo = new FlushOptions().setWaitForFlush(true)) {
            checkUsable();
            // Every column family (leases, for one, live in their own): a snapshot or a compacted log relies on all of them.
            db.flush(fo, handles);
            return appliedIndex;
        } catch (RocksDBException e) {
            throw fail(e);
        } finally {
            lock.writeLock().unlock();
        }
    }

    /**
     * Declares the state to be the starting point of a new log: the applied index becomes
     * {@code appliedIndex} (0 for a cluster restored from a snapshot, whose log starts afresh) and
     * the old cluster's membership is forgotten (the new one is seeded by its bootstrap);
     * everything else — keys, history, revisions, leases, alarms — is kept. Only for offline restore.
     */
    public void rebase(long appliedIndex) {
        lock.writeLock().lock();
        try (WriteBatch batch = new WriteBatch()) {
            checkUsable();
            Assert.that(appliedIndex >= 0, "rebase to negative applied index %d", appliedIndex);
            batch.put(metaCf, META_APPLIED, RecordCodec.longBytes(appliedIndex));
            memberTable.stageClear(batch, membersCf);
            write(batch);
            memberTable.commitClear();
            this.appliedIndex = appliedIndex;
        } catch (RocksDBException e) {
            throw fail(e);
        } finally {
            lock.writeLock().unlock();
        }
    }

    /**
     * Takes a consistent snapshot of everything applied so far (a RocksDB checkpoint in a sibling
     * directory, hard-linked so it costs little space until the store moves on) and returns it as
     * a chunk stream of at most {@code chunkBytes} per chunk. The caller must close it.
     */
    public MvccSnapshot snapshot(int chunkBytes) throws IOException {
        Path target;
        long index;
        lock.writeLock().lock();
        try (Checkpoint cp = Checkpoint.create(db)) {
            checkUsable();
            index = appliedIndex;
            target = dir.resolveSibling(dir.getFileName() + ".snapshot-" + index + "-" + System.nanoTime());
            // With RocksDB's WAL off, the checkpoint flushes memtables first, so it holds exactly this index.
            cp.createCheckpoint(target.toString());
        } catch (RocksDBException e) {
            throw new IOException("cannot checkpoint mvcc store at " + dir, e);
        } finally {
            lock.writeLock().unlock();
        }
        return new MvccSnapshot(target, index, chunkBytes);
    }

    /** Number of keys with retained history in the index (live or not), for tests and metrics. */
    public int indexedKeys() {
        lock.readLock().lock();
        try {
            return index.keyCount();
        } finally {
            lock.readLock().unlock();
        }
    }

    /** Flushes (unless the store failed) and releases all native resources. */
    @Override
    public void close() {
        closeMaintenance();
        lock.writeLock().lock();
        try {
            if (closed) return;
            if (failure.isEmpty()) {
                try (FlushOptions fo = new FlushOptions().setWaitForFlush(true)) {
                    db.flush(fo, handles);
                } catch (RocksDBException e) {
                    failure = Optional.of(e);
                }
            }
            closed = true;
            for (ColumnFamilyHandle h : handles) h.close();
            db.close();
            writeOptions.close();
            dbOptions.close();
            cfOptions.close();
        } finally {
            lock.writeLock().unlock();
        }
    }
}
