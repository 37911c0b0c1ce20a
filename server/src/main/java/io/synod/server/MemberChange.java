package io.synod.server;

import io.synod.mvcc.Member;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;

/**
 * The member metadata a membership change carries in its Raft context (etcd puts the member in
 * the ConfChange's context the same way): members written whole ({@code upserts}: added, updated,
 * promoted, or publishing their name and client URLs) and ids removed. Applying the conf change
 * applies this to the store in the same write as the applied index ({@link MvccStateMachine}), so
 * Raft membership and member metadata never disagree at an index.
 */
record MemberChange(List<Member> upserts, List<Long> removals) {
    /** Bounds for decoding, so a corrupt context cannot allocate without limit. */
    static final int MEMBERS_MAX = 1024;

    MemberChange {
        upserts = List.copyOf(upserts);
        removals = List.copyOf(removals);
    }

    static MemberChange upsert(Member m) {
        return new MemberChange(List.of(m), List.of());
    }

    static MemberChange remove(long id) {
        return new MemberChange(List.of(), List.of(id));
    }

    // [version=1][upserts:short]{Member}[removals:short]{id:long}
    private static final byte VERSION = 1;

    byte[] encode() {
        var bytes = new ByteArrayOutputStream();
        try (var out = new DataOutputStream(bytes)) {
            out.writeByte(VERSION);
            out.writeShort(upserts.size());
            for (Member m : upserts) m.write(out);
            out.writeShort(removals.size());
            for (long id : removals) out.writeLong(id);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    static MemberChange decode(byte[] context) {
        try (var in = new DataInputStream(new ByteArrayInputStream(context))) {
            byte v = in.readByte();
            if (v != VERSION) throw new IOException("unknown member change version " + v);
            int n = in.readUnsignedShort();
            if (n > MEMBERS_MAX) throw new IOException(n + " members exceed " + MEMBERS_MAX);
            var upserts = new ArrayList<Member>(n);
            for (int i = 0; i < n; i++) upserts.add(Member.read(in));
            int r = in.readUnsignedShort();
            if (r > MEMBERS_MAX) throw new IOException(r + " removals exceed " + MEMBERS_MAX);
            var removals = new ArrayList<Long>(r);
            for (int i = 0; i < r; i++) removals.add(in.readLong());
            if (in.available() != 0) throw new IOException("trailing bytes");
            return new MemberChange(upserts, removals);
        } catch (IOException e) {
            throw new IllegalArgumentException("corrupt member change context: " + e.getMessage(), e);
        }
    }
}
