package io.synod.storage.wal;

import io.synod.common.Assert;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import java.util.stream.Stream;

/**
 * A segmented, append-only write-ahead log in one directory: the durability layer under the
 * Raft log. Records get gap-free indices starting at 1; a record is acknowledged (future
 * completed, or {@link #appendSync} returned) only after the batch holding it was written and
 * flushed according to {@link WalOptions#syncMode()}.
 *
 * <p><b>Files.</b> Segments are named {@code <seq as 16 hex digits>.wal}, preallocated to
 * {@link WalOptions#segmentBytes()} with zeros (so a flush never has to persist a size or block
 * allocation change) and start with a {@link SegmentHeader}. Records ({@link RecordFormat}) follow
 * back to back; the first all-zero frame header followed by only zeros is the end of the log. A
 * segment is created as a temporary file, zero-filled, given its header, flushed, and only then
 * renamed into place (the directory flushed too), so a visible segment always has an intact header.
 * Before the writer moves to a new segment it flushes the old one, so a torn tail can only be in
 * the <em>last</em> segment. The next segment's file is zero-filled in the background once the
 * active one is half full, so a roll costs a header write and two flushes, not a 64 MiB fill.
 *
 * <p><b>Recovery rule (torn tail versus corruption).</b> Open scans every segment. At the first
 * frame that is not an intact record (short header, type 0, length outside
 * {@code [0, recordBytesMax]}, running past the end of the file, CRC mismatch, or an all-zero
 * header followed by non-zero bytes):
 * <ul>
 *   <li>in any segment but the last, it is corruption: those segments were flushed completely
 *       before the next one was created;</li>
 *   <li>in the last segment, if an intact frame (length in bounds, matching CRC) starts at any
 *       byte offset after the damage, it is corruption: something after the damage was written and
 *       possibly acknowledged, and truncating would drop it;</li>
 *   <li>otherwise it is a torn tail, the remains of the one write a crash interrupted, never
 *       acknowledged: the bytes from the damage to the last non-zero byte are zeroed and flushed,
 *       and appending resumes there (see {@link #recoveryReport()}).</li>
 * </ul>
 * Corruption throws {@link WalCorruptionException} naming the file and offset. The rule errs
 * towards refusing: a torn write whose later sectors reached the disk while earlier ones did
 * not also looks like corruption, and then an operator decides (with {@code synod wal dump}).
 * Segment sequence numbers must be contiguous and each segment's first index must continue the
 * previous one's records; anything else is corruption too.
 *
 * <p><b>Threads.</b> {@link #append} may be called from any thread: a single writer thread
 * (started by the first {@code append}) drains the bounded queue in batches of up to {@link WalOptions#batchRecordsMax()} records /
 * {@link WalOptions#batchBytesMax()} bytes, writes each batch with one flush and then completes
 * the futures (on the writer thread, so callers should not run heavy work in non-async
 * continuations). A full queue makes {@code append} throw {@link WalOverloadedException}
 * immediately rather than block. {@link #appendSync} writes a caller's batch directly with one
 * flush; both paths serialize on one lock, so they can be mixed. After any I/O error the WAL is
 * failed for good (a failed flush leaves the page cache state unknown, so retrying could
 * acknowledge lost data): every later call fails and the directory must be reopened.
 *
 * <p><b>Power-cut emulation</b> (test-only, {@link WalOptions#powerCut()}): the bytes of the active
 * segment written since its last flush are held in process memory ({@link #held}) instead of being
 * written to the file, and a flush writes them and then forces the file. Reads of held records are
 * served from memory. A process kill then loses exactly what a power cut could lose. Structural
 * changes (a roll, {@link #truncateAfter}) flush the held bytes first, as the real mode's flush
 * before a roll and its flushed copy of a truncated segment do.
 */
public final class Wal implements AutoCloseable {
    /** Receives each intact record during {@link #open}, in index order. */
    @FunctionalInterface
    public interface RecordVisitor {
        void record(WalRecord record) throws IOException;
    }

    private static final String SEGMENT_SUFFIX = ".wal";
    private static final String TMP_SUFFIX = ".tmp";
    private static final int ZERO_CHUNK_BYTES = 1 << 20;
    private static final long POLL_NANOS = TimeUnit.MILLISECONDS.toNanos(20);

    private final Path dir;
    private final WalOptions options;
    private final FileChannel lockChannel;
    private final FileLock dirLock;
    private final RecoveryReport recoveryReport;

    /** Live segments by sequence number; reads look up here without the write lock. */
    private final ConcurrentSkipListMap<Long, Segment> segments = new ConcurrentSkipListMap<>();

    // Guarded by writeLock.
    private final ReentrantLock writeLock = new ReentrantLock();
    private Segment active;
    private int writeOffset;
    private long nextIndex;
    private final ByteBuffer writeBuf;
    private long syncCount;
    /** The next segment's file, zero-filled in the background once the active one is half full; null if none. */
    private CompletableFuture<Path> spare;
    private long spareCounter;

    private volatile IOException failure;

    // Power-cut emulation, guarded by writeLock: bytes [heldStart, heldStart + heldLength) of the active
    // segment, written but not flushed, kept here instead of in the file; heldSinceNanos is when the
    // oldest of them was written.
    private byte[] held = new byte[0];
    private int heldLength;
    private int heldStart = -1;
    private long heldSinceNanos;

    private final Object queueGuard = new Object();
    private boolean closed; // guarded by queueGuard
    private boolean writerStarted; // guarded by queueGuard; callers that only use appendSync never need the thread
    private final ArrayBlockingQueue<Pending> queue;
    private final Thread writer;

    private record Pending(WalWrite write, CompletableFuture<Long> future) {}

    /** Wakes the writer on close so it need not wait out its poll timeout. */
    private static final Pending WAKE_UP = new Pending(new WalWrite((byte) 1, new byte[0]), new CompletableFuture<>());

    /** One segment file; endOffset is maintained for segments other than the active one. */
    private static final class Segment {
        final long seq;
        final long firstIndex;
        final Path path;
        final FileChannel channel;
        int endOffset;

        Segment(long seq, long firstIndex, Path path, FileChannel channel, int endOffset) {
            this.seq = seq;
            this.firstIndex = firstIndex;
            this.path = path;
            this.channel = channel;
            this.endOffset = endOffset;
        }
    }

    private Wal(Path dir, WalOptions options, FileChannel lockChannel, FileLock dirLock, RecoveryReport report) {
        this.dir = dir;
        this.options = options;
        this.lockChannel = lockChannel;
        this.dirLock = dirLock;
        this.recoveryReport = report;
        // Room for one largest record plus some batching; bigger batches are written in pieces.
        this.writeBuf = ByteBuffer.allocateDirect((int) Math.min(Integer.MAX_VALUE - 64,
                RecordFormat.HEADER_BYTES + (long) options.recordBytesMax() + Math.min(options.batchBytesMax(), 1 << 20)));
        this.queue = new ArrayBlockingQueue<>(options.pendingRecordsMax());
        this.writer = new Thread(this::writerLoop, "synod-wal-writer-" + dir.getFileName());
        this.writer.setDaemon(true);
    }

    public static Wal open(Path dir, WalOptions options) throws IOException {
        return open(dir, options, r -> {});
    }

    /**
     * Opens (creating if needed) the WAL in {@code dir}, recovering as described in the class
     * comment and handing every intact record to {@code visitor} in order.
     *
     * @throws WalCorruptionException if the log is damaged in a way that is not a torn tail
     */
    public static Wal open(Path dir, WalOptions options, RecordVisitor visitor) throws IOException {
        Files.createDirectories(dir);
        FileChannel lockChannel = FileChannel.open(dir.resolve("LOCK"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        FileLock lock;
        try {
            lock = lockChannel.tryLock();
        } catch (java.nio.channels.OverlappingFileLockException e) {
            lockChannel.close();
            throw new IOException("WAL directory " + dir + " is locked: already open in this process", e);
        } catch (IOException | RuntimeException e) {
            lockChannel.close();
            throw e;
        }
        if (lock == null) {
            lockChannel.close();
            throw new IOException("WAL directory " + dir + " is locked by another process");
        }
        try {
            return recover(dir, options, visitor, lockChannel, lock);
        } catch (IOException | RuntimeException | Error e) {
            lock.release();
            lockChannel.close();
            throw e;
        }
    }

    private static Wal recover(Path dir, WalOptions options, RecordVisitor visitor, FileChannel lockChannel, FileLock lock) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            for (Path p : s.filter(p -> p.getFileName().toString().endsWith(TMP_SUFFIX)).toList()) Files.delete(p);
        }
        List<Path> files;
        try (Stream<Path> s = Files.list(dir)) {
            files = s.filter(p -> p.getFileName().toString().endsWith(SEGMENT_SUFFIX)).sorted().toList();
        }
        var opened = new ArrayList<Segment>();
        long tornOffset = -1;
        long tornBytes = 0;
        long expectedFirst = -1;
        try {
            long prevSeq = -1;
            for (int i = 0; i < files.size(); i++) {
                Path file = files.get(i);
                long seq = parseSeq(file);
                if (prevSeq >= 0 && seq != prevSeq + 1) {
                    throw new WalCorruptionException(file, 0, "segment sequence gap: expected " + (prevSeq + 1) + " after " + prevSeq);
                }
                prevSeq = seq;
                boolean last = i == files.size() - 1;
                FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE);
                var seg = new Segment(seq, 0, file, ch, 0);
                opened.add(seg);
                long size = ch.size();
                if (size > WalOptions.SEGMENT_BYTES_LIMIT) throw new WalCorruptionException(file, 0, "segment of " + size + " bytes exceeds the limit");
                MappedByteBuffer map = ch.map(FileChannel.MapMode.READ_ONLY, 0, size);
                var result = SegmentScanner.scan(map, options.recordBytesMax(), (index, type, buf, off, len) -> {
                    byte[] payload = new byte[len];
                    buf.get(off + RecordFormat.HEADER_BYTES, payload);
                    visitor.record(new WalRecord(index, type, payload, new WalPosition(seq, off)));
                });
                if (result.header().isEmpty()) {
                    throw new WalCorruptionException(file, 0, "bad segment header: " + result.problem().orElseThrow().reason());
                }
                SegmentHeader header = result.header().get();
                if (header.segmentSeq() != seq) throw new WalCorruptionException(file, 8, "header names segment " + header.segmentSeq() + " but the file is segment " + seq);
                if (expectedFirst >= 0 && header.firstIndex() != expectedFirst) {
                    throw new WalCorruptionException(file, 16, "segment starts at record " + header.firstIndex() + " but the previous segment ended before " + expectedFirst);
                }
                var fixed = new Segment(seq, header.firstIndex(), file, ch, result.endOffset());
                opened.set(opened.size() - 1, fixed);
                if (result.problem().isPresent()) {
                    var p = result.problem().get();
                    if (!last) throw new WalCorruptionException(file, p.offset(), p.reason() + " (not the last segment)");
                    if (p.nextIntactFrame().isPresent()) {
                        throw new WalCorruptionException(file, p.offset(), p.reason() + "; an intact record frame follows at offset " + p.nextIntactFrame().getAsInt());
                    }
                    // Torn tail: clear it so the next append starts on zeros and the scan rule still holds.
                    tornOffset = p.offset();
                    tornBytes = Math.max(0, result.dataEnd() - p.offset());
                    zeroFill(ch, p.offset(), Math.max(result.dataEnd(), p.offset()));
                    forceMetadata(ch, options);
                }
                expectedFirst = header.firstIndex() + result.recordCount();
            }
        } catch (IOException | RuntimeException | Error e) {
            for (Segment s : opened) closeQuietly(s.channel);
            throw e;
        }
        if (opened.isEmpty()) {
            opened.add(createSegment(dir, options, 0, 1, null));
            expectedFirst = 1;
        }
        Segment last = opened.get(opened.size() - 1);
        var report = new RecoveryReport(opened.size(), opened.get(0).firstIndex, expectedFirst, tornOffset, tornBytes);
        Wal wal = new Wal(dir, options, lockChannel, lock, report);
        for (Segment s : opened) wal.segments.put(s.seq, s);
        wal.active = last;
        wal.writeOffset = last.endOffset;
        wal.nextIndex = expectedFirst;
        return wal;
    }

    private static long parseSeq(Path file) throws WalCorruptionException {
        String name = file.getFileName().toString();
        String hex = name.substring(0, name.length() - SEGMENT_SUFFIX.length());
        try {
            if (hex.length() != 16) throw new NumberFormatException(hex);
            return Long.parseUnsignedLong(hex, 16);
        } catch (NumberFormatException e) {
            throw new WalCorruptionException(file, 0, "segment file name is not 16 hex digits");
        }
    }

    // ---------------------------------------------------------------- appends

    /**
     * Queues one record for the writer thread. The future completes with the record's index once
     * the batch holding it is durable, or exceptionally if the WAL failed or was closed first.
     *
     * @throws WalOverloadedException if {@link WalOptions#pendingRecordsMax()} appends are queued
     * @throws IllegalArgumentException if the payload exceeds {@link WalOptions#recordBytesMax()}
     */
    public CompletableFuture<Long> append(byte type, byte[] payload) {
        var w = new WalWrite(type, payload);
        checkSize(w);
        var f = new CompletableFuture<Long>();
        IOException failed = failure;
        if (failed != null) return CompletableFuture.failedFuture(new IOException("WAL failed earlier", failed));
        synchronized (queueGuard) {
            if (closed) throw new IllegalStateException("WAL " + dir + " is closed");
            if (!queue.offer(new Pending(w, f))) throw new WalOverloadedException(options.pendingRecordsMax());
            if (!writerStarted) {
                writerStarted = true;
                writer.start();
            }
        }
        return f;
    }

    /**
     * Writes {@code writes} in order and flushes once: the path for a single-threaded caller (the
     * Raft driver) that wants its whole Ready durable with one sync. Returns after the flush.
     */
    public AppendResult appendSync(List<WalWrite> writes) throws IOException {
        return appendBatch(writes, true);
    }

    /**
     * Writes {@code writes} in order, flushing once at the end only if {@code flush}. Unflushed
     * records become durable with the next flush (of any append, or a segment roll); a crash
     * before that may lose them, so use {@code flush = false} only for what may be lost (Raft:
     * a Ready whose {@code mustSync} is false, that is, only the commit index moved). Note that
     * unflushed bytes widen the window in which a power cut can leave later pages on disk
     * without earlier ones, which recovery reports as corruption rather than guess.
     */
    public AppendResult appendBatch(List<WalWrite> writes, boolean flush) throws IOException {
        Assert.that(!writes.isEmpty(), "appendBatch with no records");
        for (WalWrite w : writes) checkSize(w);
        writeLock.lock();
        try {
            return writeLocked(writes, flush);
        } finally {
            writeLock.unlock();
        }
    }

    private void checkSize(WalWrite w) {
        if (w.payload().length > options.recordBytesMax()) {
            throw new IllegalArgumentException("record of " + w.payload().length + " bytes exceeds recordBytesMax " + options.recordBytesMax());
        }
    }

    private AppendResult writeLocked(List<WalWrite> writes, boolean flush) throws IOException {
        IOException failed = failure;
        if (failed != null) throw new IOException("WAL failed earlier; reopen it", failed);
        try {
            long first = nextIndex;
            var positions = new ArrayList<WalPosition>(writes.size());
            writeBuf.clear();
            int bufStart = writeOffset;
            for (WalWrite w : writes) {
                int frame = RecordFormat.frameBytes(w.payload().length);
                if ((long) writeOffset + frame > options.segmentBytes()) {
                    flushBuf(bufStart);
                    // The old segment must be complete on disk before a newer one exists (recovery rule).
                    sync(active.channel, false);
                    roll();
                    bufStart = writeOffset;
                } else if (writeBuf.remaining() < frame) {
                    flushBuf(bufStart);
                    bufStart = writeOffset;
                }
                RecordFormat.encode(writeBuf, w.type(), w.payload());
                positions.add(new WalPosition(active.seq, writeOffset));
                writeOffset += frame;
                nextIndex++;
            }
            flushBuf(bufStart);
            if (flush) sync(active.channel, true);
            maybePrepareSpare();
            return new AppendResult(first, positions);
        } catch (IOException | RuntimeException e) {
            IOException io = e instanceof IOException ioe ? ioe : new IOException(e);
            failure = io;
            throw io;
        }
    }

    private void flushBuf(int at) throws IOException {
        writeBuf.flip();
        if (options.powerCut() != PowerCutEmulation.OFF) {
            hold(at);
            return;
        }
        long pos = at;
        int end = writeBuf.limit();
        while (writeBuf.position() < end) {
            writeBuf.limit((int) Math.min(end, (long) writeBuf.position() + options.writeChunkBytesMax()));
            pos += active.channel.write(writeBuf, pos);
        }
        writeBuf.clear();
    }

    /** Power-cut emulation: appends the buffered bytes, meant for offset {@code at} of the active segment, to {@link #held}. */
    private void hold(int at) {
        int n = writeBuf.remaining();
        if (n > 0) {
            if (heldLength == 0) {
                heldStart = at;
                heldSinceNanos = System.nanoTime();
            }
            Assert.that(at == heldStart + heldLength, "held bytes must be contiguous: write at %d, held [%d, %d)", at, heldStart,
                    heldStart + heldLength);
            if (held.length < heldLength + n) held = java.util.Arrays.copyOf(held, Math.max(heldLength + n, 2 * held.length));
            writeBuf.get(held, heldLength, n);
            heldLength += n;
        }
        writeBuf.clear();
    }

    /** Power-cut emulation: writes the held bytes into the active segment (not flushed yet: the caller flushes). */
    private void writeHeld() throws IOException {
        if (heldLength == 0) return;
        ByteBuffer b = ByteBuffer.wrap(held, 0, heldLength);
        long pos = heldStart;
        while (b.hasRemaining()) pos += active.channel.write(b, pos);
        Assert.that(pos == heldStart + heldLength, "wrote held bytes up to %d, expected %d", pos, heldStart + heldLength);
        heldLength = 0;
        heldStart = -1;
    }

    /**
     * Makes the active segment's writes durable. {@code acknowledging}: the flush that lets a batch be
     * acknowledged (the one {@link PowerCutEmulation#ACK_BEFORE_FSYNC} deliberately delays), as opposed
     * to a structural one (before a roll or a truncation).
     */
    private void sync(FileChannel ch, boolean acknowledging) throws IOException {
        if (options.powerCut() != PowerCutEmulation.OFF && heldLength > 0) {
            Assert.that(ch == active.channel, "held bytes belong to the active segment %d", active.seq);
            if (acknowledging && options.powerCut() == PowerCutEmulation.ACK_BEFORE_FSYNC
                    && System.nanoTime() - heldSinceNanos < TimeUnit.MILLISECONDS.toNanos(PowerCutEmulation.ACK_BEFORE_FSYNC_DELAY_MILLIS)) {
                return; // the deliberate bug: acknowledged, still only in memory
            }
            writeHeld();
        }
        switch (options.syncMode()) {
            case FDATASYNC -> ch.force(false);
            case FSYNC -> ch.force(true);
            case UNSAFE_NO_SYNC -> { return; }
        }
        syncCount++;
    }

    private void roll() throws IOException {
        active.endOffset = writeOffset;
        Segment next = createSegment(dir, options, active.seq + 1, nextIndex, takeSpare());
        segments.put(next.seq, next);
        active = next;
        writeOffset = SegmentHeader.BYTES;
    }

    /**
     * Zero-filling a segment takes a while (64 MiB by default); doing it ahead, off the writer
     * thread, keeps that out of the latency of the append that happens to roll the segment.
     */
    private void maybePrepareSpare() {
        if (spare != null || writeOffset <= options.segmentBytes() / 2) return;
        Path p = dir.resolve("spare-" + (spareCounter++) + TMP_SUFFIX);
        var f = new CompletableFuture<Path>();
        spare = f;
        Thread.ofPlatform().daemon().name("synod-wal-prealloc").start(() -> {
            try (FileChannel ch = FileChannel.open(p, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                zeroFill(ch, 0, options.segmentBytes());
                forceMetadata(ch, options);
                f.complete(p);
            } catch (Throwable t) {
                f.completeExceptionally(t);
            }
        });
    }

    /** The prepared spare file (waiting for it if still being filled), or null to create one in place. */
    private Path takeSpare() {
        CompletableFuture<Path> f = spare;
        spare = null;
        if (f == null) return null;
        try {
            return f.join();
        } catch (RuntimeException e) {
            // Preparation failed (disk full, say): fall back to creating the segment in line,
            // which reports the error to the appender if it persists.
            return null;
        }
    }

    /**
     * Creates a zero-filled segment via a temporary file (the given prepared spare, or one filled
     * now) so that a visible segment always has a valid header.
     */
    private static Segment createSegment(Path dir, WalOptions options, long seq, long firstIndex, Path prepared) throws IOException {
        Path tmp = prepared != null ? prepared : dir.resolve(String.format("%016x", seq) + TMP_SUFFIX);
        Path path = dir.resolve(String.format("%016x", seq) + SEGMENT_SUFFIX);
        Assert.that(!Files.exists(path), "segment %s already exists", path);
        FileChannel ch = prepared != null
                ? FileChannel.open(tmp, StandardOpenOption.READ, StandardOpenOption.WRITE)
                : FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ, StandardOpenOption.WRITE);
        try {
            if (prepared == null || ch.size() != options.segmentBytes()) zeroFill(ch, 0, options.segmentBytes());
            ByteBuffer header = new SegmentHeader(seq, firstIndex).encode();
            while (header.hasRemaining()) ch.write(header, header.position());
            forceMetadata(ch, options);
            Files.move(tmp, path, StandardCopyOption.ATOMIC_MOVE);
            syncDir(dir, options);
            return new Segment(seq, firstIndex, path, ch, SegmentHeader.BYTES);
        } catch (IOException | RuntimeException e) {
            closeQuietly(ch);
            throw e;
        }
    }

    private static void zeroFill(FileChannel ch, long from, long to) throws IOException {
        ByteBuffer zeros = ByteBuffer.allocateDirect((int) Math.min(ZERO_CHUNK_BYTES, Math.max(1, to - from)));
        long pos = from;
        while (pos < to) {
            zeros.clear().limit((int) Math.min(zeros.capacity(), to - pos));
            while (zeros.hasRemaining()) pos += ch.write(zeros, pos);
        }
    }

    /** Structural changes (new segment, cleared tail) are flushed with metadata unless flushing is off entirely. */
    private static void forceMetadata(FileChannel ch, WalOptions options) throws IOException {
        if (options.syncMode() != SyncMode.UNSAFE_NO_SYNC) ch.force(true);
    }

    private static void syncDir(Path dir, WalOptions options) throws IOException {
        if (options.syncMode() == SyncMode.UNSAFE_NO_SYNC) return;
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        }
    }

    private void writerLoop() {
        var batch = new ArrayList<Pending>();
        var writes = new ArrayList<WalWrite>();
        while (true) {
            Pending first;
            try {
                first = queue.poll(POLL_NANOS, TimeUnit.NANOSECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
            if (first == null || first == WAKE_UP) {
                synchronized (queueGuard) {
                    if (closed && queue.isEmpty()) return;
                }
                continue;
            }
            batch.add(first);
            long bytes = RecordFormat.frameBytes(first.write().payload().length);
            while (batch.size() < options.batchRecordsMax()) {
                Pending p = queue.peek();
                if (p == null) break;
                if (p == WAKE_UP) {
                    queue.poll();
                    continue;
                }
                long b = RecordFormat.frameBytes(p.write().payload().length);
                if (bytes + b > options.batchBytesMax()) break;
                queue.poll(); // single consumer: this removes exactly p
                batch.add(p);
                bytes += b;
            }
            for (Pending p : batch) writes.add(p.write());
            AppendResult result = null;
            Throwable error = null;
            writeLock.lock();
            try {
                result = writeLocked(writes, true);
            } catch (Throwable t) {
                error = t;
            } finally {
                writeLock.unlock();
            }
            for (int i = 0; i < batch.size(); i++) {
                if (result != null) batch.get(i).future().complete(result.firstIndex() + i);
                else batch.get(i).future().completeExceptionally(error);
            }
            batch.clear();
            writes.clear();
        }
    }

    // ---------------------------------------------------------------- reads

    /**
     * Reads the record at {@code position} (as returned by {@link #appendSync} or seen during
     * {@link #open}), verifying its CRC.
     *
     * @throws IllegalArgumentException if the segment was released or the position is beyond the end
     */
    public WalRecordData read(WalPosition position) throws IOException {
        if (options.powerCut() != PowerCutEmulation.OFF) {
            writeLock.lock();
            try {
                if (heldLength > 0 && position.segmentSeq() == active.seq && position.offset() >= heldStart) return readHeld(position);
            } finally {
                writeLock.unlock();
            }
        }
        Segment seg = segments.get(position.segmentSeq());
        if (seg == null) throw new IllegalArgumentException("segment " + position.segmentSeq() + " is not held (released or never written)");
        ByteBuffer head = ByteBuffer.allocate(RecordFormat.HEADER_BYTES);
        readFully(seg.channel, head, position.offset());
        int len = head.getInt(0);
        byte type = head.get(4);
        int crc = head.getInt(5);
        if (type == RecordFormat.TYPE_NONE || len < 0 || len > options.recordBytesMax()) {
            throw new WalCorruptionException(seg.path, position.offset(), "no record frame here (type " + type + ", length " + len + ")");
        }
        byte[] payload = new byte[len];
        readFully(seg.channel, ByteBuffer.wrap(payload), position.offset() + RecordFormat.HEADER_BYTES);
        if (RecordFormat.crc(type, payload) != crc) throw new WalCorruptionException(seg.path, position.offset(), "CRC mismatch on read");
        return new WalRecordData(type, payload);
    }

    /** Power-cut emulation: a record that is still held in memory (caller holds writeLock). */
    private WalRecordData readHeld(WalPosition position) throws IOException {
        int rel = position.offset() - heldStart;
        Assert.that(rel + RecordFormat.HEADER_BYTES <= heldLength, "record at %s is beyond the held bytes [%d, %d)", position, heldStart,
                heldStart + heldLength);
        ByteBuffer b = ByteBuffer.wrap(held, 0, heldLength);
        int len = b.getInt(rel);
        byte type = b.get(rel + 4);
        int crc = b.getInt(rel + 5);
        if (type == RecordFormat.TYPE_NONE || len < 0 || len > options.recordBytesMax() || rel + RecordFormat.HEADER_BYTES + len > heldLength) {
            throw new WalCorruptionException(active.path, position.offset(), "no held record frame here (type " + type + ", length " + len + ")");
        }
        byte[] payload = java.util.Arrays.copyOfRange(held, rel + RecordFormat.HEADER_BYTES, rel + RecordFormat.HEADER_BYTES + len);
        if (RecordFormat.crc(type, payload) != crc) throw new WalCorruptionException(active.path, position.offset(), "CRC mismatch on a held record");
        return new WalRecordData(type, payload);
    }

    private static void readFully(FileChannel ch, ByteBuffer buf, long pos) throws IOException {
        while (buf.hasRemaining()) {
            int n = ch.read(buf, pos + buf.position());
            if (n < 0) throw new IOException("unexpected end of file at " + (pos + buf.position()));
        }
    }

    // ---------------------------------------------------------------- truncation and release

    /**
     * Removes every record after {@code lastKept} (so the next append gets index
     * {@code lastKept + 1}): later segments are deleted newest first, then the segment holding
     * {@code lastKept + 1} is replaced by a copy of its kept prefix. A crash part way leaves a
     * prefix of the old log, never a log with a hole. (Zeroing the cut-off records in place
     * would not do: if power failed with only some of the zeroed pages on disk, intact records
     * would follow zeros and recovery would rightly call it corruption.)
     */
    public void truncateAfter(long lastKept) throws IOException {
        writeLock.lock();
        try {
            IOException failed = failure;
            if (failed != null) throw new IOException("WAL failed earlier; reopen it", failed);
            long target = lastKept + 1;
            Assert.that(target >= firstIndex(), "truncateAfter(%d) before first held record %d", lastKept, firstIndex());
            if (target >= nextIndex) return;
            try {
                // Emulation: the file must hold the held bytes, as the real mode's page cache does; the flushed
                // copy of the kept prefix below then makes them durable, exactly as in the real mode.
                if (options.powerCut() != PowerCutEmulation.OFF) writeHeld();
                Segment holder = null;
                for (Segment s : segments.values()) if (s.firstIndex <= target) holder = s;
                Assert.that(holder != null, "no segment holds record %d", target);
                for (Segment s : new ArrayList<>(segments.descendingMap().values())) {
                    if (s.seq <= holder.seq) break;
                    deleteSegment(s);
                }
                int end = holder == active ? writeOffset : holder.endOffset;
                int[] found = {-1};
                MappedByteBuffer map = holder.channel.map(FileChannel.MapMode.READ_ONLY, 0, end);
                SegmentScanner.scan(map, options.recordBytesMax(), (i, t, b, off, len) -> {
                    if (i == target) found[0] = off;
                });
                int cut = target == holder.firstIndex ? SegmentHeader.BYTES : found[0];
                Assert.that(cut >= SegmentHeader.BYTES, "record %d not found in segment %d", target, holder.seq);
                if (cut < end) holder = replaceWithPrefix(holder, cut);
                active = holder;
                writeOffset = cut;
                nextIndex = target;
            } catch (IOException | RuntimeException e) {
                failure = e instanceof IOException ioe ? ioe : new IOException(e);
                throw e;
            }
        } finally {
            writeLock.unlock();
        }
    }

    /**
     * Atomically swaps {@code seg} for a preallocated file holding only its bytes before
     * {@code cut}: the copy is flushed under a temporary name and renamed over the original.
     */
    private Segment replaceWithPrefix(Segment seg, int cut) throws IOException {
        Path tmp = dir.resolve(String.format("%016x-truncated", seg.seq) + TMP_SUFFIX);
        FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ, StandardOpenOption.WRITE);
        try {
            zeroFill(ch, 0, options.segmentBytes());
            ByteBuffer buf = ByteBuffer.allocateDirect(ZERO_CHUNK_BYTES);
            for (long pos = 0; pos < cut; ) {
                buf.clear().limit((int) Math.min(buf.capacity(), cut - pos));
                readFully(seg.channel, buf, pos);
                buf.flip();
                while (buf.hasRemaining()) ch.write(buf, pos + buf.position());
                pos += buf.limit();
            }
            forceMetadata(ch, options);
            Files.move(tmp, seg.path, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            syncDir(dir, options);
        } catch (IOException | RuntimeException e) {
            closeQuietly(ch);
            throw e;
        }
        closeQuietly(seg.channel);
        var replaced = new Segment(seg.seq, seg.firstIndex, seg.path, ch, cut);
        segments.put(seg.seq, replaced);
        return replaced;
    }

    /**
     * Deletes every whole segment whose records all precede {@code index} (typically the first
     * record still needed after a snapshot). The active segment is never deleted. Oldest go
     * first, so a crash part way leaves a contiguous suffix.
     *
     * @return how many segments were deleted
     */
    public int releaseBefore(long index) throws IOException {
        writeLock.lock();
        try {
            int released = 0;
            for (Map.Entry<Long, Segment> e : segments.entrySet()) {
                Segment s = e.getValue();
                Map.Entry<Long, Segment> next = segments.higherEntry(s.seq);
                if (s == active || next == null || next.getValue().firstIndex > index) break;
                deleteSegment(s);
                released++;
            }
            return released;
        } finally {
            writeLock.unlock();
        }
    }

    private void deleteSegment(Segment s) throws IOException {
        segments.remove(s.seq);
        closeQuietly(s.channel);
        Files.delete(s.path);
        // Flush each deletion so that the set of files on disk is always contiguous.
        syncDir(dir, options);
    }

    // ---------------------------------------------------------------- state

    /** Index of the first record still held (earlier ones were released). */
    public long firstIndex() {
        return segments.firstEntry().getValue().firstIndex;
    }

    /** Index the next appended record will get. */
    public long nextIndex() {
        writeLock.lock();
        try {
            return nextIndex;
        } finally {
            writeLock.unlock();
        }
    }

    public int segmentCount() {
        return segments.size();
    }

    /** Number of flushes issued so far (0 in {@link SyncMode#UNSAFE_NO_SYNC}). */
    public long syncCount() {
        writeLock.lock();
        try {
            return syncCount;
        } finally {
            writeLock.unlock();
        }
    }

    public RecoveryReport recoveryReport() {
        return recoveryReport;
    }

    public WalOptions options() {
        return options;
    }

    public Path dir() {
        return dir;
    }

    /** Writes what is queued, stops the writer and closes the files. */
    @Override
    public void close() throws IOException {
        boolean started;
        synchronized (queueGuard) {
            if (closed) return;
            closed = true;
            started = writerStarted;
            queue.offer(WAKE_UP); // if the queue is full the writer is busy and will notice anyway
        }
        if (started) {
            try {
                writer.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        for (Pending p; (p = queue.poll()) != null; ) if (p != WAKE_UP) p.future().completeExceptionally(new IllegalStateException("WAL closed"));
        writeLock.lock();
        try {
            // Emulation: a clean close leaves unflushed bytes in the page cache, as the real mode does.
            if (failure == null) writeHeld();
            for (Segment s : segments.values()) closeQuietly(s.channel);
            Path unused = takeSpare();
            if (unused != null) Files.deleteIfExists(unused);
        } finally {
            writeLock.unlock();
        }
        try {
            dirLock.release();
        } finally {
            lockChannel.close();
        }
    }

    private static void closeQuietly(FileChannel ch) {
        try {
            ch.close();
        } catch (IOException e) {
            // Closing after a failure or deletion: nothing more can be lost here.
        }
    }
}
