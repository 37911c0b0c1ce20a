package io.synod.mvcc;

import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.zip.CRC32C;

/**
 * Receives a snapshot stream chunk by chunk into a staging area, checking sequence and per-chunk
 * checksums as chunks arrive and the whole-stream checksum at the end, then unpacks it into a
 * fresh directory that {@link MvccStore#open} can open. Nothing reaches the target directory
 * unless the whole stream verified. The raw stream is spooled to disk first, which costs the
 * snapshot's size again in temporary space but keeps unpacking trivially restartable.
 */
public final class SnapshotReceiver implements AutoCloseable {
    /**
     * @param maxTotalBytes largest stream accepted, so a runaway sender cannot fill the disk
     * @param maxFiles      most files a snapshot may contain
     */
    public record Limits(long maxTotalBytes, int maxFiles) {
        public static Limits defaults() {
            return new Limits(64L << 30, 100_000);
        }
    }

    /** Raised when a stream is out of order, corrupt, or outside the limits. */
    public static final class SnapshotException extends IOException {
        private static final long serialVersionUID = 1L;

        SnapshotException(String message) {
            super(message);
        }
    }

    private final Path spool;
    private final Limits limits;
    private final OutputStream out;
    private int expectedSeq;
    private long appliedIndex = -1;
    private long received;
    private boolean complete;

    public SnapshotReceiver(Path stagingDir, Limits limits) throws IOException {
        Files.createDirectories(stagingDir);
        this.spool = Files.createTempFile(stagingDir, "snapshot", ".stream");
        this.limits = limits;
        this.out = Files.newOutputStream(spool);
    }

    public void accept(SnapshotChunk chunk) throws IOException {
        if (complete) throw new SnapshotException("chunk " + chunk.seq() + " after the last chunk");
        if (chunk.seq() != expectedSeq) throw new SnapshotException("expected chunk " + expectedSeq + ", got " + chunk.seq());
        if (appliedIndex >= 0 && chunk.appliedIndex() != appliedIndex) {
            throw new SnapshotException("chunk of snapshot " + chunk.appliedIndex() + " inside snapshot " + appliedIndex);
        }
        CRC32C c = new CRC32C();
        c.update(chunk.data());
        if ((int) c.getValue() != chunk.crc()) throw new SnapshotException("checksum mismatch in chunk " + chunk.seq());
        received += chunk.data().length;
        if (received > limits.maxTotalBytes()) throw new SnapshotException("snapshot exceeds " + limits.maxTotalBytes() + " bytes");
        appliedIndex = chunk.appliedIndex();
        out.write(chunk.data());
        expectedSeq++;
        complete = chunk.last();
    }

    /** Verifies the complete stream and unpacks it into {@code target}, which must not exist yet. */
    public long installInto(Path target) throws IOException {
        if (!complete) throw new SnapshotException("snapshot incomplete: " + expectedSeq + " chunks received");
        out.close();
        if (Files.exists(target)) throw new SnapshotException("install target already exists: " + target);
        Path unpacking = Files.createTempDirectory(spool.getParent(), "unpack");
        CRC32C total = new CRC32C();
        try (InputStream raw = Files.newInputStream(spool);
                DataInputStream in = new DataInputStream(new java.io.BufferedInputStream(raw))) {
            byte[] buf = new byte[64 * 1024];
            int files = 0;
            while (true) {
                int nameLen = in.readUnsignedShort();
                total.update(new byte[] {(byte) (nameLen >>> 8), (byte) nameLen});
                if (nameLen == 0) break;
                if (++files > limits.maxFiles()) throw new SnapshotException("more than " + limits.maxFiles() + " files");
                byte[] nameBytes = in.readNBytes(nameLen);
                if (nameBytes.length != nameLen) throw new SnapshotException("truncated file name");
                total.update(nameBytes);
                String name = new String(nameBytes, StandardCharsets.UTF_8);
                if (name.contains("/") || name.contains("\\") || name.equals(".") || name.equals("..")) {
                    throw new SnapshotException("unsafe file name in snapshot: " + name);
                }
                long size = in.readLong();
                total.update(ByteBuffer.allocate(8).putLong(size).array());
                if (size < 0 || size > received) throw new SnapshotException("bad size " + size + " for " + name);
                try (FileChannel f = FileChannel.open(unpacking.resolve(name), StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                    long left = size;
                    while (left > 0) {
                        int n = in.read(buf, 0, (int) Math.min(buf.length, left));
                        if (n < 0) throw new EOFException("snapshot ends inside " + name);
                        ByteBuffer b = ByteBuffer.wrap(buf, 0, n);
                        while (b.hasRemaining()) f.write(b);
                        total.update(buf, 0, n);
                        left -= n;
                    }
                    // Durable before the directory is published: an installed store must never hold a torn file.
                    f.force(true);
                }
            }
            int expected = in.readInt();
            if (expected != (int) total.getValue()) throw new SnapshotException("whole-snapshot checksum mismatch");
            if (in.read() != -1) throw new SnapshotException("trailing bytes after snapshot checksum");
        } catch (EOFException e) {
            throw new SnapshotException("snapshot stream truncated: " + e.getMessage());
        }
        syncDir(unpacking);
        Files.move(unpacking, target, StandardCopyOption.ATOMIC_MOVE);
        syncDir(target.toAbsolutePath().getParent());
        Files.deleteIfExists(spool);
        return appliedIndex;
    }

    private static void syncDir(Path dir) throws IOException {
        try (FileChannel c = FileChannel.open(dir, StandardOpenOption.READ)) {
            c.force(true);
        }
    }

    @Override
    public void close() throws IOException {
        out.close();
        Files.deleteIfExists(spool);
    }
}
