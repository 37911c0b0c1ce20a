package io.synod.storage.wal;

import java.io.IOException;
import java.nio.file.Path;

/**
 * The WAL found damage it must not repair by itself: a bad record with intact records after it,
 * a broken segment header, or a gap between segments. Truncating there could drop writes that
 * were acknowledged, so the log refuses to open and names the file and byte offset for an
 * operator (see {@code synod wal dump}).
 */
public final class WalCorruptionException extends IOException {
    private static final long serialVersionUID = 1L;

    private final transient Path file;
    private final long offset;

    public WalCorruptionException(Path file, long offset, String reason) {
        super("WAL corruption in " + file + " at byte offset " + offset + ": " + reason);
        this.file = file;
        this.offset = offset;
    }

    public Path file() {
        return file;
    }

    public long offset() {
        return offset;
    }
}
