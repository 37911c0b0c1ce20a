package io.synod.mvcc;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;

/**
 * One cluster member's metadata as the replicated state records it (etcd's {@code Member}): id,
 * name, peer URLs, client URLs and whether it is a learner. It is state like any other: it
 * changes only when a membership change is applied at a log index, so every member, including one
 * that joins later or restores a snapshot, knows every member's name and URLs. A member added with
 * {@code MemberAdd} has no name or client URLs until it starts and publishes them, exactly as etcd
 * lists it. The store keeps it opaque to consensus: mvcc never sees Raft types.
 */
public record Member(long id, String name, List<String> peerUrls, List<String> clientUrls, boolean learner) {
    /** Bounds that keep a corrupt or hostile record from allocating without limit. */
    public static final int URLS_MAX = 64;
    public static final int TEXT_BYTES_MAX = 4096;

    public Member {
        if (id == 0) throw new IllegalArgumentException("member id 0 is reserved");
        peerUrls = List.copyOf(peerUrls);
        clientUrls = List.copyOf(clientUrls);
        if (peerUrls.size() > URLS_MAX || clientUrls.size() > URLS_MAX) {
            throw new IllegalArgumentException("member " + Long.toHexString(id) + " has more than " + URLS_MAX + " URLs");
        }
    }

    public Member withPeerUrls(List<String> urls) {
        return new Member(id, name, urls, clientUrls, learner);
    }

    public Member withLearner(boolean isLearner) {
        return new Member(id, name, peerUrls, clientUrls, isLearner);
    }

    /** The attributes a member publishes about itself when it starts (etcd's publish). */
    public Member withAttributes(String memberName, List<String> urls) {
        return new Member(id, memberName, peerUrls, urls, learner);
    }

    // Encoding: [version=1][id:long][learner:byte][name:utf][peerCount:short]{utf}[clientCount:short]{utf}.
    private static final byte VERSION = 1;

    public byte[] encode() {
        var bytes = new ByteArrayOutputStream();
        try (var out = new DataOutputStream(bytes)) {
            write(out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    /** Writes this member to {@code out} (used inside larger encodings too). */
    public void write(DataOutputStream out) throws IOException {
        out.writeByte(VERSION);
        out.writeLong(id);
        out.writeBoolean(learner);
        out.writeUTF(name);
        writeUrls(out, peerUrls);
        writeUrls(out, clientUrls);
    }

    private static void writeUrls(DataOutputStream out, List<String> urls) throws IOException {
        out.writeShort(urls.size());
        for (String u : urls) out.writeUTF(u);
    }

    public static Member decode(byte[] data) {
        try (var in = new DataInputStream(new java.io.ByteArrayInputStream(data))) {
            Member m = read(in);
            if (in.available() != 0) throw new IllegalArgumentException("trailing bytes after member " + Long.toHexString(m.id()));
            return m;
        } catch (IOException e) {
            throw new IllegalArgumentException("corrupt member record: " + e, e);
        }
    }

    /** Reads one member written by {@link #write}. */
    public static Member read(DataInputStream in) throws IOException {
        byte v = in.readByte();
        if (v != VERSION) throw new IOException("unknown member record version " + v);
        long id = in.readLong();
        boolean learner = in.readBoolean();
        String name = text(in);
        return new Member(id, name, readUrls(in), readUrls(in), learner);
    }

    private static List<String> readUrls(DataInputStream in) throws IOException {
        int n = in.readUnsignedShort();
        if (n > URLS_MAX) throw new IOException(n + " URLs exceed " + URLS_MAX);
        var urls = new ArrayList<String>(n);
        for (int i = 0; i < n; i++) urls.add(text(in));
        return urls;
    }

    private static String text(DataInputStream in) throws IOException {
        String s = in.readUTF(); // length-prefixed by an unsigned short: at most 64 KiB
        if (s.length() > TEXT_BYTES_MAX) throw new IOException("text of " + s.length() + " chars exceeds " + TEXT_BYTES_MAX);
        return s;
    }
}
