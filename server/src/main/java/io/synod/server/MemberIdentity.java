package io.synod.server;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.Optional;

/**
 * Who a data directory belongs to: the member's name, its Raft id and its cluster's id, in
 * {@code <data-dir>/member} (three {@code key=value} lines). A founding member derives its ids
 * from names, a member added later is given its id by the leader, so neither can be recomputed from
 * flags on restart (etcd likewise ignores {@code --initial-cluster} once a data dir exists); this
 * file settles them. It is written before the first log entry (atomically: temporary file, fsync,
 * rename, fsync of the directory), and checked on every start, which is what lets a member refuse
 * a data dir that belongs to another member or another cluster.
 */
record MemberIdentity(String name, long memberId, long clusterId) {
    static final String FILE = "member";

    ServerConfig.Identity identity() {
        return new ServerConfig.Identity(memberId, clusterId);
    }

    static Optional<MemberIdentity> read(Path dataDir) throws IOException {
        Path f = dataDir.resolve(FILE);
        if (!Files.exists(f)) return Optional.empty();
        var fields = new LinkedHashMap<String, String>();
        for (String line : Files.readAllLines(f, StandardCharsets.UTF_8)) {
            int eq = line.indexOf('=');
            if (eq > 0) fields.put(line.substring(0, eq), line.substring(eq + 1));
        }
        try {
            return Optional.of(new MemberIdentity(require(fields, "name", f), Long.parseUnsignedLong(require(fields, "member", f), 16),
                    Long.parseUnsignedLong(require(fields, "cluster", f), 16)));
        } catch (NumberFormatException e) {
            throw new IOException("corrupt member identity file " + f + ": " + e.getMessage(), e);
        }
    }

    private static String require(java.util.Map<String, String> fields, String key, Path f) throws IOException {
        String v = fields.get(key);
        if (v == null) throw new IOException("member identity file " + f + " lacks '" + key + "'");
        return v;
    }

    void write(Path dataDir) throws IOException {
        Files.createDirectories(dataDir);
        Path tmp = dataDir.resolve(FILE + ".tmp");
        String text = "name=" + name + "\nmember=" + Long.toHexString(memberId) + "\ncluster=" + Long.toHexString(clusterId) + "\n";
        Files.writeString(tmp, text, StandardCharsets.UTF_8);
        try (FileChannel c = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
            c.force(true);
        }
        Files.move(tmp, dataDir.resolve(FILE), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        try (FileChannel d = FileChannel.open(dataDir, StandardOpenOption.READ)) {
            d.force(true);
        }
    }
}
