package io.synod.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.kv.GetResponse;
import io.etcd.jetcd.options.GetOption;
import io.synod.server.transport.SnapshotLimits;
import io.synod.storage.raftlog.RaftLogOptions;
import io.synod.storage.wal.WalOptions;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Log compaction and snapshot install in a real three-member cluster with a small snapshot count
 * (50 entries, 10 kept for catch-up), small WAL segments and small snapshot chunks: a member
 * restarted after compaction comes back with the same data and membership from the snapshot
 * metadata plus the later entries while its WAL lost its oldest segments, and a member stopped
 * while the others compacted past its log catches up by a snapshot and converges. Conditions are
 * awaited; nothing asserts on timing.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class SnapshotInstallTest {
    static final long SNAPSHOT_COUNT = 50;
    static final long CATCHUP_ENTRIES = 10;
    static final int VALUE_BYTES = 2048;

    @TempDir Path dir;

    static ServerConfig small(ServerConfig c) {
        var wal = WalOptions.DEFAULTS.withRecordBytesMax(32 << 10).withSegmentBytes(128 << 10);
        return c.withSnapshots(SNAPSHOT_COUNT, CATCHUP_ENTRIES, SnapshotLimits.DEFAULTS.withChunkBytes(4096),
                new RaftLogOptions(wal, 1 << 20));
    }

    static ByteSequence b(String s) {
        return ByteSequence.from(s, StandardCharsets.UTF_8);
    }

    static String value(int i) {
        return ("v" + i + "-").repeat(VALUE_BYTES).substring(0, VALUE_BYTES);
    }

    static void putAll(Client client, int from, int to) throws Exception {
        for (int i = from; i < to; i++) client.getKVClient().put(b(String.format("key%04d", i)), b(value(i))).get(15, TimeUnit.SECONDS);
    }

    /** Every key with its value, serializable (local) read of one member. */
    static GetResponse localRange(Client client) throws Exception {
        return client.getKVClient().get(b("\0"), GetOption.builder().withRange(b("\0")).withSerializable(true).build()).get(15, TimeUnit.SECONDS);
    }

    static List<String> dump(GetResponse r) {
        return r.getKvs().stream().map(kv -> kv.getKey().toString(StandardCharsets.UTF_8) + "=" + kv.getValue().toString(StandardCharsets.UTF_8)
                + "@" + kv.getModRevision()).toList();
    }

    static void await(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) throw new AssertionError("never happened: " + what);
            Thread.sleep(50);
        }
    }

    static List<Long> walSegments(Path dataDir) throws IOException {
        try (Stream<Path> s = Files.list(dataDir.resolve("wal"))) {
            return s.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".wal"))
                    .map(n -> Long.parseLong(n.substring(0, n.length() - 4), 16)).sorted().toList();
        }
    }

    static Client client(TestCluster c, int i) {
        return Client.builder().endpoints(c.endpoint(i)).build();
    }

    /** Waits until every running member applied what {@code reference} applied, then compares their whole key space. */
    static void assertConverged(TestCluster cluster, int reference) throws Exception {
        long applied = cluster.servers[reference].driver().appliedIndex();
        for (int i = 0; i < cluster.servers.length; i++) {
            int m = i;
            if (cluster.servers[m] == null) continue;
            await("member " + m + " applied " + applied, () -> cluster.servers[m].driver().appliedIndex() >= applied);
        }
        try (Client ref = client(cluster, reference)) {
            GetResponse expected = localRange(ref);
            for (int i = 0; i < cluster.servers.length; i++) {
                if (cluster.servers[i] == null || i == reference) continue;
                try (Client c = client(cluster, i)) {
                    GetResponse got = localRange(c);
                    assertThat(dump(got)).as("keys of member %d", i).isEqualTo(dump(expected));
                    assertThat(got.getHeader().getRevision()).as("revision of member %d", i).isEqualTo(expected.getHeader().getRevision());
                }
            }
        }
    }

    @Test
    void restartAfterCompactionRecoversDataAndMembershipAndTheWalShrank() throws Exception {
        try (var cluster = new TestCluster(dir, 3, SnapshotInstallTest::small)) {
            int leader = cluster.awaitLeader(10_000);
            try (Client c = client(cluster, leader)) {
                putAll(c, 0, 300);
            }
            int follower = (leader + 1) % 3;
            Path followerDir = cluster.configs.get(follower).dataDir();
            await("follower released its oldest WAL segments", () -> {
                try {
                    return walSegments(followerDir).get(0) > 1;
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            List<Long> before = walSegments(followerDir);
            assertConverged(cluster, leader);

            cluster.stop(follower);
            cluster.start(follower);
            // The restarted member replays from its snapshot: segment 1 (the bootstrap entry) is gone for good.
            assertThat(walSegments(followerDir).get(0)).isGreaterThan(1L);
            assertThat(walSegments(followerDir).get(0)).isGreaterThanOrEqualTo(before.get(0));
            assertConverged(cluster, leader);

            // Membership came from the snapshot metadata: with the third member down, the restarted one must vote and ack.
            int other = 3 - leader - follower;
            cluster.stop(other);
            int newLeader = cluster.awaitLeader(20_000);
            try (Client c = client(cluster, newLeader)) {
                putAll(c, 300, 310);
            }
            assertConverged(cluster, newLeader);
            try (Client c = client(cluster, follower)) {
                List<KeyValue> kvs = localRange(c).getKvs();
                assertThat(kvs).hasSize(310);
            }
        }
    }

    @Test
    void stoppedFollowerCatchesUpBySnapshotAndConverges() throws Exception {
        try (var cluster = new TestCluster(dir, 3, SnapshotInstallTest::small)) {
            int leader = cluster.awaitLeader(10_000);
            int lagging = (leader + 1) % 3;
            try (Client c = client(cluster, leader)) {
                putAll(c, 0, 20);
                cluster.stop(lagging);
                putAll(c, 20, 300);
                // Deletes and overwrites too, so the snapshot is not just a prefix of puts.
                c.getKVClient().delete(b("key0003")).get(15, TimeUnit.SECONDS);
                c.getKVClient().put(b("key0005"), b("rewritten")).get(15, TimeUnit.SECONDS);
            }
            long sentBefore = cluster.servers[leader].snapshotsSent();
            cluster.start(lagging);
            await("a snapshot was sent to the restarted member", () -> cluster.servers[leader].snapshotsSent() > sentBefore);
            assertConverged(cluster, leader);
            // After the install the member keeps working on appends.
            try (Client c = client(cluster, lagging)) {
                putAll(c, 300, 320);
            }
            assertConverged(cluster, leader);
            // And its installed state survives a restart.
            cluster.stop(lagging);
            cluster.start(lagging);
            assertConverged(cluster, leader);
        }
    }
}
