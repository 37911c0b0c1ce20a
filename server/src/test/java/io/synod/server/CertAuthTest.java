package io.synod.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.auth.Permission;
import io.synod.server.security.SecurityConfig;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * etcd's certificate users: with {@code --client-cert-auth} and auth enabled, a client that
 * presents a certificate and no token acts as the user its CN names — allowed what that user's
 * roles allow, denied the rest, root's admin calls for CN=root, nothing for a CN that is no user —
 * through jetcd and {@code etcdctl --cert/--key}; a token, when sent, wins over the certificate.
 * Without {@code --client-cert-auth} (a CA that only checks offered certificates) the CN names no
 * one, as in etcd.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class CertAuthTest {
    @TempDir Path dir;

    static ByteSequence bs(String s) {
        return ByteSequence.from(s, StandardCharsets.UTF_8);
    }

    static <T> T get(java.util.concurrent.CompletableFuture<T> f) throws Exception {
        return f.get(20, TimeUnit.SECONDS);
    }

    static SecurityConfig security(TestCerts certs, TestCerts.Pair member, boolean clientCertAuth) {
        return SecurityConfig.NONE.withPasswordHashIterations(AuthTest.TEST_ITERATIONS)
                .withClient(TlsTest.files(member, certs.caCert, clientCertAuth));
    }

    /** Users root (root role) and alice (readwrite on [a/, a0)), auth enabled, set up through a client acting as CN=root. */
    static void setUp(Client root) throws Exception {
        var auth = root.getAuthClient();
        get(auth.userAdd(bs("root"), bs("rootpw")));
        get(auth.userGrantRole(bs("root"), bs("root")));
        get(auth.userAdd(bs("alice"), bs("alicepw")));
        get(auth.roleAdd(bs("app")));
        get(auth.roleGrantPermission(bs("app"), bs("a/"), bs("a0"), Permission.Type.READWRITE));
        get(auth.userGrantRole(bs("alice"), bs("app")));
        get(root.getKVClient().put(bs("b/secret"), bs("s")));
        get(auth.authEnable());
    }

    @Test
    void certificateCommonNameIsTheUserWithClientCertAuth() throws Exception {
        var certs = TestCerts.create(dir.resolve("certs"));
        var member = certs.issue("member");
        var rootCert = certs.issue("root");
        var aliceCert = certs.issue("alice");
        var strangerCert = certs.issue("mallory");
        try (var cluster = new TestCluster(dir, 1, c -> TlsTest.secure(c, security(certs, member, true), true, false))) {
            cluster.awaitLeader(20_000);
            String endpoint = cluster.endpoint(0);
            try (var root = TlsTest.client(endpoint, certs, rootCert)) {
                setUp(root);
                // CN=root holds the root role: admin calls and every key, without a password.
                assertThat(get(root.getAuthClient().userList()).getUsers()).containsExactly("alice", "root");
                assertThat(get(root.getKVClient().get(bs("b/secret"))).getCount()).isEqualTo(1);
            }
            try (var alice = TlsTest.client(endpoint, certs, aliceCert)) {
                var kv = alice.getKVClient();
                get(kv.put(bs("a/1"), bs("v1")));
                assertThat(get(kv.get(bs("a/1"))).getKvs().get(0).getValue()).isEqualTo(bs("v1"));
                assertThatThrownBy(() -> get(kv.put(bs("b/1"), bs("x")))).hasMessageContaining("etcdserver: permission denied");
                assertThatThrownBy(() -> get(kv.get(bs("b/secret")))).hasMessageContaining("etcdserver: permission denied");
                assertThatThrownBy(() -> get(alice.getAuthClient().userList())).hasMessageContaining("etcdserver: permission denied");
            }
            // A CN that names no user may do nothing.
            try (var stranger = TlsTest.client(endpoint, certs, strangerCert)) {
                assertThatThrownBy(() -> get(stranger.getKVClient().get(bs("a/1")))).hasMessageContaining("etcdserver: permission denied");
            }
            // A token wins over the certificate: alice's certificate with root's login acts as root.
            try (var aliceAsRoot = Client.builder().endpoints(endpoint).user(bs("root")).password(bs("rootpw")).sslContext(b -> {
                b.trustManager(certs.caCert.toFile());
                b.keyManager(aliceCert.cert().toFile(), aliceCert.key().toFile());
            }).build()) {
                assertThat(get(aliceAsRoot.getKVClient().get(bs("b/secret"))).getCount()).isEqualTo(1);
            }
            Path etcdctl = EtcdctlTest.etcdctl();
            Assumptions.assumeTrue(etcdctl != null, "etcdctl is not installed; skipping its certificate-user part");
            String ca = "--cacert=" + certs.caCert;
            String asAlice = "--cert=" + aliceCert.cert();
            String aliceKey = "--key=" + aliceCert.key();
            assertThat(AuthTest.ok(etcdctl, endpoint, ca, asAlice, aliceKey, "put", "a/ctl", "x")).contains("OK");
            assertThat(AuthTest.ok(etcdctl, endpoint, ca, asAlice, aliceKey, "get", "a/ctl", "--print-value-only")).isEqualTo("x\n");
            var denied = AuthTest.etcdctl(etcdctl, endpoint, ca, asAlice, aliceKey, "put", "b/ctl", "x");
            assertThat(denied.exit()).isNotZero();
            assertThat(denied.out()).contains("etcdserver: permission denied");
            assertThat(AuthTest.ok(etcdctl, endpoint, ca, "--cert=" + rootCert.cert(), "--key=" + rootCert.key(), "user", "list"))
                    .isEqualTo("alice\nroot\n");
        }
    }

    @Test
    void withoutClientCertAuthTheCommonNameNamesNoOne() throws Exception {
        var certs = TestCerts.create(dir.resolve("certs"));
        var member = certs.issue("member");
        var rootCert = certs.issue("root");
        // A CA without --client-cert-auth: certificates are verified if offered, but are no login.
        try (var cluster = new TestCluster(dir, 1, c -> TlsTest.secure(c, security(certs, member, false), true, false))) {
            cluster.awaitLeader(20_000);
            String endpoint = cluster.endpoint(0);
            try (var bootstrap = TlsTest.client(endpoint, certs, rootCert)) {
                setUp(bootstrap);
            }
            try (var root = TlsTest.client(endpoint, certs, rootCert)) {
                assertThatThrownBy(() -> get(root.getKVClient().get(bs("b/secret")))).hasMessageContaining("etcdserver: user name is empty");
            }
            try (var root = Client.builder().endpoints(endpoint).user(bs("root")).password(bs("rootpw"))
                    .sslContext(b -> b.trustManager(certs.caCert.toFile())).build()) {
                assertThat(get(root.getKVClient().get(bs("b/secret"))).getCount()).isEqualTo(1);
            }
        }
    }
}
