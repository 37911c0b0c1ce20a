package io.synod.server;

import io.synod.common.Assert;
import io.synod.mvcc.ChangeListener;
import io.synod.mvcc.LeaseListener;
import io.synod.mvcc.MvccOptions;
import io.synod.mvcc.MvccSnapshot;
import io.synod.mvcc.MvccStore;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Comparator;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The member's MVCC store behind one indirection, so that a snapshot from the leader can replace
 * it while client threads keep reading. Readers go through {@link #read(Function)}, which holds a
 * read lock for the duration of one operation; {@link #install(Path)} takes the write lock, so no
 * reader ever touches a closed store (they wait for the switch, then see the new one). The Raft
 * loop, the only thread that installs, reads {@link #current()} directly.
 *
 * <p>On disk the store is {@code <data-dir>/mvcc}. An install switches directories by rename:
 * {@code mvcc} becomes {@code mvcc.old}, the received state becomes {@code mvcc} (the commit
 * point), the data dir is fsynced after each rename, then {@code mvcc.old} is deleted. {@link
 * #open} finishes or undoes an interrupted switch: {@code mvcc.old} without {@code mvcc} is moved
 * back (the old state), {@code mvcc.old} beside {@code mvcc} is deleted (the new state). Either way
 * the member holds one whole state, never a mix.
 */
public final class StoreHolder implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(StoreHolder.class);
    static final String LIVE = "mvcc";
    static final String OLD = "mvcc.old";

    private final Path dataDir;
    private final MvccOptions options;
    private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
    private final CopyOnWriteArrayList<Consumer<MvccStore>> swapListeners = new CopyOnWriteArrayList<>();
    private final CopyOnWriteArrayList<ChangeListener> changeListeners = new CopyOnWriteArrayList<>();
    private final CopyOnWriteArrayList<LeaseListener> leaseListeners = new CopyOnWriteArrayList<>();
    // Written under the write lock; volatile so current() needs no lock.
    private volatile MvccStore store;

    private StoreHolder(Path dataDir, MvccOptions options, MvccStore store) {
        this.dataDir = dataDir;
        this.options = options;
        this.store = store;
    }

    /** Opens {@code <dataDir>/mvcc}, first finishing or undoing a switch a crash interrupted. */
    public static StoreHolder open(Path dataDir, MvccOptions options) throws IOException {
        recover(dataDir);
        return new StoreHolder(dataDir, options, MvccStore.open(dataDir.resolve(LIVE), options));
    }

    static void recover(Path dataDir) throws IOException {
        Path live = dataDir.resolve(LIVE);
        Path old = dataDir.resolve(OLD);
        if (!Files.exists(old)) return;
        if (Files.exists(live)) {
            log.info("a snapshot install completed before a crash; deleting the previous store {}", old);
            deleteTree(old);
        } else {
            log.info("a snapshot install was interrupted before its switch; keeping the previous store");
            Files.move(old, live, StandardCopyOption.ATOMIC_MOVE);
        }
        syncDir(dataDir);
    }

    /** Runs one read against the current store; a concurrent install waits for it (and it for the install). */
    public <T> T read(Function<MvccStore, T> op) {
        lock.readLock().lock();
        try {
            return op.apply(store);
        } finally {
            lock.readLock().unlock();
        }
    }

    /**
     * True while a write holds the store (an apply batch, a compaction step, a flush, a snapshot install), so
     * a read started now would wait for it: the transport threads then hand their reads to a pool.
     */
    public boolean writing() {
        return lock.isWriteLocked() || store.writing();
    }

    /**
     * An executor that runs a task reading the store on {@code here} (typically the thread that
     * completed the preceding stage), or on {@code pool} when a write holds the store at that moment,
     * so that a transport or Raft thread never waits for the write.
     */
    java.util.concurrent.Executor unlessWriting(java.util.concurrent.Executor here, java.util.concurrent.Executor pool) {
        return task -> (writing() ? pool : here).execute(task);
    }

    /** A snapshot of the current store (taken under the read lock, so no install runs meanwhile). */
    public MvccSnapshot snapshot(int chunkBytes) throws IOException {
        lock.readLock().lock();
        try {
            return store.snapshot(chunkBytes);
        } finally {
            lock.readLock().unlock();
        }
    }

    /** The current store, for the thread that installs (the Raft loop); others use {@link #read}. */
    public MvccStore current() {
        return store;
    }

    /** Registers {@code l} with the current store and with every store installed later. */
    public void addListener(ChangeListener l) {
        lock.writeLock().lock();
        try {
            changeListeners.add(l);
            store.addListener(l);
        } finally {
            lock.writeLock().unlock();
        }
    }

    /** Undoes {@link #addListener}. */
    public void removeListener(ChangeListener l) {
        lock.writeLock().lock();
        try {
            changeListeners.remove(l);
            store.removeListener(l);
        } finally {
            lock.writeLock().unlock();
        }
    }

    /** Registers {@code l} with the current store and with every store installed later. */
    public void addLeaseListener(LeaseListener l) {
        lock.writeLock().lock();
        try {
            leaseListeners.add(l);
            store.addLeaseListener(l);
        } finally {
            lock.writeLock().unlock();
        }
    }

    /**
     * Called (on the installing thread, after the switch) with each new store, so that components
     * holding per-store registrations (watchers, listeners) can move them.
     */
    public void addSwapListener(Consumer<MvccStore> listener) {
        swapListeners.add(listener);
    }

    /**
     * Replaces the store with the complete, verified state in {@code staged} (a directory on the
     * same file system, fully written); see the class comment for the crash rule. Returns the new
     * store's applied index.
     */
    public long install(Path staged) throws IOException {
        Path live = dataDir.resolve(LIVE);
        Path old = dataDir.resolve(OLD);
        Assert.that(!Files.exists(old), "previous store %s still present", old);
        syncTree(staged);
        MvccStore next;
        lock.writeLock().lock();
        try {
            store.close();
            Files.move(live, old, StandardCopyOption.ATOMIC_MOVE);
            syncDir(dataDir);
            Files.move(staged, live, StandardCopyOption.ATOMIC_MOVE);
            syncDir(dataDir); // the switch is durable from here on
            deleteTree(old);
            syncDir(dataDir);
            next = MvccStore.open(live, options);
            for (ChangeListener l : changeListeners) next.addListener(l);
            for (LeaseListener l : leaseListeners) next.addLeaseListener(l);
            store = next;
        } finally {
            lock.writeLock().unlock();
        }
        for (Consumer<MvccStore> l : swapListeners) l.accept(next);
        log.info("installed snapshot state: applied index {}, revision {}", next.appliedIndex(), next.currentRevision());
        return next.appliedIndex();
    }

    @Override
    public void close() {
        lock.writeLock().lock();
        try {
            store.close();
        } finally {
            lock.writeLock().unlock();
        }
    }

    /** Flushes every file under {@code dir} and the directories themselves, so a rename publishes complete contents. */
    static void syncTree(Path dir) throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.toList()) {
                if (Files.isRegularFile(p)) {
                    try (FileChannel c = FileChannel.open(p, StandardOpenOption.WRITE)) {
                        c.force(true);
                    }
                } else if (Files.isDirectory(p)) {
                    syncDir(p);
                }
            }
        }
    }

    static void syncDir(Path dir) throws IOException {
        try (FileChannel c = FileChannel.open(dir, StandardOpenOption.READ)) {
            c.force(true);
        }
    }

    static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) return;
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        }
    }
}
