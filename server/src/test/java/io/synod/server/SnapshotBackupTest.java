package io.synod.server;

import static io.synod.server.ClusterTest.b;
import static io.synod.server.ClusterTest.s;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.etcd.jetcd.Client;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.LeaseOption;
import io.etcd.jetcd.options.PutOption;
import io.synod.mvcc.MvccOptions;
import io.synod.mvcc.SnapshotFile;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Backups: a snapshot streamed by Maintenance.Snapshot (through jetcd, and through {@code etcdctl
 * snapshot save}) restores into a new three-member cluster with every key, the revision and the
 * leases of the old one, and that cluster takes writes; a damaged backup is refused before
 * anything is written.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class SnapshotBackupTest {
    @TempDir Path dir;

    static void restoreInto(Path file, ServerConfig c) {
        try {
            Files.createDirectories(c.dataDir());
            SnapshotFile.restore(file, c.dataDir().resolve("mvcc"), MvccOptions.defaults());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Test
    void aSavedSnapshotRestoresIntoANewClusterWithKeysRevisionAndLeases() throws Exception {
        Path backup = dir.resolve("backup.db");
        long revision;
        long leaseId;
        try (var old = new TestCluster(dir.resolve("old"), 3)) {
            int leader = old.awaitLeader(10_000);
            try (Client c = ClusterTest.client(old, (leader + 1) % 3)) {
                for (int i = 0; i < 50; i++) c.getKVClient().put(b("k" + i), b("v" + i)).get(10, TimeUnit.SECONDS);
                c.getKVClient().delete(b("k7")).get(10, TimeUnit.SECONDS);
                leaseId = c.getLeaseClient().grant(600).get(10, TimeUnit.SECONDS).getID();
                revision = c.getKVClient().put(b("leased"), b("x"), PutOption.builder().withLeaseId(leaseId).build()).get(10, TimeUnit.SECONDS)
                        .getHeader().getRevision();
                try (OutputStream out = Files.newOutputStream(backup)) {
                    c.getMaintenanceClient().snapshot(out).get(30, TimeUnit.SECONDS);
                }
            }
        }
        try (var restored = new TestCluster(dir.resolve("new"), 3, cfg -> {
            restoreInto(backup, cfg);
            return cfg;
        })) {
            int leader = restored.awaitLeader(10_000);
            try (Client c = ClusterTest.client(restored, (leader + 2) % 3)) {
                var all = c.getKVClient().get(b("k"), GetOption.builder().isPrefix(true).build()).get(10, TimeUnit.SECONDS);
                assertThat(all.getCount()).isEqualTo(49);
                assertThat(all.getHeader().getRevision()).isEqualTo(revision);
                assertThat(s(c.getKVClient().get(b("k42")).get(10, TimeUnit.SECONDS).getKvs().get(0).getValue())).isEqualTo("v42");
                var ttl = c.getLeaseClient().timeToLive(leaseId, LeaseOption.builder().withAttachedKeys().build()).get(10, TimeUnit.SECONDS);
                assertThat(ttl.getTTL()).isPositive();
                assertThat(ttl.getKeys()).extracting(ClusterTest::s).containsExactly("leased");
                long next = c.getKVClient().put(b("after"), b("restore")).get(10, TimeUnit.SECONDS).getHeader().getRevision();
                assertThat(next).isEqualTo(revision + 1);
                c.getLeaseClient().revoke(leaseId).get(10, TimeUnit.SECONDS);
                assertThat(c.getKVClient().get(b("leased")).get(10, TimeUnit.SECONDS).getCount()).isZero();
            }
        }
    }

    @Test
    void etcdctlSnapshotSaveWritesARestorableFileAndDamageIsDetected() throws Exception {
        Path etcdctl = EtcdctlTest.etcdctl();
        Assumptions.assumeTrue(etcdctl != null, "etcdctl is not installed (apt-get install etcd-client); skipping the etcdctl test");
        Path backup = dir.resolve("etcdctl.db");
        try (var cluster = new TestCluster(dir.resolve("c"), 3)) {
            cluster.awaitLeader(10_000);
            String e0 = cluster.endpoint(0).replace("http://", "");
            EtcdctlTest.run(etcdctl, e0, null, "put", "saved", "yes");
            assertThat(EtcdctlTest.run(etcdctl, e0, null, "snapshot", "save", backup.toString())).contains("Snapshot saved at " + backup);
        }
        Path target = dir.resolve("restored").resolve("mvcc");
        Files.createDirectories(target.getParent());
        SnapshotFile.restore(backup, target, MvccOptions.defaults());
        try (var store = io.synod.mvcc.MvccStore.open(target, MvccOptions.defaults())) {
            assertThat(store.range(io.synod.mvcc.RangeRequest.single(io.synod.mvcc.Bytes.utf8("saved"))).kvs()).hasSize(1);
            assertThat(store.appliedIndex()).isZero();
            assertThat(store.members()).as("the old cluster's membership is not carried over").isEmpty();
        }

        byte[] bytes = Files.readAllBytes(backup);
        bytes[bytes.length / 2] ^= 0x5a;
        Path damaged = dir.resolve("damaged.db");
        Files.write(damaged, bytes);
        Path nowhere = dir.resolve("nowhere").resolve("mvcc");
        Files.createDirectories(nowhere.getParent());
        assertThatThrownBy(() -> SnapshotFile.restore(damaged, nowhere, MvccOptions.defaults())).isInstanceOf(IOException.class)
                .hasMessageContaining("checksum");
        assertThat(nowhere).doesNotExist();
        Path notOurs = dir.resolve("not-ours.db");
        Files.writeString(notOurs, "an etcd bbolt file would start differently");
        assertThatThrownBy(() -> SnapshotFile.restore(notOurs, nowhere, MvccOptions.defaults())).hasMessageContaining("not a Synod snapshot");
    }

    @Test
    void snapshotDownloadsBeyondTheLimitAreRefusedWhileOthersStall() throws Exception {
        try (var cluster = new TestCluster(dir.resolve("busy"), 1)) {
            cluster.awaitLeader(10_000);
            try (Client c = ClusterTest.client(cluster, 0)) {
                var rnd = new java.util.SplittableRandom(3);
                for (int i = 0; i < 16; i++) {
                    byte[] v = new byte[256 * 1024];
                    rnd.nextBytes(v); // incompressible, so the snapshot is really this large
                    c.getKVClient().put(b("big" + i), io.etcd.jetcd.ByteSequence.from(v)).get(10, TimeUnit.SECONDS);
                }
            }
            io.grpc.ManagedChannel ch = LeaseTest.channel(cluster, 0);
            var stalled = new java.util.ArrayList<io.grpc.stub.ClientCallStreamObserver<?>>();
            try {
                int max = cluster.configs.get(0).limits().snapshotDownloadsMax();
                for (int i = 0; i < max; i++) {
                    // A client that takes the first message and then stops reading: the server waits on flow control.
                    io.etcd.jetcd.api.MaintenanceGrpc.newStub(ch).snapshot(io.etcd.jetcd.api.SnapshotRequest.getDefaultInstance(),
                            new io.grpc.stub.ClientResponseObserver<io.etcd.jetcd.api.SnapshotRequest, io.etcd.jetcd.api.SnapshotResponse>() {
                                @Override
                                public void beforeStart(io.grpc.stub.ClientCallStreamObserver<io.etcd.jetcd.api.SnapshotRequest> r) {
                                    r.disableAutoRequestWithInitial(1);
                                    stalled.add(r);
                                }

                                @Override
                                public void onNext(io.etcd.jetcd.api.SnapshotResponse v) {}

                                @Override
                                public void onError(Throwable t) {}

                                @Override
                                public void onCompleted() {}
                            });
                }
                Thread.sleep(1000);
                assertThatThrownBy(() -> io.etcd.jetcd.api.MaintenanceGrpc.newBlockingStub(ch).withDeadlineAfter(10, TimeUnit.SECONDS)
                        .snapshot(io.etcd.jetcd.api.SnapshotRequest.getDefaultInstance()).next())
                        .isInstanceOfSatisfying(io.grpc.StatusRuntimeException.class, e -> {
                            assertThat(e.getStatus().getCode()).isEqualTo(io.grpc.Status.Code.RESOURCE_EXHAUSTED);
                            assertThat(e.getStatus().getDescription()).isEqualTo("etcdserver: too many requests");
                        });
                for (var s : stalled) s.cancel("done", null);
                // Once the stalled downloads are gone, a new one is served in full.
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
                while (true) {
                    try {
                        var it = io.etcd.jetcd.api.MaintenanceGrpc.newBlockingStub(ch).withDeadlineAfter(20, TimeUnit.SECONDS)
                                .snapshot(io.etcd.jetcd.api.SnapshotRequest.getDefaultInstance());
                        long bytes = 0;
                        while (it.hasNext()) bytes += it.next().getBlob().size();
                        assertThat(bytes).isGreaterThan(16 * 256 * 1024);
                        break;
                    } catch (io.grpc.StatusRuntimeException e) {
                        assertThat(System.nanoTime()).as("permits come back after cancel: %s", e.getStatus()).isLessThan(deadline);
                        Thread.sleep(200);
                    }
                }
            } finally {
                ch.shutdownNow();
            }
        }
    }
}
