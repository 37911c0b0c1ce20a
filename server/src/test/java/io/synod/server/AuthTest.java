package io.synod.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.api.AuthGrpc;
import io.etcd.jetcd.api.AuthenticateRequest;
import io.etcd.jetcd.api.KVGrpc;
import io.etcd.jetcd.auth.Permission;
import io.etcd.jetcd.op.Cmp;
import io.etcd.jetcd.op.CmpTarget;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.PutOption;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.MetadataUtils;
import io.synod.server.auth.AuthGate;
import io.synod.server.security.SecurityConfig;
import java.io.File;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * etcd's authentication end to end: users, roles and permissions set up with jetcd (through one
 * member, forwarded to the leader) and enforced on another; allowed and denied key-value, txn and
 * lease operations with etcd's codes and texts; root-only admin calls; token expiry; and the same
 * flow with {@code etcdctl --user}.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class AuthTest {
    /** Few PBKDF2 rounds: the tests exercise the flow, not the hash's cost. */
    static final int TEST_ITERATIONS = 1000;
    static final long TOKEN_TTL_MILLIS = 2000;

    @TempDir Path dir;

    static ByteSequence bs(String s) {
        return ByteSequence.from(s, StandardCharsets.UTF_8);
    }

    static ServerConfig withAuthSettings(ServerConfig c) {
        return c.withSecurity(SecurityConfig.NONE.withPasswordHashIterations(TEST_ITERATIONS).withAuthTokenTtlMillis(TOKEN_TTL_MILLIS));
    }

    static <T> T get(java.util.concurrent.CompletableFuture<T> f) throws Exception {
        return f.get(20, TimeUnit.SECONDS);
    }

    @Test
    void jetcdUsersRolesAndEnforcement() throws Exception {
        try (var cluster = new TestCluster(dir, 3, AuthTest::withAuthSettings)) {
            cluster.awaitLeader(20_000);
            try (var admin = Client.builder().endpoints(cluster.endpoint(0)).build()) {
                var auth = admin.getAuthClient();
                assertThatThrownBy(() -> get(auth.authEnable())).hasMessageContaining("etcdserver: root user does not exist");
                get(auth.userAdd(bs("root"), bs("rootpw")));
                assertThatThrownBy(() -> get(auth.authEnable())).hasMessageContaining("etcdserver: root user does not have root role");
                get(auth.userGrantRole(bs("root"), bs("root")));
                get(auth.userAdd(bs("alice"), bs("alicepw")));
                assertThatThrownBy(() -> get(auth.userAdd(bs("alice"), bs("x")))).hasMessageContaining("etcdserver: user name already exists");
                get(auth.roleAdd(bs("app")));
                get(auth.roleGrantPermission(bs("app"), bs("a/"), bs("a0"), Permission.Type.READWRITE));
                get(auth.roleGrantPermission(bs("app"), bs("ro"), bs(""), Permission.Type.READ));
                get(auth.userGrantRole(bs("alice"), bs("app")));
                assertThatThrownBy(() -> get(auth.userGrantRole(bs("nobody"), bs("app")))).hasMessageContaining("etcdserver: user name not found");
                get(admin.getKVClient().put(bs("b/secret"), bs("s")));
                long revisionBefore = authStatus(cluster, 2).authRevision();
                assertThat(authStatus(cluster, 2).enabled()).isFalse();
                get(auth.authEnable());
                // etcd 3.5's AuthStatus answers anyone, token or not, from the replicated auth state.
                var status = authStatus(cluster, 0);
                assertThat(status.enabled()).isTrue();
                assertThat(status.authRevision()).isGreaterThan(revisionBefore);
                assertThat(status.header().getMemberId()).isEqualTo(cluster.servers[0].memberId());
                // Without a token a key-value request names no user.
                assertThatThrownBy(() -> get(admin.getKVClient().get(bs("a/1")))).hasMessageContaining("etcdserver: user name is empty");
            }
            // Alice logs in on another member; the auth state was replicated there.
            try (var alice = Client.builder().endpoints(cluster.endpoint(2)).user(bs("alice")).password(bs("alicepw")).build();
                    var root = Client.builder().endpoints(cluster.endpoint(1)).user(bs("root")).password(bs("rootpw")).build()) {
                var kv = alice.getKVClient();
                get(kv.put(bs("a/1"), bs("v1")));
                assertThat(get(kv.get(bs("a/1"))).getKvs().get(0).getValue()).isEqualTo(bs("v1"));
                assertThat(get(kv.get(bs("a/"), GetOption.builder().isPrefix(true).build())).getCount()).isEqualTo(1);
                assertThat(get(kv.get(bs("ro"))).getCount()).isZero();
                assertThatThrownBy(() -> get(kv.put(bs("ro"), bs("x")))).hasMessageContaining("etcdserver: permission denied");
                assertThatThrownBy(() -> get(kv.get(bs("b/secret")))).hasMessageContaining("etcdserver: permission denied");
                assertThatThrownBy(() -> get(kv.get(bs("a"), GetOption.builder().withRange(bs("b")).build())))
                        .hasMessageContaining("etcdserver: permission denied"); // [a, b) is wider than [a/, a0)
                assertThatThrownBy(() -> get(kv.delete(bs("b/secret")))).hasMessageContaining("etcdserver: permission denied");
                // A txn is checked op by op, compares included.
                get(kv.txn().If(new Cmp(bs("a/1"), Cmp.Op.EQUAL, CmpTarget.value(bs("v1")))).Then(Op.put(bs("a/2"), bs("v2"), PutOption.DEFAULT))
                        .commit());
                assertThatThrownBy(() -> get(kv.txn().If(new Cmp(bs("b/secret"), Cmp.Op.EQUAL, CmpTarget.value(bs("s"))))
                        .Then(Op.put(bs("a/3"), bs("v"), PutOption.DEFAULT)).commit())).hasMessageContaining("etcdserver: permission denied");
                assertThatThrownBy(() -> get(kv.txn().Then(Op.put(bs("a/3"), bs("v"), PutOption.DEFAULT))
                        .Else(Op.delete(bs("b/secret"), io.etcd.jetcd.options.DeleteOption.DEFAULT)).commit()))
                        .hasMessageContaining("etcdserver: permission denied");
                // Admin calls are root's.
                assertThatThrownBy(() -> get(alice.getAuthClient().userList())).hasMessageContaining("etcdserver: permission denied");
                assertThat(get(root.getAuthClient().userList()).getUsers()).containsExactly("alice", "root");
                assertThat(get(root.getAuthClient().roleGet(bs("app"))).getPermissions()).hasSize(2);
                assertThat(get(root.getKVClient().get(bs("b/secret"))).getCount()).isEqualTo(1);
                // LeaseRevoke needs write permission on every attached key.
                long mine = get(alice.getLeaseClient().grant(60)).getID();
                get(kv.put(bs("a/leased"), bs("x"), PutOption.builder().withLeaseId(mine).build()));
                get(alice.getLeaseClient().revoke(mine));
                long roots = get(root.getLeaseClient().grant(60)).getID();
                get(root.getKVClient().put(bs("b/leased"), bs("x"), PutOption.builder().withLeaseId(roots).build()));
                assertThatThrownBy(() -> get(alice.getLeaseClient().revoke(roots))).hasMessageContaining("etcdserver: permission denied");
                // Revoking the role takes alice's access away on every member.
                get(root.getAuthClient().userRevokeRole(bs("alice"), bs("app")));
                assertThatThrownBy(() -> get(root.getAuthClient().userRevokeRole(bs("root"), bs("root"))))
                        .hasMessageContaining("etcdserver: invalid auth management");
            }
            tokenExpires(cluster);
        }
    }

    /** etcd 3.5's AuthStatus, without a token, through the hand-declared method. */
    static AuthStatus.Response authStatus(TestCluster cluster, int member) {
        URI u = URI.create(cluster.endpoint(member));
        ManagedChannel ch = NettyChannelBuilder.forAddress(u.getHost(), u.getPort()).usePlaintext().build();
        try {
            return io.grpc.stub.ClientCalls.blockingUnaryCall(ch, AuthStatus.METHOD, io.grpc.CallOptions.DEFAULT.withDeadlineAfter(10, TimeUnit.SECONDS),
                    HandDeclared.EMPTY);
        } finally {
            ch.shutdownNow();
        }
    }

    /** A simple token works until it goes unused for its TTL, then is refused as etcd refuses it. */
    private void tokenExpires(TestCluster cluster) throws Exception {
        URI u = URI.create(cluster.endpoint(0));
        ManagedChannel ch = NettyChannelBuilder.forAddress(u.getHost(), u.getPort()).usePlaintext().build();
        try {
            var wrong = AuthenticateRequest.newBuilder().setName("alice").setPassword("nope").build();
            assertThatThrownBy(() -> AuthGrpc.newBlockingStub(ch).withDeadlineAfter(20, TimeUnit.SECONDS).authenticate(wrong))
                    .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                        assertThat(e.getStatus().getCode()).isEqualTo(io.grpc.Status.Code.INVALID_ARGUMENT);
                        assertThat(e.getStatus().getDescription()).isEqualTo("etcdserver: authentication failed, invalid user ID or password");
                    });
            String token = AuthGrpc.newBlockingStub(ch).withDeadlineAfter(20, TimeUnit.SECONDS)
                    .authenticate(AuthenticateRequest.newBuilder().setName("root").setPassword("rootpw").build()).getToken();
            var md = new Metadata();
            md.put(AuthGate.TOKEN, token);
            var kv = KVGrpc.newBlockingStub(ch).withInterceptors(MetadataUtils.newAttachHeadersInterceptor(md));
            var range = io.etcd.jetcd.api.RangeRequest.newBuilder().setKey(com.google.protobuf.ByteString.copyFromUtf8("b/secret")).build();
            assertThat(kv.withDeadlineAfter(20, TimeUnit.SECONDS).range(range).getCount()).isEqualTo(1);
            Thread.sleep(TOKEN_TTL_MILLIS + 500); // let the token go unused past its TTL
            assertThatThrownBy(() -> kv.withDeadlineAfter(20, TimeUnit.SECONDS).range(range))
                    .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                        assertThat(e.getStatus().getCode()).isEqualTo(io.grpc.Status.Code.UNAUTHENTICATED);
                        assertThat(e.getStatus().getDescription()).isEqualTo("etcdserver: invalid auth token");
                    });
        } finally {
            ch.shutdownNow();
        }
    }

    record Run(int exit, String out) {}

    static Run etcdctl(Path etcdctl, String endpoint, String... args) throws Exception {
        var cmd = new ArrayList<String>(List.of(etcdctl.toString(), "--endpoints=" + endpoint, "--command-timeout=20s"));
        cmd.addAll(List.of(args));
        var pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().put("ETCDCTL_API", "3");
        Process p = pb.start();
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        return new Run(p.exitValue(), out);
    }

    static String ok(Path etcdctl, String endpoint, String... args) throws Exception {
        Run r = etcdctl(etcdctl, endpoint, args);
        assertThat(r.exit()).as("etcdctl %s: %s", List.of(args), r.out()).isZero();
        return r.out();
    }

    @Test
    void etcdctlUserRoleFlow() throws Exception {
        Path etcdctl = EtcdctlTest.etcdctl();
        Assumptions.assumeTrue(etcdctl != null, "etcdctl is not installed (apt-get install etcd-client); skipping the etcdctl auth test");
        try (var cluster = new TestCluster(dir, 1, AuthTest::withAuthSettings)) {
            cluster.awaitLeader(20_000);
            String e = cluster.endpoint(0).replace("http://", "");
            ok(etcdctl, e, "user", "add", "root:rootpw");
            ok(etcdctl, e, "user", "grant-role", "root", "root");
            assertThat(ok(etcdctl, e, "auth", "enable")).contains("Authentication Enabled");
            String root = "--user=root:rootpw";
            ok(etcdctl, e, root, "user", "add", "bob:bobpw");
            ok(etcdctl, e, root, "role", "add", "kv");
            ok(etcdctl, e, root, "role", "grant-permission", "kv", "readwrite", "k/", "--prefix=true");
            ok(etcdctl, e, root, "user", "grant-role", "bob", "kv");
            assertThat(ok(etcdctl, e, root, "role", "get", "kv")).contains("[k/, k0)");
            assertThat(ok(etcdctl, e, root, "user", "list")).isEqualTo("bob\nroot\n");
            String bob = "--user=bob:bobpw";
            assertThat(ok(etcdctl, e, bob, "put", "k/1", "v")).contains("OK");
            assertThat(ok(etcdctl, e, bob, "get", "k/1", "--print-value-only")).isEqualTo("v\n");
            Run denied = etcdctl(etcdctl, e, bob, "put", "other", "v");
            assertThat(denied.exit()).isNotZero();
            assertThat(denied.out()).contains("etcdserver: permission denied");
            Run anonymous = etcdctl(etcdctl, e, "get", "k/1");
            assertThat(anonymous.exit()).isNotZero();
            assertThat(anonymous.out()).contains("etcdserver: user name is empty");
            Run badPassword = etcdctl(etcdctl, e, "--user=bob:wrong", "get", "k/1");
            assertThat(badPassword.out()).contains("etcdserver: authentication failed, invalid user ID or password");
            Run notRoot = etcdctl(etcdctl, e, bob, "user", "list");
            assertThat(notRoot.out()).contains("etcdserver: permission denied");
            assertThat(etcdctl(etcdctl, e, root, "user", "delete", "root").out()).contains("etcdserver: invalid auth management");
            assertThat(ok(etcdctl, e, root, "auth", "disable")).contains("Authentication Disabled");
            assertThat(ok(etcdctl, e, "get", "k/1", "--print-value-only")).isEqualTo("v\n");
        }
    }
}
