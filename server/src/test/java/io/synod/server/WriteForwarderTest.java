package io.synod.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.synod.consensus.Message;
import io.synod.server.transport.ForwardMessage;
import io.synod.server.transport.PeerService;
import io.synod.server.transport.PeerTransport;
import io.synod.server.transport.TransportLimits;
import java.net.InetSocketAddress;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The follower's side of a forwarded keep-alive, against a real peer listener that records what
 * arrives and never answers by itself: the leader's answer completes the renewal with its TTL,
 * and a renewal its caller gave up on (the request deadline) is forgotten, so unanswered renewals
 * to a leader that went silent do not pile up.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class WriteForwarderTest {
    static final long LOCAL = 2, LEADER = 1;

    final LinkedBlockingQueue<Message> atLeader = new LinkedBlockingQueue<>();
    Server leader;
    PeerTransport transport;
    WriteForwarder forwarder;

    @BeforeEach
    void start() throws Exception {
        int port = TestCluster.freePorts(1)[0];
        leader = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", port)).directExecutor()
                .addService(PeerService.definition(LEADER, atLeader::add, () -> {}, 0)).build().start();
        transport = new PeerTransport(Map.of(LEADER, new InetSocketAddress("127.0.0.1", port)), TransportLimits.DEFAULTS, peer -> {});
        transport.start();
        // The follower's side never touches the driver: only a leader proposes or renews.
        forwarder = new WriteForwarder(LOCAL, null, transport);
    }

    @AfterEach
    void stop() throws Exception {
        transport.close();
        leader.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
    }

    private ForwardMessage.Renewal nextRenewal() throws InterruptedException {
        Message m = atLeader.poll(20, TimeUnit.SECONDS);
        assertThat(m).as("renewal at the leader").isInstanceOf(ForwardMessage.Renewal.class);
        return (ForwardMessage.Renewal) m;
    }

    @Test
    void theLeadersAnswerCompletesTheRenewalWithItsTtl() throws Exception {
        CompletableFuture<Long> ttl = forwarder.renew(LEADER, 0x1ea5e);
        ForwardMessage.Renewal r = nextRenewal();
        assertThat(r.leaseId()).isEqualTo(0x1ea5e);
        assertThat(r.from()).isEqualTo(LOCAL);
        assertThat(ttl).isNotDone();
        forwarder.receive(new ForwardMessage.Renewed(LEADER, LOCAL, r.requestId(), 60, null, LEADER));
        assertThat(ttl.get(10, TimeUnit.SECONDS)).isEqualTo(60);
        assertThat(forwarder.waitingCount()).isZero();
    }

    @Test
    void aRenewalItsCallerGaveUpOnIsForgotten() throws Exception {
        CompletableFuture<Long> first = forwarder.renew(LEADER, 7), second = forwarder.renew(LEADER, 8);
        ForwardMessage.Renewal r1 = nextRenewal();
        nextRenewal();
        assertThat(forwarder.waitingCount()).isEqualTo(2);
        // What the request deadline does (Proposer.within): it completes the future the caller holds.
        first.completeExceptionally(new TimeoutException("request deadline"));
        assertThat(forwarder.waitingCount()).as("requests still remembered").isEqualTo(1);
        // A late answer to the forgotten one changes nothing; the other is still answered.
        forwarder.receive(new ForwardMessage.Renewed(LEADER, LOCAL, r1.requestId(), 60, null, LEADER));
        assertThat(second).isNotDone();
        second.completeExceptionally(new TimeoutException("request deadline"));
        assertThat(forwarder.waitingCount()).isZero();
    }
}
