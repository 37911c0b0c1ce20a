package io.synod.mvcc;

import io.synod.common.Assert;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import java.util.zip.CRC32C;

/**
 * A consistent copy of the store (a RocksDB checkpoint: hard links to immutable files, taken
 * while no command is being applied) served as a stream of bounded {@link SnapshotChunk}s for a
 * follower that is too far behind the log. Stream format: per file, name length (u16), name
 * (UTF-8), size (u64), bytes; then a u16 zero and the CRC32C (u32) of everything before it.
 * Closing deletes the checkpoint. Install on the other side with {@link SnapshotReceiver}.
 */
public final class MvccSnapshot implements AutoCloseable {
    private final Path checkpoint;
    private final long appliedIndex;
    private final int chunkBytes;
    private final List<Object> segments = new ArrayList<>(); // byte[] headers and Path files, in stream order
    private final CRC32C total = new CRC32C();
    private int segment;
    private InputStream open;
    private int seq;
    private boolean done;

    MvccSnapshot(Path checkpoint, long appliedIndex, int chunkBytes) throws IOException {
        Assert.that(chunkBytes >= 1024, "snapshot chunks must be at least 1024 bytes: %d", chunkBytes);
        this.checkpoint = checkpoint;
        this.appliedIndex = appliedIndex;
        this.chunkBytes = chunkBytes;
        List<Path> files;
        try (Stream<Path> s = Files.list(checkpoint)) {
            files = s.filter(Files::isRegularFile).sorted().toList();
        }
        for (Path f : files) {
            byte[] name = f.getFileName().toString().getBytes(StandardCharsets.UTF_8);
            Assert.that(name.length > 0 && name.length <= 512, "snapshot file name length %d out of range", name.length);
            ByteArrayOutputStream h = new ByteArrayOutputStream();
            DataOutputStream d = new DataOutputStream(h);
            d.writeShort(name.length);
            d.write(name);
            d.writeLong(Files.size(f));
            segments.add(h.toByteArray());
            segments.add(f);
        }
    }

    public long appliedIndex() {
        return appliedIndex;
    }

    /** Bytes the whole stream will carry (file headers, file contents, end marker and checksum). */
    public long totalBytes() {
        long n = 6;
        for (Object s : segments) {
            try {
                n += s instanceof byte[] h ? h.length : Files.size((Path) s);
            } catch (IOException e) {
                throw new UncheckedIOException("sizing snapshot checkpoint " + checkpoint, e);
            }
        }
        return n;
    }

    /** True once the last chunk has been returned. */
    public boolean finished() {
        return done;
    }

    /** The next chunk (at most the configured size), the last one flagged as such. */
    public SnapshotChunk nextChunk() {
        Assert.that(!done, "snapshot stream of index %d already finished", appliedIndex);
        try {
            ByteArrayOutputStream out = new ByteArrayOutputStream(chunkBytes);
            byte[] buf = new byte[Math.min(chunkBytes, 64 * 1024)];
            while (out.size() < chunkBytes && segment < segments.size()) {
                Object s = segments.get(segment);
                if (s instanceof byte[] header) {
                    if (out.size() + header.length > chunkBytes && out.size() > 0) break;
                    out.write(header);
                    total.update(header);
                    segment++;
                } else {
                    if (open == null) open = Files.newInputStream((Path) s);
                    int n = open.read(buf, 0, Math.min(buf.length, chunkBytes - out.size()));
                    if (n < 0) {
                        open.close();
                        open = null;
                        segment++;
                    } else {
                        out.write(buf, 0, n);
                        total.update(buf, 0, n);
                    }
                }
            }
            if (segment == segments.size() && out.size() + 6 <= chunkBytes) {
                out.write(0);
                out.write(0);
                total.update(new byte[] {0, 0});
                int crc = (int) total.getValue();
                out.write(crc >>> 24);
                out.write(crc >>> 16);
                out.write(crc >>> 8);
                out.write(crc);
                done = true;
            }
            byte[] data = out.toByteArray();
            CRC32C c = new CRC32C();
            c.update(data);
            return new SnapshotChunk(appliedIndex, seq++, data, (int) c.getValue(), done);
        } catch (IOException e) {
            throw new UncheckedIOException("reading snapshot checkpoint " + checkpoint, e);
        }
    }

    /** Deletes the checkpoint (the store's own files are unaffected: the checkpoint holds links). */
    @Override
    public void close() throws IOException {
        if (open != null) open.close();
        try (Stream<Path> s = Files.walk(checkpoint)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) Files.delete(p);
        }
    }
}
