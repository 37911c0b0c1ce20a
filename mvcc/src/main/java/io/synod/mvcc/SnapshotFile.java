package io.synod.mvcc;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.CRC32C;

/**
 * The backup file that etcd's {@code Maintenance.Snapshot} call streams (what {@code etcdctl
 * snapshot save} writes): a 28-byte header (magic {@code SYNODSNP}, format version, the log index
 * the state reflects, the length of what follows), an {@link MvccSnapshot} stream (whose own
 * trailer checksums it), zero padding, and the SHA-256 of everything before it. The padding puts
 * the digest where etcd puts its own, so that the file's length is 32 more than a multiple of
 * 512: {@code etcdctl snapshot save} checks exactly that before it accepts a download. It is
 * Synod's format, not etcd's bbolt file: restore it with {@code synod snapshot restore}, not with
 * {@code etcdctl snapshot restore}. Restoring unpacks the state into a new
 * store directory and forgets the old cluster's log position ({@link MvccStore#rebase}), so the
 * restored members start a new log while keeping every key, revision and lease.
 */
public final class SnapshotFile {
    private SnapshotFile() {}

    private static final byte[] MAGIC = "SYNODSNP".getBytes(StandardCharsets.US_ASCII);
    public static final int VERSION = 1;
    public static final int HEADER_BYTES = MAGIC.length + 4 + 8 + 8;
    public static final int DIGEST_BYTES = 32;
    /** The file length, less the digest, is a multiple of this (etcd's rule, from the disk sector size). */
    public static final int ALIGN_BYTES = 512;
    /** Bytes read from the file per chunk handed to the receiver. */
    static final int READ_CHUNK_BYTES = 1 << 20;

    /** The header that precedes a snapshot stream of {@code streamBytes} of a store at {@code appliedIndex}. */
    public static byte[] header(long appliedIndex, long streamBytes) {
        return ByteBuffer.allocate(HEADER_BYTES).put(MAGIC).putInt(VERSION).putLong(appliedIndex).putLong(streamBytes).array();
    }

    /** The zero padding that follows {@code bytesSoFar} bytes (header and stream) so the digest lands where etcd's does. */
    public static byte[] padding(long bytesSoFar) {
        return new byte[(int) ((ALIGN_BYTES - bytesSoFar % ALIGN_BYTES) % ALIGN_BYTES)];
    }

    /** A SHA-256 digest, as the file's last 32 bytes. */
    public static java.security.MessageDigest digest() {
        try {
            return java.security.MessageDigest.getInstance("SHA-256");
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK provides SHA-256", e);
        }
    }

    /** What a file's header says, after checking it is one of ours. */
    public record Header(int version, long appliedIndex, long streamBytes) {}

    public static Header readHeader(InputStream in, Path file) throws IOException {
        byte[] h = in.readNBytes(HEADER_BYTES);
        if (h.length < HEADER_BYTES || !Arrays.equals(Arrays.copyOf(h, MAGIC.length), MAGIC)) {
            throw new IOException(file + " is not a Synod snapshot (an etcd snapshot file cannot be restored into Synod)");
        }
        ByteBuffer b = ByteBuffer.wrap(h, MAGIC.length, HEADER_BYTES - MAGIC.length);
        int version = b.getInt();
        if (version != VERSION) throw new IOException(file + " has snapshot format " + version + "; this Synod reads " + VERSION);
        return new Header(version, b.getLong(), b.getLong());
    }

    /**
     * Verifies {@code file} and unpacks its state into {@code target} (which must not exist), as
     * the starting state of a new log. Returns the header. A corrupt or truncated file fails
     * before anything is written to {@code target}.
     */
    public static Header restore(Path file, Path target, MvccOptions options) throws IOException {
        if (Files.exists(target)) throw new IOException("restore target " + target + " already exists");
        Path staging = Files.createTempDirectory(target.toAbsolutePath().getParent(), ".restore-");
        Header header;
        long size = Files.size(file);
        if (size < HEADER_BYTES + DIGEST_BYTES || (size - DIGEST_BYTES) % ALIGN_BYTES != 0) {
            throw new IOException(file + " is not a Synod snapshot: " + size + " bytes is not 32 more than a multiple of 512");
        }
        var sha = digest();
        try (InputStream in = new java.security.DigestInputStream(new java.io.BufferedInputStream(Files.newInputStream(file)), sha);
                SnapshotReceiver receiver = new SnapshotReceiver(staging, SnapshotReceiver.Limits.defaults())) {
            header = readHeader(in, file);
            long left = header.streamBytes();
            if (left <= 0 || HEADER_BYTES + left + DIGEST_BYTES > size) {
                throw new IOException(file + " is damaged: its header announces " + left + " bytes of state in a file of " + size);
            }
            int seq = 0;
            while (left > 0) {
                byte[] data = in.readNBytes((int) Math.min(READ_CHUNK_BYTES, left));
                if (data.length == 0) throw new IOException(file + " is truncated");
                left -= data.length;
                CRC32C crc = new CRC32C();
                crc.update(data);
                receiver.accept(new SnapshotChunk(header.appliedIndex(), seq++, data, (int) crc.getValue(), left == 0));
            }
            byte[] pad = in.readNBytes((int) (size - DIGEST_BYTES - HEADER_BYTES - header.streamBytes()));
            for (byte x : pad) if (x != 0) throw new IOException(file + " is damaged: non-zero padding");
            byte[] computed = sha.digest();
            byte[] stored = in.readNBytes(DIGEST_BYTES);
            if (!java.security.MessageDigest.isEqual(computed, stored)) throw new IOException(file + " is damaged: SHA-256 checksum mismatch");
            receiver.installInto(target);
        } finally {
            deleteTree(staging);
        }
        try (MvccStore store = MvccStore.open(target, options)) {
            store.rebase(0);
        }
        return header;
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) return;
        try (var s = Files.walk(dir)) {
            for (Path p : s.sorted(java.util.Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        }
    }
}
