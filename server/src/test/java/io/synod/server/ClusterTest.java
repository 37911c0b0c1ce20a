package io.synod.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.KV;
import io.etcd.jetcd.op.Cmp;
import io.etcd.jetcd.op.CmpTarget;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.CompactOption;
import io.etcd.jetcd.options.DeleteOption;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.PutOption;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A three-member cluster in this JVM, driven by the jetcd client through etcd's KV API: writes and
 * reads against different members (followers forward writes), txn and compaction semantics,
 * failover after the leader stops, and recovery of a restarted member from its data directory.
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class ClusterTest {
    @TempDir Path dir;

    static ByteSequence b(String s) {
        return ByteSequence.from(s, StandardCharsets.UTF_8);
    }

    static String s(ByteSequence b) {
        return b.toString(StandardCharsets.UTF_8);
    }

    static Client client(TestCluster c, int member) {
        return Client.builder().endpoints(c.endpoint(member)).build();
    }

    /** A counter's value from the member's Prometheus scrape. */
    static double counter(SynodServer server, String name) {
        for (String line : server.metrics().scrape().split("\n")) {
            if (line.startsWith(name + " ") || line.startsWith(name + "{")) return Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
        }
        throw new AssertionError("no metric " + name);
    }

    @Test
    void kvOperationsAgainstDifferentMembers() throws Exception {
        try (var cluster = new TestCluster(dir, 3)) {
            int leader = cluster.awaitLeader(10_000);
            int follower = (leader + 1) % 3;
            int other = (leader + 2) % 3;
            try (Client cf = client(cluster, follower); Client cl = client(cluster, leader); Client co = client(cluster, other)) {
                KV kvf = cf.getKVClient(), kvl = cl.getKVClient(), kvo = co.getKVClient();

                var put = kvf.put(b("foo"), b("bar")).get(10, TimeUnit.SECONDS);
                assertThat(put.getHeader().getRevision()).isEqualTo(2);
                assertThat(put.getHeader().getMemberId()).isEqualTo(cluster.servers[follower].memberId()); // forwarded, reported as ours
                // Forwarded inside the peer stream, not as a gRPC call, and answered from the follower's own apply: its store already has it.
                assertThat(counter(cluster.servers[follower], "synod_server_writes_forwarded_total")).isEqualTo(1);
                assertThat(counter(cluster.servers[leader], "synod_server_forwarded_writes_proposed_total")).isEqualTo(1);
                assertThat(kvf.get(b("foo"), GetOption.builder().withSerializable(true).build()).get(10, TimeUnit.SECONDS).getCount()).isEqualTo(1);
                var get = kvo.get(b("foo")).get(10, TimeUnit.SECONDS);
                assertThat(get.getKvs()).hasSize(1);
                assertThat(s(get.getKvs().get(0).getValue())).isEqualTo("bar");
                assertThat(get.getHeader().getMemberId()).isEqualTo(cluster.servers[other].memberId());

                var put2 = kvl.put(b("foo"), b("baz"), PutOption.builder().withPrevKV().build()).get(10, TimeUnit.SECONDS);
                assertThat(s(put2.getPrevKv().getValue())).isEqualTo("bar");
                kvo.put(b("p/1"), b("1")).get(10, TimeUnit.SECONDS);
                kvo.put(b("p/2"), b("2")).get(10, TimeUnit.SECONDS);
                var prefix = kvf.get(b("p/"), GetOption.builder().isPrefix(true).build()).get(10, TimeUnit.SECONDS);
                assertThat(prefix.getCount()).isEqualTo(2);
                var serializable = kvf.get(b("p/"), GetOption.builder().isPrefix(true).withSerializable(true).build()).get(10, TimeUnit.SECONDS);
                assertThat(serializable.getCount()).isLessThanOrEqualTo(2);

                var del = kvf.delete(b("p/"), DeleteOption.builder().isPrefix(true).build()).get(10, TimeUnit.SECONDS);
                assertThat(del.getDeleted()).isEqualTo(2);
                assertThat(kvl.get(b("p/1")).get(10, TimeUnit.SECONDS).getCount()).isZero();

                var txn = kvo.txn().If(new Cmp(b("foo"), Cmp.Op.EQUAL, CmpTarget.value(b("baz"))))
                        .Then(Op.put(b("foo"), b("qux"), PutOption.DEFAULT), Op.get(b("foo"), GetOption.DEFAULT))
                        .Else(Op.put(b("foo"), b("nope"), PutOption.DEFAULT))
                        .commit().get(10, TimeUnit.SECONDS);
                assertThat(txn.isSucceeded()).isTrue();
                assertThat(s(txn.getGetResponses().get(0).getKvs().get(0).getValue())).isEqualTo("qux");
                var failed = kvf.txn().If(new Cmp(b("foo"), Cmp.Op.EQUAL, CmpTarget.value(b("baz"))))
                        .Then(Op.put(b("foo"), b("wrong"), PutOption.DEFAULT))
                        .commit().get(10, TimeUnit.SECONDS);
                assertThat(failed.isSucceeded()).isFalse();

                long rev = kvl.get(b("foo")).get(10, TimeUnit.SECONDS).getHeader().getRevision();
                kvf.compact(rev - 1, CompactOption.builder().withCompactPhysical(true).build()).get(10, TimeUnit.SECONDS);
                assertThatThrownBy(() -> kvo.get(b("foo"), GetOption.builder().withRevision(2).build()).get(10, TimeUnit.SECONDS))
                        .hasMessageContaining("etcdserver: mvcc: required revision has been compacted");
                assertThat(s(kvo.get(b("foo")).get(10, TimeUnit.SECONDS).getKvs().get(0).getValue())).isEqualTo("qux");
                assertThatThrownBy(() -> kvf.get(b("foo"), GetOption.builder().withRevision(rev + 100).build()).get(10, TimeUnit.SECONDS))
                        .hasMessageContaining("etcdserver: mvcc: required revision is a future revision");
            }
        }
    }

    @Test
    void survivesLeaderStopAndRecoversRestartedMember() throws Exception {
        try (var cluster = new TestCluster(dir, 3)) {
            int leader = cluster.awaitLeader(10_000);
            int survivor = (leader + 1) % 3;
            try (Client c = client(cluster, survivor)) {
                for (int i = 0; i < 20; i++) c.getKVClient().put(b("k" + i), b("v" + i)).get(10, TimeUnit.SECONDS);
            }
            if (!"grpc".equals(System.getProperty(TestCluster.PEER_FRAMES_PROPERTY))) {
                // The leader sends to both followers, and the survivor forwarded its writes to the leader: on socket links.
                assertThat(counter(cluster.servers[leader], "synod_peer_socket_links")).isEqualTo(2);
                assertThat(counter(cluster.servers[leader], "synod_peer_streams")).isZero();
                assertThat(counter(cluster.servers[survivor], "synod_peer_socket_links")).isGreaterThanOrEqualTo(1);
            } else {
                assertThat(counter(cluster.servers[leader], "synod_peer_streams")).isEqualTo(2);
                assertThat(counter(cluster.servers[leader], "synod_peer_socket_links")).isZero();
            }
            cluster.stop(leader);
            try (Client c = client(cluster, survivor)) {
                // Sent at once: the survivor still believes in the stopped leader, cannot connect to it,
                // and waits for the next leader instead of failing the write.
                c.getKVClient().put(b("after"), b("failover")).get(10, TimeUnit.SECONDS);
                assertThat(cluster.awaitLeader(10_000)).isNotEqualTo(leader);
                assertThat(c.getKVClient().get(b("k"), GetOption.builder().isPrefix(true).build()).get(10, TimeUnit.SECONDS).getCount())
                        .isEqualTo(20);
            }
            cluster.start(leader);
            try (Client c = client(cluster, leader)) {
                // A linearizable read on the restarted member waits until it has caught up.
                var got = c.getKVClient().get(b("after")).get(15, TimeUnit.SECONDS);
                assertThat(s(got.getKvs().get(0).getValue())).isEqualTo("failover");
                assertThat(c.getKVClient().get(b("k"), GetOption.builder().isPrefix(true).build()).get(10, TimeUnit.SECONDS).getCount())
                        .isEqualTo(20);
                assertThat(c.getKVClient().put(b("again"), b("1")).get(10, TimeUnit.SECONDS).getHeader().getRevision()).isEqualTo(23);
            }
        }
    }
}
