package io.synod.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.api.AuthGrpc;
import io.etcd.jetcd.api.AuthenticateRequest;
import io.etcd.jetcd.api.KVGrpc;
import io.etcd.jetcd.api.PutRequest;
import io.etcd.jetcd.api.RangeRequest;
import io.etcd.jetcd.auth.Permission;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.MetadataUtils;
import io.synod.server.auth.AuthGate;
import io.synod.server.auth.Jwt;
import io.synod.server.security.AuthTokenSpec;
import io.synod.server.security.SecurityConfig;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.spec.ECGenParameterSpec;
import java.util.Base64;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code --auth-token jwt} on a three-member cluster that shares one ES256 key pair (the third
 * member has only the public key, etcd's verify-only mode): a token issued by one member works on
 * the others; it is refused with etcd's texts once an auth change makes its revision old, once it
 * expires, and when another key signed it; the verify-only member refuses logins; and jetcd and
 * etcdctl, which log in again on those errors, keep working across auth changes.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class JwtAuthTest {
    static final long TTL_MILLIS = 4000;
    @TempDir Path dir;

    static ByteSequence bs(String s) {
        return ByteSequence.from(s, StandardCharsets.UTF_8);
    }

    static String pem(String label, byte[] der) {
        return "-----BEGIN " + label + "-----\n" + Base64.getMimeEncoder(64, "\n".getBytes()).encodeToString(der) + "\n-----END " + label
                + "-----\n";
    }

    static KeyPair ecPair() throws Exception {
        var g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp256r1"));
        return g.generateKeyPair();
    }

    static <T> T get(java.util.concurrent.CompletableFuture<T> f) throws Exception {
        return f.get(30, TimeUnit.SECONDS);
    }

    static ManagedChannel channel(String endpoint) {
        URI u = URI.create(endpoint);
        return NettyChannelBuilder.forAddress(u.getHost(), u.getPort()).usePlaintext().build();
    }

    static String login(ManagedChannel ch, String user, String password) {
        return AuthGrpc.newBlockingStub(ch).withDeadlineAfter(20, TimeUnit.SECONDS)
                .authenticate(AuthenticateRequest.newBuilder().setName(user).setPassword(password).build()).getToken();
    }

    static KVGrpc.KVBlockingStub kv(ManagedChannel ch, String token) {
        var md = new Metadata();
        md.put(AuthGate.TOKEN, token);
        return KVGrpc.newBlockingStub(ch).withInterceptors(MetadataUtils.newAttachHeadersInterceptor(md)).withDeadlineAfter(20, TimeUnit.SECONDS);
    }

    static RangeRequest range(String key) {
        return RangeRequest.newBuilder().setKey(ByteString.copyFromUtf8(key)).build();
    }

    static PutRequest put(String key) {
        return PutRequest.newBuilder().setKey(ByteString.copyFromUtf8(key)).setValue(ByteString.copyFromUtf8("v")).build();
    }

    static void refused(Runnable call, Status.Code code, String description) {
        assertThatThrownBy(call::run).isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
            assertThat(e.getStatus().getCode()).isEqualTo(code);
            assertThat(e.getStatus().getDescription()).isEqualTo(description);
        });
    }

    /** Waits until every member has applied what the most advanced one has (an auth change acknowledged to a client). */
    static void awaitApplied(TestCluster cluster) throws InterruptedException {
        long target = 0;
        for (SynodServer s : cluster.servers) target = Math.max(target, s.driver().appliedIndex());
        long deadline = System.currentTimeMillis() + 20_000;
        for (SynodServer s : cluster.servers) {
            while (s.driver().appliedIndex() < target) {
                assertThat(System.currentTimeMillis()).as("member %s applies index %d", s.config().name(), target).isLessThan(deadline);
                Thread.sleep(10);
            }
        }
    }

    @Test
    void jwtIssuedByOneMemberWorksOnTheOthersUntilStaleOrExpired() throws Exception {
        KeyPair keys = ecPair();
        Path priv = Files.writeString(dir.resolve("jwt-priv.pem"), pem("PRIVATE KEY", keys.getPrivate().getEncoded()));
        Path pub = Files.writeString(dir.resolve("jwt-pub.pem"), pem("PUBLIC KEY", keys.getPublic().getEncoded()));
        var full = new AuthTokenSpec.Jwt("ES256", Optional.of(pub), Optional.of(priv), TTL_MILLIS);
        var verifyOnly = new AuthTokenSpec.Jwt("ES256", Optional.of(pub), Optional.empty(), TTL_MILLIS);
        try (var cluster = new TestCluster(dir, 3, c -> c.withSecurity(SecurityConfig.NONE.withPasswordHashIterations(AuthTest.TEST_ITERATIONS)
                .withAuthToken(c.name().equals("m3") ? verifyOnly : full)))) {
            cluster.awaitLeader(20_000);
            try (var admin = Client.builder().endpoints(cluster.endpoint(0)).build()) {
                var auth = admin.getAuthClient();
                get(auth.userAdd(bs("root"), bs("rootpw")));
                get(auth.userGrantRole(bs("root"), bs("root")));
                get(auth.userAdd(bs("alice"), bs("alicepw")));
                get(auth.roleAdd(bs("app")));
                get(auth.roleGrantPermission(bs("app"), bs("a/"), bs("a0"), Permission.Type.READWRITE));
                get(auth.userGrantRole(bs("alice"), bs("app")));
                get(auth.authEnable());
            }
            awaitApplied(cluster);
            ManagedChannel c1 = channel(cluster.endpoint(0));
            ManagedChannel c2 = channel(cluster.endpoint(1));
            ManagedChannel c3 = channel(cluster.endpoint(2));
            try {
                String token = login(c1, "alice", "alicepw");
                String[] parts = token.split("\\.");
                assertThat(parts).hasSize(3);
                assertThat(new String(Base64.getUrlDecoder().decode(parts[0]), StandardCharsets.UTF_8)).contains("\"alg\":\"ES256\"");
                assertThat(new String(Base64.getUrlDecoder().decode(parts[1]), StandardCharsets.UTF_8))
                        .contains("\"username\":\"alice\"").contains("\"revision\":").contains("\"exp\":");
                // Issued by m1, honoured by m2 and by the verify-only m3, with alice's permissions.
                kv(c2, token).put(put("a/1"));
                assertThat(kv(c3, token).range(range("a/1")).getCount()).isEqualTo(1);
                refused(() -> kv(c3, token).put(put("b/1")), Status.Code.PERMISSION_DENIED, "etcdserver: permission denied");
                // The verify-only member cannot issue.
                refused(() -> login(c3, "alice", "alicepw"), Status.Code.UNKNOWN, "auth: token signing attempted with verify-only key");
                // A token another key signed, and a simple-token-shaped string, are not tokens here.
                KeyPair foreign = ecPair();
                String forged = Jwt.asymmetric(Jwt.Method.ES256, Optional.of(foreign.getPrivate()), Optional.of(foreign.getPublic()))
                        .sign(new Jwt.Claims("root", 100, System.currentTimeMillis() / 1000 + 60));
                refused(() -> kv(c2, forged).range(range("a/1")), Status.Code.UNAUTHENTICATED, "etcdserver: invalid auth token");
                refused(() -> kv(c2, "abcdef.1").range(range("a/1")), Status.Code.UNAUTHENTICATED, "etcdserver: invalid auth token");
                // Any auth change makes the token's revision old, on every member.
                try (var root = Client.builder().endpoints(cluster.endpoint(1)).user(bs("root")).password(bs("rootpw")).build()) {
                    get(root.getAuthClient().roleAdd(bs("other")));
                }
                awaitApplied(cluster);
                for (ManagedChannel ch : new ManagedChannel[] {c1, c2, c3}) {
                    refused(() -> kv(ch, token).range(range("a/1")), Status.Code.INVALID_ARGUMENT, "etcdserver: revision of auth store is old");
                }
                // A new login speaks for the new revision; it works until it expires, then is invalid.
                String fresh = login(c2, "alice", "alicepw");
                assertThat(kv(c1, fresh).range(range("a/1")).getCount()).isEqualTo(1);
                Thread.sleep(TTL_MILLIS + 1100); // exp has whole seconds
                refused(() -> kv(c1, fresh).range(range("a/1")), Status.Code.UNAUTHENTICATED, "etcdserver: invalid auth token");
            } finally {
                c1.shutdownNow();
                c2.shutdownNow();
                c3.shutdownNow();
            }
            // jetcd logs in again on "revision of auth store is old" and "invalid auth token": alice keeps working
            // through auth changes and past the token's TTL.
            try (var alice = Client.builder().endpoints(cluster.endpoint(1)).user(bs("alice")).password(bs("alicepw")).build();
                    var root = Client.builder().endpoints(cluster.endpoint(0)).user(bs("root")).password(bs("rootpw")).build()) {
                get(alice.getKVClient().put(bs("a/2"), bs("x")));
                get(root.getAuthClient().roleAdd(bs("another")));
                awaitApplied(cluster);
                get(alice.getKVClient().put(bs("a/3"), bs("x")));
                Thread.sleep(TTL_MILLIS + 1100);
                assertThat(get(alice.getKVClient().get(bs("a/3"))).getCount()).isEqualTo(1);
                assertThatThrownBy(() -> get(alice.getKVClient().put(bs("b/1"), bs("x")))).hasMessageContaining("etcdserver: permission denied");
            }
            Path etcdctl = EtcdctlTest.etcdctl();
            Assumptions.assumeTrue(etcdctl != null, "etcdctl is not installed; skipping its JWT part");
            String e2 = cluster.endpoint(1).replace("http://", "");
            assertThat(AuthTest.ok(etcdctl, e2, "--user=alice:alicepw", "put", "a/ctl", "v")).contains("OK");
            assertThat(AuthTest.ok(etcdctl, e2, "--user=root:rootpw", "get", "a/ctl", "--print-value-only")).isEqualTo("v\n");
            var verifyOnlyLogin = AuthTest.etcdctl(etcdctl, cluster.endpoint(2).replace("http://", ""), "--user=root:rootpw", "get", "a/ctl");
            assertThat(verifyOnlyLogin.exit()).isNotZero();
            assertThat(verifyOnlyLogin.out()).contains("auth: token signing attempted with verify-only key");
        }
    }
}
