package io.synod.server;

import static io.synod.server.ClusterTest.b;
import static io.synod.server.ClusterTest.s;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.etcd.jetcd.Client;
import io.etcd.jetcd.election.CampaignResponse;
import io.etcd.jetcd.election.LeaderResponse;
import io.etcd.jetcd.election.NoLeaderException;
import io.etcd.jetcd.election.NotLeaderException;
import io.etcd.jetcd.Election;
import io.etcd.jetcd.lock.LockResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * etcd's server-side Lock and Election services through jetcd on a three-member cluster, with
 * contenders on different members: mutual exclusion and fair hand-off, fencing tokens that only
 * grow, hand-off when a holder's lease expires, the re-check that refuses a lock whose lease died
 * while waiting, and campaign / proclaim / leader / observe / resign.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class LockElectionTest {
    @TempDir Path dir;

    static long lease(Client c, long ttl) throws Exception {
        return c.getLeaseClient().grant(ttl).get(10, TimeUnit.SECONDS).getID();
    }

    @Test
    void lockIsExclusiveFairAndFenced() throws Exception {
        try (var cluster = new TestCluster(dir, 3)) {
            cluster.awaitLeader(10_000);
            try (Client a = ClusterTest.client(cluster, 0); Client bc = ClusterTest.client(cluster, 1); Client cc = ClusterTest.client(cluster, 2)) {
                long la = lease(a, 60), lb = lease(bc, 60), lc = lease(cc, 60);
                LockResponse held = a.getLockClient().lock(b("L"), la).get(10, TimeUnit.SECONDS);
                long tokenA = held.getHeader().getRevision();
                assertThat(s(held.getKey())).isEqualTo("L/" + Long.toHexString(la));

                CompletableFuture<LockResponse> waitingB = bc.getLockClient().lock(b("L"), lb);
                Thread.sleep(300); // B joins the line before C
                CompletableFuture<LockResponse> waitingC = cc.getLockClient().lock(b("L"), lc);
                Thread.sleep(700);
                assertThat(waitingB).as("B while A holds").isNotDone();
                assertThat(waitingC).as("C while A holds").isNotDone();

                a.getLockClient().unlock(held.getKey()).get(10, TimeUnit.SECONDS);
                LockResponse gotB = waitingB.get(10, TimeUnit.SECONDS);
                assertThat(s(gotB.getKey())).isEqualTo("L/" + Long.toHexString(lb));
                long tokenB = gotB.getHeader().getRevision();
                assertThat(tokenB).isGreaterThan(tokenA);
                Thread.sleep(500);
                assertThat(waitingC).as("C while B holds").isNotDone();

                bc.getLockClient().unlock(gotB.getKey()).get(10, TimeUnit.SECONDS);
                long tokenC = waitingC.get(10, TimeUnit.SECONDS).getHeader().getRevision();
                assertThat(tokenC).isGreaterThan(tokenB);
                // The token is the create revision of the holder's key.
                var keyC = cc.getKVClient().get(b("L/" + Long.toHexString(lc))).get(10, TimeUnit.SECONDS).getKvs().get(0);
                assertThat(keyC.getCreateRevision()).isEqualTo(tokenC);
            }
        }
    }

    @Test
    void lockPassesOnWhenTheHolderLeaseExpiresAndIsRefusedIfTheWaitersLeaseDies() throws Exception {
        try (var cluster = new TestCluster(dir, 3)) {
            cluster.awaitLeader(10_000);
            try (Client a = ClusterTest.client(cluster, 0); Client bc = ClusterTest.client(cluster, 1); Client cc = ClusterTest.client(cluster, 2)) {
                long shortLease = lease(a, 2); // never kept alive: the holder "crashed"
                a.getLockClient().lock(b("M"), shortLease).get(10, TimeUnit.SECONDS);
                long lb = lease(bc, 60);
                var gotB = bc.getLockClient().lock(b("M"), lb).get(30, TimeUnit.SECONDS);
                assertThat(s(gotB.getKey())).isEqualTo("M/" + Long.toHexString(lb));

                // C queues behind B, then C's lease is revoked while it waits: when B releases, C must not get the lock.
                long lc = lease(cc, 60);
                CompletableFuture<LockResponse> waitingC = cc.getLockClient().lock(b("M"), lc);
                Thread.sleep(500);
                cc.getLeaseClient().revoke(lc).get(10, TimeUnit.SECONDS);
                bc.getLockClient().unlock(gotB.getKey()).get(10, TimeUnit.SECONDS);
                assertThatThrownBy(() -> waitingC.get(10, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
                        .hasMessageContaining("requested lease not found");
                assertThat(a.getKVClient().get(b("M/"), io.etcd.jetcd.options.GetOption.builder().isPrefix(true).build())
                        .get(10, TimeUnit.SECONDS).getCount()).isZero();
            }
        }
    }

    @Test
    void campaignProclaimObserveResign() throws Exception {
        try (var cluster = new TestCluster(dir, 3)) {
            cluster.awaitLeader(10_000);
            try (Client a = ClusterTest.client(cluster, 0); Client bc = ClusterTest.client(cluster, 1); Client o = ClusterTest.client(cluster, 2)) {
                Election ea = a.getElectionClient(), eb = bc.getElectionClient();
                assertThatThrownBy(() -> ea.leader(b("E")).get(10, TimeUnit.SECONDS)).hasCauseInstanceOf(NoLeaderException.class);

                List<String> observed = new CopyOnWriteArrayList<>();
                o.getElectionClient().observe(b("E"), new Election.Listener() {
                    @Override
                    public void onNext(LeaderResponse r) {
                        observed.add(s(r.getKv().getValue()));
                    }

                    @Override
                    public void onError(Throwable t) {}

                    @Override
                    public void onCompleted() {}
                });

                long la = lease(a, 60), lb = lease(bc, 60);
                CampaignResponse won = ea.campaign(b("E"), la, b("a")).get(10, TimeUnit.SECONDS);
                CompletableFuture<CampaignResponse> waitingB = eb.campaign(b("E"), lb, b("b"));
                Thread.sleep(700);
                assertThat(waitingB).isNotDone();
                assertThat(s(eb.leader(b("E")).get(10, TimeUnit.SECONDS).getKv().getValue())).isEqualTo("a");

                ea.proclaim(won.getLeader(), b("a2")).get(10, TimeUnit.SECONDS);
                assertThat(s(o.getElectionClient().leader(b("E")).get(10, TimeUnit.SECONDS).getKv().getValue())).isEqualTo("a2");

                ea.resign(won.getLeader()).get(10, TimeUnit.SECONDS);
                CampaignResponse wonB = waitingB.get(10, TimeUnit.SECONDS);
                assertThat(wonB.getLeader().getRevision()).isGreaterThan(won.getLeader().getRevision());
                // The deposed leader can no longer proclaim.
                assertThatThrownBy(() -> ea.proclaim(won.getLeader(), b("stale")).get(10, TimeUnit.SECONDS))
                        .hasCauseInstanceOf(NotLeaderException.class);

                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                while (!observed.contains("b") && System.nanoTime() < deadline) Thread.sleep(50);
                List<String> seen = new ArrayList<>(observed);
                assertThat(seen).containsSubsequence("a", "a2", "b");
                assertThat(seen).doesNotContain("stale");
            }
        }
    }
}
