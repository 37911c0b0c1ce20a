package io.synod.server;

import static io.synod.server.ClusterTest.b;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.etcd.jetcd.Client;
import io.etcd.jetcd.api.DefragmentRequest;
import io.etcd.jetcd.api.HashKVRequest;
import io.etcd.jetcd.api.HashKVResponse;
import io.etcd.jetcd.api.MaintenanceGrpc;
import io.etcd.jetcd.api.SnapshotRequest;
import io.etcd.jetcd.api.StatusRequest;
import io.etcd.jetcd.api.StatusResponse;
import io.etcd.jetcd.cluster.Member;
import io.etcd.jetcd.options.CompactOption;
import io.etcd.jetcd.options.DeleteOption;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.net.URI;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * etcd's Cluster and Maintenance services on a three-member cluster, through the jetcd client
 * and, for per-member calls and the fields the jetcd stubs lack, the jetcd gRPC stubs on a
 * channel to one member: MemberList, Status, HashKV equality across members after writes and a
 * compaction, Defragment, Alarm, MoveLeader and its errors.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class MaintenanceClusterTest {
    @TempDir Path dir;
    private final List<ManagedChannel> channels = new ArrayList<>();

    @AfterEach
    void closeChannels() {
        channels.forEach(ManagedChannel::shutdownNow);
    }

    MaintenanceGrpc.MaintenanceBlockingStub maintenance(TestCluster cluster, int member) {
        URI u = cluster.configs.get(member).clientUrl();
        ManagedChannel c = NettyChannelBuilder.forAddress(u.getHost(), u.getPort()).usePlaintext().build();
        channels.add(c);
        return MaintenanceGrpc.newBlockingStub(c).withDeadlineAfter(20, TimeUnit.SECONDS);
    }

    @Test
    void memberListStatusAlarmsAndSnapshot() throws Exception {
        try (var cluster = new TestCluster(dir, 3)) {
            int leader = cluster.awaitLeader(10_000);
            int follower = (leader + 1) % 3;
            try (Client c = ClusterTest.client(cluster, follower)) {
                var list = c.getClusterClient().listMember().get(10, TimeUnit.SECONDS);
                assertThat(list.getHeader().getMemberId()).isEqualTo(cluster.servers[follower].memberId());
                assertThat(list.getMembers()).hasSize(3);
                var seen = new HashSet<String>();
                for (Member m : list.getMembers()) {
                    seen.add(m.getName());
                    int i = Integer.parseInt(m.getName().substring(1)) - 1;
                    ServerConfig cfg = cluster.configs.get(i);
                    assertThat(m.getId()).isEqualTo(cfg.memberId());
                    assertThat(m.getPeerURIs()).containsExactly(cfg.peerUrl());
                    assertThat(m.getClientURIs()).as("client URLs of %s, reported by the member itself", m.getName())
                            .containsExactly(cfg.clientUrl());
                    assertThat(m.isLearner()).isFalse();
                }
                assertThat(seen).containsExactlyInAnyOrder("m1", "m2", "m3");
                assertThat(c.getMaintenanceClient().listAlarms().get(10, TimeUnit.SECONDS).getAlarms()).isEmpty();
                assertThatThrownBy(() -> c.getClusterClient().addMember(List.of(cluster.configs.get(leader).peerUrl())).get(10, TimeUnit.SECONDS))
                        .hasMessageContaining("etcdserver: Peer URLs already exists");
                c.getKVClient().put(b("a"), b("1")).get(10, TimeUnit.SECONDS);
            }
            for (int i = 0; i < 3; i++) {
                StatusResponse s = maintenance(cluster, i).status(StatusRequest.getDefaultInstance());
                assertThat(s.getVersion()).isEqualTo(MaintenanceService.API_VERSION);
                assertThat(s.getLeader()).isEqualTo(cluster.servers[leader].memberId());
                assertThat(s.getHeader().getMemberId()).isEqualTo(cluster.servers[i].memberId());
                assertThat(s.getRaftTerm()).isPositive();
                assertThat(s.getDbSize()).isPositive();
                var extra = s.getUnknownFields();
                long applied = extra.getField(MaintenanceService.STATUS_RAFT_APPLIED_INDEX).getVarintList().get(0);
                assertThat(applied).isPositive().isLessThanOrEqualTo(s.getRaftIndex());
                assertThat(extra.getField(MaintenanceService.STATUS_DB_SIZE_IN_USE).getVarintList().get(0))
                        .isLessThanOrEqualTo(s.getDbSize());
                assertThat(extra.getField(MaintenanceService.STATUS_IS_LEARNER).getVarintList()).containsExactly(0L);
                assertThat(extra.hasField(MaintenanceService.STATUS_ERRORS)).isFalse();
            }
            // Snapshot streams a Synod backup (SnapshotBackupTest restores one): it starts with the file header.
            var first = maintenance(cluster, 0).snapshot(SnapshotRequest.getDefaultInstance()).next();
            assertThat(first.getBlob().substring(0, 8).toStringUtf8()).isEqualTo("SYNODSNP");
            assertThat(first.getRemainingBytes()).isPositive();
        }
    }

    @Test
    void hashKvIsEqualAcrossMembersAfterWritesAndCompactionAndSurvivesDefragment() throws Exception {
        try (var cluster = new TestCluster(dir, 3)) {
            int leader = cluster.awaitLeader(10_000);
            long rev;
            try (Client c = ClusterTest.client(cluster, (leader + 1) % 3)) {
                for (int i = 0; i < 60; i++) c.getKVClient().put(b("k" + (i % 17)), b("v" + i)).get(10, TimeUnit.SECONDS);
                c.getKVClient().delete(b("k1"), DeleteOption.DEFAULT).get(10, TimeUnit.SECONDS);
                c.getKVClient().delete(b("k"), DeleteOption.builder().isPrefix(true).build()).get(10, TimeUnit.SECONDS);
                for (int i = 0; i < 10; i++) c.getKVClient().put(b("z" + i), b("after")).get(10, TimeUnit.SECONDS);
                long compactAt = c.getKVClient().put(b("mid"), b("x")).get(10, TimeUnit.SECONDS).getHeader().getRevision() - 3;
                c.getKVClient().compact(compactAt, CompactOption.DEFAULT).get(10, TimeUnit.SECONDS);
                rev = c.getKVClient().put(b("last"), b("x")).get(10, TimeUnit.SECONDS).getHeader().getRevision();
            }
            HashKVResponse reference = awaitHashKv(cluster, 0, rev);
            assertThat(reference.getCompactRevision()).isPositive();
            assertThat(reference.getUnknownFields().getField(MaintenanceService.HASHKV_HASH_REVISION).getVarintList()).containsExactly(rev);
            for (int i = 1; i < 3; i++) {
                HashKVResponse h = awaitHashKv(cluster, i, rev);
                assertThat(h.getHash()).as("member %d at revision %d", i, rev).isEqualTo(reference.getHash());
                assertThat(h.getCompactRevision()).isEqualTo(reference.getCompactRevision());
            }
            HashKVResponse earlier = maintenance(cluster, 1).hashKV(HashKVRequest.newBuilder().setRevision(rev - 1).build());
            assertThat(earlier.getHash()).isNotEqualTo(reference.getHash());
            assertThatThrownBy(() -> maintenance(cluster, 2).hashKV(HashKVRequest.newBuilder().setRevision(2).build()))
                    .hasMessageContaining("etcdserver: mvcc: required revision has been compacted");

            for (int i = 0; i < 3; i++) {
                var d = maintenance(cluster, i).defragment(DefragmentRequest.getDefaultInstance());
                assertThat(d.getHeader().getMemberId()).isEqualTo(cluster.servers[i].memberId());
                assertThat(awaitHashKv(cluster, i, rev).getHash()).as("after defragment of member %d", i).isEqualTo(reference.getHash());
            }
            try (Client c = ClusterTest.client(cluster, leader)) {
                assertThat(c.getKVClient().get(b("z3")).get(10, TimeUnit.SECONDS).getKvs()).hasSize(1);
            }
        }
    }

    /** HashKV at {@code rev} on one member, retrying while that member has not applied up to it yet. */
    private HashKVResponse awaitHashKv(TestCluster cluster, int member, long rev) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (true) {
            try {
                return maintenance(cluster, member).hashKV(HashKVRequest.newBuilder().setRevision(rev).build());
            } catch (StatusRuntimeException e) {
                if (!String.valueOf(e.getStatus().getDescription()).contains("future revision") || System.nanoTime() > deadline) throw e;
                Thread.sleep(50);
            }
        }
    }

    @Test
    void moveLeaderHandsLeadershipToTheTargetAndRefusesBadRequests() throws Exception {
        try (var cluster = new TestCluster(dir, 3)) {
            int leader = cluster.awaitLeader(10_000);
            int target = (leader + 1) % 3;
            int other = (leader + 2) % 3;
            try (Client toFollower = ClusterTest.client(cluster, other)) {
                assertThatThrownBy(() -> toFollower.getMaintenanceClient().moveLeader(cluster.servers[target].memberId())
                        .get(10, TimeUnit.SECONDS)).hasMessageContaining("etcdserver: not leader");
            }
            try (Client toLeader = ClusterTest.client(cluster, leader)) {
                assertThatThrownBy(() -> toLeader.getMaintenanceClient().moveLeader(12345).get(10, TimeUnit.SECONDS))
                        .hasMessageContaining("etcdserver: bad leader transferee");
                toLeader.getMaintenanceClient().moveLeader(cluster.servers[target].memberId()).get(15, TimeUnit.SECONDS);
                // Answered only once the old leader sees the target lead.
                assertThat(cluster.servers[leader].driver().leader()).isEqualTo(cluster.servers[target].memberId());
            }
            assertThat(cluster.awaitLeader(10_000)).isEqualTo(target);
            try (Client c = ClusterTest.client(cluster, leader)) {
                c.getKVClient().put(b("after"), b("move")).get(10, TimeUnit.SECONDS);
            }
        }
    }
}
