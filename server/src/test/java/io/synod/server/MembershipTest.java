package io.synod.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.cluster.Member;
import io.etcd.jetcd.options.GetOption;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.ClientCalls;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Cluster membership end to end on real members, through jetcd and raw gRPC (MemberPromote is not
 * in the jetcd stubs): a learner is added, refused promotion while it is far behind, started with
 * {@code existing}, catches up (by entries, or by a snapshot once the log is compacted) and is
 * promoted; followers and the leader are removed while the cluster keeps serving, and each removed
 * member stops itself; a peer URL is updated and the member restarted there; etcd's errors for a
 * duplicate peer URL, an unknown member, promoting a voter and removing the last voter; a joining
 * member refuses a config that does not match the cluster, or a data dir of another cluster.
 * Conditions are awaited; nothing asserts on timing.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class MembershipTest {
    @TempDir Path dir;

    static ByteSequence b(String s) {
        return ByteSequence.from(s, StandardCharsets.UTF_8);
    }

    static void await(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) throw new AssertionError("never happened: " + what);
            Thread.sleep(50);
        }
    }

    static Client client(String... endpoints) {
        return Client.builder().endpoints(endpoints).build();
    }

    /** MemberPromote through the hand-written method, against the member at {@code clientUrl}. */
    static MemberPromote.Response promote(URI clientUrl, long id) {
        ManagedChannel ch = NettyChannelBuilder.forAddress(clientUrl.getHost(), clientUrl.getPort()).usePlaintext().build();
        try {
            return ClientCalls.blockingUnaryCall(ch, MemberPromote.METHOD, CallOptions.DEFAULT.withDeadlineAfter(15, TimeUnit.SECONDS),
                    new MemberPromote.Request(id));
        } finally {
            ch.shutdownNow();
        }
    }

    static Throwable cause(Throwable t) {
        return t instanceof ExecutionException && t.getCause() != null ? t.getCause() : t;
    }

    static void putAll(Client c, int from, int to, int valueBytes) throws Exception {
        for (int i = from; i < to; i++) {
            c.getKVClient().put(b(String.format("key%04d", i)), b(("v" + i + "-").repeat(valueBytes).substring(0, valueBytes)))
                    .get(15, TimeUnit.SECONDS);
        }
    }

    static String get(Client c, String key) throws Exception {
        var kvs = c.getKVClient().get(b(key), GetOption.newBuilder().withSerializable(true).build()).get(15, TimeUnit.SECONDS).getKvs();
        return kvs.isEmpty() ? "" : kvs.get(0).getValue().toString(StandardCharsets.UTF_8);
    }

    /** Adds m4 as a learner, checks promotion is refused before it runs, starts it, waits for it to catch up, promotes it. */
    private SynodServer addLearnerStartAndPromote(TestCluster cluster, Client c, int keys) throws Exception {
        ServerConfig joiner = cluster.joinerConfig("m4", cluster.initialCluster());
        var added = c.getClusterClient().addMember(List.of(joiner.peerUrl()), true).get(15, TimeUnit.SECONDS);
        long id = added.getMember().getId();
        assertThat(added.getMember().isLearner()).isTrue();
        assertThat(added.getMembers()).extracting(Member::getId).contains(id).hasSize(4);
        // A learner that has not even started is far behind: etcd's refusal.
        assertThatThrownBy(() -> promote(cluster.configs.get(0).clientUrl(), id)).isInstanceOf(StatusRuntimeException.class)
                .hasMessageContaining(ClusterService.LEARNER_NOT_READY);

        SynodServer m4 = cluster.startExtra(joiner);
        assertThat(m4.memberId()).isEqualTo(id);
        int leader = cluster.awaitLeader(10_000);
        await("the learner caught up", () -> m4.driver().appliedIndex() >= cluster.servers[leader].driver().status().commitIndex() - 1);
        try (Client own = client(joiner.clientUrl().toString())) {
            assertThat(get(own, String.format("key%04d", keys - 1))).startsWith("v" + (keys - 1) + "-");
        }
        // The leader's view of the learner's log trails the learner's own by an acknowledgement: retry while
        // it says "not in sync", as an operator would (through a follower: the call is forwarded).
        MemberPromote.Response promoted = null;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (promoted == null) {
            try {
                promoted = promote(cluster.configs.get((leader + 1) % 3).clientUrl(), id);
            } catch (StatusRuntimeException e) {
                assertThat(e).hasMessageContaining(ClusterService.LEARNER_NOT_READY);
                assertThat(System.nanoTime()).as("the learner got in sync").isLessThan(deadline);
                Thread.sleep(100);
            }
        }
        assertThat(promoted.members()).filteredOn(m -> m.getID() == id).singleElement().matches(m -> !m.getIsLearner());
        await("m4 votes", () -> m4.driver().status().confState().voters().contains(id));
        assertThatThrownBy(() -> promote(cluster.configs.get(0).clientUrl(), id)).hasMessageContaining(ClusterService.MEMBER_NOT_LEARNER);
        // m4 published its name and client URL through Raft: every member lists them.
        await("m4 published itself", () -> {
            try {
                var list = c.getClusterClient().listMember().get(10, TimeUnit.SECONDS).getMembers();
                return list.stream().anyMatch(m -> m.getId() == id && m.getName().equals("m4")
                        && m.getClientURIs().equals(List.of(joiner.clientUrl())) && !m.isLearner());
            } catch (Exception e) {
                return false;
            }
        });
        return m4;
    }

    @Test
    void aLearnerIsAddedStartedWithExistingCatchesUpAndIsPromoted() throws Exception {
        try (var cluster = new TestCluster(dir, 3)) {
            cluster.awaitLeader(10_000);
            try (Client c = client(cluster.endpoint(0), cluster.endpoint(1), cluster.endpoint(2))) {
                putAll(c, 0, 50, 64);
                SynodServer m4 = addLearnerStartAndPromote(cluster, c, 50);
                // Four voters now: writes still commit, and reach m4.
                c.getKVClient().put(b("after"), b("promotion")).get(15, TimeUnit.SECONDS);
                try (Client own = client(m4.config().clientUrl().toString())) {
                    await("m4 has the new write", () -> {
                        try {
                            return get(own, "after").equals("promotion");
                        } catch (Exception e) {
                            return false;
                        }
                    });
                }
            }
        }
    }

    @Test
    void aMemberJoiningAfterLogCompactionCatchesUpBySnapshot() throws Exception {
        try (var cluster = new TestCluster(dir, 3, SnapshotInstallTest::small)) {
            int leader = cluster.awaitLeader(10_000);
            try (Client c = client(cluster.endpoint(0), cluster.endpoint(1), cluster.endpoint(2))) {
                putAll(c, 0, 300, 2048);
                await("the leader compacted its log", () -> cluster.servers[leader].driver().status().commitIndex() > 200);
                long sentBefore = cluster.servers[leader].snapshotsSent();
                addLearnerStartAndPromote(cluster, c, 300);
                int now = cluster.awaitLeader(10_000);
                long sent = 0;
                for (SynodServer s : cluster.servers) sent += s.snapshotsSent();
                assertThat(sent).as("a snapshot was sent (leader %d sent %d before)", now, sentBefore).isGreaterThan(0);
            }
        }
    }

    @Test
    void theLeaderAndAFollowerAreRemovedWhileTheClusterKeepsServing() throws Exception {
        try (var cluster = new TestCluster(dir, 3)) {
            int leader = cluster.awaitLeader(10_000);
            int a = (leader + 1) % 3;
            int b = (leader + 2) % 3;
            try (Client c = client(cluster.endpoint(a), cluster.endpoint(b))) {
                c.getKVClient().put(b("k"), b("1")).get(15, TimeUnit.SECONDS);
                long leaderId = cluster.servers[leader].memberId();
                var removed = c.getClusterClient().removeMember(leaderId).get(15, TimeUnit.SECONDS);
                assertThat(removed.getMembers()).extracting(Member::getId).doesNotContain(leaderId).hasSize(2);
                await("the removed leader stopped itself", cluster.servers[leader]::isClosed);
                cluster.servers[leader] = null;
                int next = cluster.awaitLeader(15_000);
                assertThat(next).isIn(a, b);
                c.getKVClient().put(b("k"), b("2")).get(15, TimeUnit.SECONDS);

                int follower = next == a ? b : a;
                long followerId = cluster.servers[follower].memberId();
                try (Client toLeader = client(cluster.endpoint(next))) {
                    toLeader.getClusterClient().removeMember(followerId).get(15, TimeUnit.SECONDS);
                    await("the removed follower stopped itself", cluster.servers[follower]::isClosed);
                    cluster.servers[follower] = null;
                    toLeader.getKVClient().put(b("k"), b("3")).get(15, TimeUnit.SECONDS);
                    assertThat(toLeader.getKVClient().get(b("k")).get(15, TimeUnit.SECONDS).getKvs().get(0).getValue().toString(StandardCharsets.UTF_8))
                            .isEqualTo("3");
                    var list = toLeader.getClusterClient().listMember().get(10, TimeUnit.SECONDS).getMembers();
                    assertThat(list).extracting(Member::getId).containsExactly(cluster.servers[next].memberId());
                    // The last voter cannot be removed; an unknown (or already removed) member is not found.
                    long last = cluster.servers[next].memberId();
                    assertThatThrownBy(() -> toLeader.getClusterClient().removeMember(last).get(15, TimeUnit.SECONDS))
                            .hasMessageContaining(ClusterService.NOT_ENOUGH_STARTED);
                    assertThatThrownBy(() -> toLeader.getClusterClient().removeMember(followerId).get(15, TimeUnit.SECONDS))
                            .hasMessageContaining(ClusterService.MEMBER_NOT_FOUND);
                }
            }
        }
    }

    @Test
    void aPeerUrlIsUpdatedAndTheMemberRestartsThere() throws Exception {
        try (var cluster = new TestCluster(dir, 3)) {
            int leader = cluster.awaitLeader(10_000);
            int moving = (leader + 1) % 3;
            try (Client c = client(cluster.endpoint(leader))) {
                URI moved = URI.create("http://127.0.0.1:" + TestCluster.freePorts(1)[0]);
                long id = cluster.servers[moving].memberId();
                var updated = c.getClusterClient().updateMember(id, List.of(moved)).get(15, TimeUnit.SECONDS);
                assertThat(updated.getMembers()).filteredOn(m -> m.getId() == id).singleElement()
                        .satisfies(m -> assertThat(m.getPeerURIs()).containsExactly(moved));
                // The operator restarts the member on its new peer URL (flags as etcd's docs say: the current membership).
                cluster.stop(moving);
                var cluster2 = new LinkedHashMap<>(cluster.initialCluster());
                cluster2.put(cluster.configs.get(moving).name(), moved);
                cluster.configs.set(moving, TestCluster.withPeer(cluster.configs.get(moving), moved, cluster2));
                c.getKVClient().put(b("while"), b("away")).get(15, TimeUnit.SECONDS);
                cluster.start(moving);
                try (Client own = client(cluster.endpoint(moving))) {
                    await("the moved member caught up over its new peer URL", () -> {
                        try {
                            return get(own, "while").equals("away");
                        } catch (Exception e) {
                            return false;
                        }
                    });
                }
                // Errors: a peer URL in use by another member, an unknown member.
                URI taken = cluster.configs.get(leader).peerUrl();
                assertThatThrownBy(() -> c.getClusterClient().updateMember(id, List.of(taken)).get(15, TimeUnit.SECONDS))
                        .hasMessageContaining(ClusterService.PEER_URL_EXISTS);
                assertThatThrownBy(() -> c.getClusterClient().addMember(List.of(moved)).get(15, TimeUnit.SECONDS))
                        .hasMessageContaining(ClusterService.PEER_URL_EXISTS);
                assertThatThrownBy(() -> c.getClusterClient().updateMember(12345, List.of(URI.create("http://127.0.0.1:1"))).get(15, TimeUnit.SECONDS))
                        .hasMessageContaining(ClusterService.MEMBER_NOT_FOUND);
                assertThatThrownBy(() -> c.getClusterClient().removeMember(12345).get(15, TimeUnit.SECONDS))
                        .hasMessageContaining(ClusterService.MEMBER_NOT_FOUND);
                assertThatThrownBy(() -> promote(cluster.configs.get(leader).clientUrl(), id))
                        .hasMessageContaining(ClusterService.MEMBER_NOT_LEARNER);
                assertThatThrownBy(() -> promote(cluster.configs.get(leader).clientUrl(), 12345))
                        .hasMessageContaining(ClusterService.MEMBER_NOT_FOUND);
            }
        }
    }

    @Test
    void aJoiningMemberRefusesAConfigThatDoesNotMatchTheCluster() throws Exception {
        try (var cluster = new TestCluster(dir, 3)) {
            cluster.awaitLeader(10_000);
            // Never added: its peer URL is not a member's.
            ServerConfig stranger = cluster.joinerConfig("m5", cluster.initialCluster());
            assertThatThrownBy(() -> cluster.startExtra(stranger)).isInstanceOf(IOException.class)
                    .hasMessageContaining("is not a member of the cluster").hasMessageContaining("etcdctl member add m5");
            // Added, but started with an --initial-cluster that lacks a member.
            ServerConfig joiner = cluster.joinerConfig("m4", cluster.initialCluster());
            try (Client c = client(cluster.endpoint(0))) {
                c.getClusterClient().addMember(List.of(joiner.peerUrl()), true).get(15, TimeUnit.SECONDS);
            }
            Map<String, URI> partial = new LinkedHashMap<>(joiner.initialCluster());
            partial.remove("m3");
            ServerConfig wrong = TestCluster.withPeer(joiner, joiner.peerUrl(), partial);
            assertThatThrownBy(() -> cluster.startExtra(wrong)).isInstanceOf(IOException.class)
                    .hasMessageContaining("--initial-cluster does not match the cluster's members").hasMessageContaining("missing");
            // A data dir of another cluster.
            Path otherDir = dir.resolve("other");
            try (var other = new TestCluster(otherDir, 1)) {
                other.awaitLeader(10_000);
            }
            // Member m1 of cluster B restarted with 'existing' against cluster A's members.
            ServerConfig foreign = new ServerConfig("m1", otherDir.resolve("m1"), joiner.clientUrl(), joiner.advertiseClientUrls(),
                    joiner.peerUrl(), cluster.initialCluster(), "existing", joiner.tickMillis(), 10, 1, 5000, joiner.requestBytesMax(),
                    joiner.retryBackoffMillis(), joiner.requestsInFlightMax());
            assertThatThrownBy(() -> SynodServer.start(foreign).close()).isInstanceOf(IOException.class)
                    .hasMessageContaining("belongs to cluster").hasMessageContaining("another cluster's");
            // And a data dir started under another member's name.
            ServerConfig renamed = new ServerConfig("m2", otherDir.resolve("m1"), joiner.clientUrl(), joiner.advertiseClientUrls(),
                    joiner.peerUrl(), cluster.initialCluster(), "new", joiner.tickMillis(), 10, 1, 5000, joiner.requestBytesMax(),
                    joiner.retryBackoffMillis(), joiner.requestsInFlightMax());
            assertThatThrownBy(() -> SynodServer.start(renamed).close()).isInstanceOf(IOException.class)
                    .hasMessageContaining("belongs to member 'm1'").hasMessageContaining("--name is 'm2'");
        }
    }
}
