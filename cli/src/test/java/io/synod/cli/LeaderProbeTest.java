package io.synod.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.etcd.jetcd.api.MaintenanceGrpc;
import io.etcd.jetcd.api.ResponseHeader;
import io.etcd.jetcd.api.StatusRequest;
import io.etcd.jetcd.api.StatusResponse;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The benchmark's leader probe reads each member's Status and orders the endpoints by the leader it names. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class LeaderProbeTest {
    private final List<Server> servers = new ArrayList<>();
    private final AtomicLong leader = new AtomicLong();

    @AfterEach
    void stop() throws InterruptedException {
        for (Server s : servers) s.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }

    /** Three fake members with ids 11, 12, 13 that all report {@link #leader} as the leader; the endpoints in member order. */
    private List<String> members() throws Exception {
        int base = ClusterCommandTest.freeBase(3);
        var endpoints = new ArrayList<String>();
        for (int i = 0; i < 3; i++) {
            long id = 11 + i;
            Server s = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", base + i)).addService(new MaintenanceGrpc.MaintenanceImplBase() {
                @Override
                public void status(StatusRequest request, StreamObserver<StatusResponse> out) {
                    out.onNext(StatusResponse.newBuilder().setHeader(ResponseHeader.newBuilder().setMemberId(id)).setLeader(leader.get()).build());
                    out.onCompleted();
                }
            }).build().start();
            servers.add(s);
            endpoints.add("127.0.0.1:" + (base + i));
        }
        return endpoints;
    }

    @Test
    void putsTheLeaderFirstAndKeepsTheRestInOrder() throws Exception {
        List<String> eps = members();
        leader.set(12);
        assertThat(LeaderProbe.leaderFirst("fake", eps)).containsExactly(eps.get(1), eps.get(2), eps.get(0));
        leader.set(13);
        assertThat(LeaderProbe.leaderFirst("fake", eps)).containsExactly(eps.get(2), eps.get(0), eps.get(1));
        leader.set(11);
        assertThat(LeaderProbe.leaderFirst("fake", eps)).isEqualTo(eps);
        assertThat(LeaderProbe.follower("fake", eps)).isEqualTo(2);
    }

    @Test
    void aSilentMemberIsNeitherLeaderNorFollower() throws Exception {
        List<String> eps = members();
        leader.set(13);
        servers.get(2).shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        var snap = LeaderProbe.probe(eps);
        assertThat(snap.memberIds()).containsExactly(11, 12, 0);
        assertThat(snap.leaderId()).isEqualTo(13);
        // The leader named by the others did not answer: no endpoint to aim at, and the last follower is the one that answered.
        assertThat(snap.leaderIndex()).isEqualTo(-1);
        assertThat(snap.followerIndex()).isEqualTo(1);
    }

    @Test
    void noLeaderNamedMeansNoFollowerEither() throws Exception {
        List<String> eps = members();
        leader.set(0);
        var snap = LeaderProbe.probe(eps);
        assertThat(snap.leaderIndex()).isEqualTo(-1);
        assertThat(snap.followerIndex()).isEqualTo(-1);
    }
}
