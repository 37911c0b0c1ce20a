package io.synod.server.transport;

import io.grpc.Drainable;
import io.grpc.KnownLength;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;

/**
 * Raw byte arrays to and from gRPC's message streams without the copies a plain stream costs.
 * gRPC copies an outgoing stream that is neither {@link Drainable} nor {@link KnownLength} through
 * a fresh 8 KiB buffer per message, and {@link InputStream#readAllBytes()} reads an incoming one
 * in 16 KiB chunks: at one client that was four fifths of a member's allocation (about 145 KB per
 * put at the leader, and a young collection every quarter second). Streams of known length are
 * read into one array of exactly their size and written by handing gRPC the array.
 */
public final class WireBytes {
    private WireBytes() {}

    /** A stream of {@code bytes} that gRPC writes out in one copy (the array is not copied here, so it must not change). */
    public static InputStream stream(byte[] bytes) {
        return new ArrayStream(bytes);
    }

    /** Reads the whole message: in one exact-size array when the stream knows its length, else as {@link InputStream#readAllBytes()}. */
    public static byte[] read(InputStream in) throws IOException {
        if (in instanceof ArrayStream a && a.untouched()) return a.array();
        if (!(in instanceof KnownLength)) return in.readAllBytes();
        int n = in.available();
        byte[] b = new byte[n];
        int got = in.readNBytes(b, 0, n);
        if (got != n) throw new IOException("message ended after " + got + " of its " + n + " bytes");
        int more = in.read();
        if (more < 0) return b;
        // Longer than it said: keep every byte rather than trust the length.
        byte[] rest = in.readAllBytes();
        byte[] all = new byte[n + 1 + rest.length];
        System.arraycopy(b, 0, all, 0, n);
        all[n] = (byte) more;
        System.arraycopy(rest, 0, all, n + 1, rest.length);
        return all;
    }

    private static final class ArrayStream extends ByteArrayInputStream implements Drainable, KnownLength {
        ArrayStream(byte[] bytes) {
            super(bytes);
        }

        boolean untouched() {
            return pos == 0 && count == buf.length;
        }

        byte[] array() {
            pos = count;
            return buf;
        }

        @Override
        public int drainTo(OutputStream target) throws IOException {
            int n = count - pos;
            target.write(buf, pos, n);
            pos = count;
            return n;
        }
    }
}
