package io.synod.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.api.KVGrpc;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.synod.server.security.SecurityConfig;
import io.synod.server.security.TlsFiles;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * TLS on both listeners with certificates made by {@link TestCerts}: jetcd trusting the CA,
 * a member with {@code --client-cert-auth} refusing a client without a certificate, a
 * three-member cluster whose Raft traffic, forwarded writes and snapshots run over mutually
 * authenticated peer TLS, and etcdctl with {@code --cacert/--cert/--key}.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class TlsTest {
    @TempDir Path dir;

    static ByteSequence bs(String s) {
        return ByteSequence.from(s, StandardCharsets.UTF_8);
    }

    /** {@code c} with https:// client and peer URLs and the given security settings. */
    static ServerConfig secure(ServerConfig c, SecurityConfig security, boolean clientTls, boolean peerTls) {
        var cluster = new LinkedHashMap<String, URI>();
        c.initialCluster().forEach((n, u) -> cluster.put(n, peerTls ? https(u) : u));
        URI client = clientTls ? https(c.clientUrl()) : c.clientUrl();
        return new ServerConfig(c.name(), c.dataDir(), client, java.util.List.of(client.toString()), peerTls ? https(c.peerUrl()) : c.peerUrl(),
                cluster, c.initialClusterState(), c.tickMillis(), c.electionTicks(), c.heartbeatTicks(), c.requestTimeoutMillis(),
                c.requestBytesMax(), c.retryBackoffMillis(), c.requestsInFlightMax(), c.snapshotCount(), c.snapshotCatchupEntries(),
                c.snapshotLimits(), c.raftLogOptions(), c.ops(), c.limits(), c.identity(), security);
    }

    static URI https(URI u) {
        return URI.create(u.toString().replace("http://", "https://"));
    }

    static TlsFiles files(TestCerts.Pair pair, Path ca, boolean clientCertAuth) {
        return new TlsFiles(Optional.of(pair.cert()), Optional.of(pair.key()), Optional.of(ca), clientCertAuth);
    }

    static Client client(String endpoint, TestCerts certs, TestCerts.Pair clientCert) throws Exception {
        return Client.builder().endpoints(endpoint).sslContext(b -> {
            b.trustManager(certs.caCert.toFile());
            if (clientCert != null) b.keyManager(clientCert.cert().toFile(), clientCert.key().toFile());
        }).build();
    }

    @Test
    void jetcdTrustingTheCaTalksToATlsMember() throws Exception {
        var certs = TestCerts.create(dir.resolve("certs"));
        var server = certs.issue("m1");
        var security = SecurityConfig.NONE.withClient(files(server, certs.caCert, false));
        try (var cluster = new TestCluster(dir, 1, c -> secure(c, security, true, false));
                var client = client(cluster.endpoint(0), certs, null)) {
            assertThat(cluster.endpoint(0)).startsWith("https://");
            cluster.awaitLeader(10_000);
            client.getKVClient().put(bs("k"), bs("v")).get(10, TimeUnit.SECONDS);
            assertThat(client.getKVClient().get(bs("k")).get(10, TimeUnit.SECONDS).getKvs().get(0).getValue()).isEqualTo(bs("v"));
        }
    }

    @Test
    void peerTlsClusterReplicatesAndClientCertAuthRefusesClientsWithoutCertificates() throws Exception {
        var certs = TestCerts.create(dir.resolve("certs"));
        var member = certs.issue("member");
        var user = certs.issue("alice");
        var security = SecurityConfig.NONE.withClient(files(member, certs.caCert, true)).withPeer(files(member, certs.caCert, true));
        try (var cluster = new TestCluster(dir, 3, c -> secure(c, security, true, true))) {
            cluster.awaitLeader(20_000);
            try (var c0 = client(cluster.endpoint(0), certs, user); var c2 = client(cluster.endpoint(2), certs, user)) {
                for (int i = 0; i < 20; i++) c0.getKVClient().put(bs("k" + i), bs("v" + i)).get(10, TimeUnit.SECONDS);
                // A linearizable read on another member: the write was replicated over peer TLS.
                assertThat(c2.getKVClient().get(bs("k19")).get(10, TimeUnit.SECONDS).getKvs().get(0).getValue()).isEqualTo(bs("v19"));
                // A write on a member that may not lead is forwarded over peer TLS.
                c2.getKVClient().put(bs("from2"), bs("x")).get(10, TimeUnit.SECONDS);
                assertThat(c0.getKVClient().get(bs("from2")).get(10, TimeUnit.SECONDS).getCount()).isEqualTo(1);
            }
            // A client that trusts the CA but has no certificate fails the handshake (jetcd would retry it forever).
            var address = ServerConfig.address(URI.create(cluster.endpoint(0)));
            var anonymous = NettyChannelBuilder.forAddress(address).sslContext(GrpcSslContexts.forClient().trustManager(certs.caCert.toFile())
                    .build()).build();
            try {
                var range = io.etcd.jetcd.api.RangeRequest.newBuilder().setKey(com.google.protobuf.ByteString.copyFromUtf8("k1")).build();
                assertThatThrownBy(() -> KVGrpc.newBlockingStub(anonymous).withDeadlineAfter(10, TimeUnit.SECONDS).range(range))
                        .isInstanceOfSatisfying(StatusRuntimeException.class,
                                e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE));
            } finally {
                anonymous.shutdownNow();
            }
            Path etcdctl = EtcdctlTest.etcdctl();
            Assumptions.assumeTrue(etcdctl != null, "etcdctl is not installed; skipping its TLS part");
            String e0 = cluster.endpoint(0);
            String tls = "--cacert=" + certs.caCert;
            assertThat(EtcdctlTest.run(etcdctl, e0, null, tls, "--cert=" + user.cert(), "--key=" + user.key(), "put", "ctl", "ok"))
                    .contains("OK");
            assertThat(EtcdctlTest.run(etcdctl, cluster.endpoint(1), null, tls, "--cert=" + user.cert(), "--key=" + user.key(), "get",
                    "ctl", "--print-value-only")).isEqualTo("ok\n");
        }
    }

    @Test
    void httpsUrlWithoutCertificateIsRefused() {
        assertThatThrownBy(() -> ServerConfig.fromArgs(new String[] {"--name", "a", "--data-dir", dir.toString(), "--listen-client-urls",
                "https://127.0.0.1:23790"})).hasMessageContaining("--cert-file, --key-file");
    }
}
