package io.synod.server.auth;

import com.google.protobuf.ByteString;
import io.etcd.jetcd.api.*;
import io.grpc.Channel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import io.synod.mvcc.AuthCommand;
import io.synod.mvcc.AuthResponse;
import io.synod.mvcc.Bytes;
import io.synod.mvcc.Command;
import io.synod.mvcc.MvccError;
import io.synod.mvcc.MvccException;
import io.synod.mvcc.auth.AuthErrors;
import io.synod.mvcc.auth.AuthOp;
import io.synod.mvcc.auth.AuthState;
import io.synod.mvcc.auth.Permission;
import java.util.concurrent.Semaphore;
import java.util.function.Function;
import java.util.function.LongFunction;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * etcd's Auth service. Every change (enable, disable, users, roles, permissions) becomes an
 * {@link AuthCommand} written through the Raft log by the leader (a follower forwards the
 * original request, as for key-value writes), so all members apply the same auth state in the
 * same order; passwords are hashed ({@link Passwords}) by the member that proposes, so only hashes
 * enter the log. Reads (user/role get and list) and Authenticate first wait for a read index, so
 * they see every change acknowledged before they arrived. Authenticate issues a token from the
 * member's {@link AuthTokens} provider (a simple token from this member's {@link TokenStore}, or a
 * JWT any member verifies, {@link JwtTokens}), stamped with the auth revision it read. Who may
 * call what is decided by {@link AuthGate}.
 */
public final class AuthService extends AuthGrpc.AuthImplBase {
    private static final Logger log = LoggerFactory.getLogger(AuthService.class);

    /** How a change reaches the log: the server's proposer ({@code write(command, forward, convert, localize)}). */
    public interface Writer {
        <R> R write(Command command, Function<Channel, R> forward, Function<io.synod.mvcc.Response, R> convert, UnaryOperator<R> localize);
    }

    private final Writer writer;
    private final Runnable linearize;
    private final Supplier<AuthState> state;
    private final LongFunction<ResponseHeader> header;
    private final UnaryOperator<ResponseHeader> localHeader;
    private final Passwords passwords;
    private final AuthTokens tokens;
    private final Supplier<Long> revision;
    /**
     * Verified against when the user does not exist, so that costs as much as a wrong password. Hashed at the first
     * authentication, not at start-up: PBKDF2 costs about 0.3 s of CPU, and most members never authenticate.
     */
    private String dummyHash;
    /** Password hashing is deliberately slow: at most one per core at a time, so floods of logins cannot starve other work. */
    private final Semaphore hashing = new Semaphore(Math.max(1, Runtime.getRuntime().availableProcessors()));

    /**
     * @param linearize   waits until this member has applied everything committed before the call (a read index)
     * @param header      the response header for a key-value revision
     * @param localHeader a leader's header as this member reports it (for forwarded replies)
     * @param revision    the current key-value revision, for read replies
     */
    public AuthService(Writer writer, Runnable linearize, Supplier<AuthState> state, LongFunction<ResponseHeader> header,
            UnaryOperator<ResponseHeader> localHeader, Passwords passwords, AuthTokens tokens, Supplier<Long> revision) {
        this.writer = writer;
        this.linearize = linearize;
        this.state = state;
        this.header = header;
        this.localHeader = localHeader;
        this.passwords = passwords;
        this.tokens = tokens;
        this.revision = revision;
    }

    // ---- changes, through the log -------------------------------------------------------------

    @Override
    public void authEnable(AuthEnableRequest request, StreamObserver<AuthEnableResponse> out) {
        respond(out, () -> change(new AuthOp.Enable(), ch -> AuthGrpc.newBlockingStub(ch).authEnable(request),
                h -> AuthEnableResponse.newBuilder().setHeader(h).build(), r -> r.toBuilder().setHeader(localHeader.apply(r.getHeader())).build()));
    }

    @Override
    public void authDisable(AuthDisableRequest request, StreamObserver<AuthDisableResponse> out) {
        respond(out, () -> {
            var r = change(new AuthOp.Disable(), ch -> AuthGrpc.newBlockingStub(ch).authDisable(request),
                    h -> AuthDisableResponse.newBuilder().setHeader(h).build(),
                    x -> x.toBuilder().setHeader(localHeader.apply(x.getHeader())).build());
            tokens.clear();
            return r;
        });
    }

    @Override
    public void userAdd(AuthUserAddRequest request, StreamObserver<AuthUserAddResponse> out) {
        respond(out, () -> change(new AuthOp.UserAdd(request.getName(), hash(request.getPassword()), false),
                ch -> AuthGrpc.newBlockingStub(ch).userAdd(request), h -> AuthUserAddResponse.newBuilder().setHeader(h).build(),
                r -> r.toBuilder().setHeader(localHeader.apply(r.getHeader())).build()));
    }

    @Override
    public void userDelete(AuthUserDeleteRequest request, StreamObserver<AuthUserDeleteResponse> out) {
        respond(out, () -> change(new AuthOp.UserDelete(request.getName()), ch -> AuthGrpc.newBlockingStub(ch).userDelete(request),
                h -> AuthUserDeleteResponse.newBuilder().setHeader(h).build(),
                r -> r.toBuilder().setHeader(localHeader.apply(r.getHeader())).build()));
    }

    @Override
    public void userChangePassword(AuthUserChangePasswordRequest request, StreamObserver<AuthUserChangePasswordResponse> out) {
        respond(out, () -> change(new AuthOp.UserChangePassword(request.getName(), hash(request.getPassword())),
                ch -> AuthGrpc.newBlockingStub(ch).userChangePassword(request),
                h -> AuthUserChangePasswordResponse.newBuilder().setHeader(h).build(),
                r -> r.toBuilder().setHeader(localHeader.apply(r.getHeader())).build()));
    }

    @Override
    public void userGrantRole(AuthUserGrantRoleRequest request, StreamObserver<AuthUserGrantRoleResponse> out) {
        respond(out, () -> change(new AuthOp.UserGrantRole(request.getUser(), request.getRole()),
                ch -> AuthGrpc.newBlockingStub(ch).userGrantRole(request), h -> AuthUserGrantRoleResponse.newBuilder().setHeader(h).build(),
                r -> r.toBuilder().setHeader(localHeader.apply(r.getHeader())).build()));
    }

    @Override
    public void userRevokeRole(AuthUserRevokeRoleRequest request, StreamObserver<AuthUserRevokeRoleResponse> out) {
        respond(out, () -> change(new AuthOp.UserRevokeRole(request.getName(), request.getRole()),
                ch -> AuthGrpc.newBlockingStub(ch).userRevokeRole(request),
                h -> AuthUserRevokeRoleResponse.newBuilder().setHeader(h).build(),
                r -> r.toBuilder().setHeader(localHeader.apply(r.getHeader())).build()));
    }

    @Override
    public void roleAdd(AuthRoleAddRequest request, StreamObserver<AuthRoleAddResponse> out) {
        respond(out, () -> change(new AuthOp.RoleAdd(request.getName()), ch -> AuthGrpc.newBlockingStub(ch).roleAdd(request),
                h -> AuthRoleAddResponse.newBuilder().setHeader(h).build(),
                r -> r.toBuilder().setHeader(localHeader.apply(r.getHeader())).build()));
    }

    @Override
    public void roleDelete(AuthRoleDeleteRequest request, StreamObserver<AuthRoleDeleteResponse> out) {
        respond(out, () -> change(new AuthOp.RoleDelete(request.getRole()), ch -> AuthGrpc.newBlockingStub(ch).roleDelete(request),
                h -> AuthRoleDeleteResponse.newBuilder().setHeader(h).build(),
                r -> r.toBuilder().setHeader(localHeader.apply(r.getHeader())).build()));
    }

    @Override
    public void roleGrantPermission(AuthRoleGrantPermissionRequest request, StreamObserver<AuthRoleGrantPermissionResponse> out) {
        respond(out, () -> {
            var p = request.getPerm();
            if (p.getPermTypeValue() < 0 || p.getPermTypeValue() > 2) throw status(AuthErrors.INVALID_AUTH_MGMT);
            var perm = new Permission(Permission.Type.values()[p.getPermTypeValue()], bytes(p.getKey()), bytes(p.getRangeEnd()));
            return change(new AuthOp.RoleGrantPermission(request.getName(), perm),
                    ch -> AuthGrpc.newBlockingStub(ch).roleGrantPermission(request),
                    h -> AuthRoleGrantPermissionResponse.newBuilder().setHeader(h).build(),
                    r -> r.toBuilder().setHeader(localHeader.apply(r.getHeader())).build());
        });
    }

    @Override
    public void roleRevokePermission(AuthRoleRevokePermissionRequest request, StreamObserver<AuthRoleRevokePermissionResponse> out) {
        respond(out, () -> change(new AuthOp.RoleRevokePermission(request.getRole(), bytes(request.getKey()), bytes(request.getRangeEnd())),
                ch -> AuthGrpc.newBlockingStub(ch).roleRevokePermission(request),
                h -> AuthRoleRevokePermissionResponse.newBuilder().setHeader(h).build(),
                r -> r.toBuilder().setHeader(localHeader.apply(r.getHeader())).build()));
    }

    // ---- reads, after a read index --------------------------------------------------------------

    @Override
    public void authenticate(AuthenticateRequest request, StreamObserver<AuthenticateResponse> out) {
        respond(out, () -> {
            AuthState s = current();
            if (!s.enabled()) throw status(AuthErrors.AUTH_NOT_ENABLED);
            if (!tokens.canIssue()) {
                // etcd's verify-only JWT member (pub-key without priv-key) refuses logins with this text.
                throw Status.UNKNOWN.withDescription("auth: token signing attempted with verify-only key").asRuntimeException();
            }
            var user = s.user(request.getName());
            if (!hashing.tryAcquire()) throw Status.RESOURCE_EXHAUSTED.withDescription("etcdserver: too many requests").asRuntimeException();
            boolean ok;
            try {
                // A missing user still costs a hash, so timing does not tell which user names exist.
                ok = Passwords.verify(request.getPassword(), user.filter(u -> !u.noPassword()).map(AuthState.User::passwordHash)
                        .orElseGet(this::dummyHash)) && user.isPresent() && !user.get().noPassword();
            } finally {
                hashing.release();
            }
            if (!ok) throw status(AuthErrors.AUTH_FAILED);
            return AuthenticateResponse.newBuilder().setHeader(header.apply(revision.get()))
                    .setToken(tokens.issue(request.getName(), s.revision())).build();
        });
    }

    @Override
    public void userGet(AuthUserGetRequest request, StreamObserver<AuthUserGetResponse> out) {
        respond(out, () -> {
            var u = current().user(request.getName()).orElseThrow(() -> status(AuthErrors.USER_NOT_FOUND));
            return AuthUserGetResponse.newBuilder().setHeader(header.apply(revision.get())).addAllRoles(u.roles()).build();
        });
    }

    @Override
    public void userList(AuthUserListRequest request, StreamObserver<AuthUserListResponse> out) {
        respond(out, () -> AuthUserListResponse.newBuilder().setHeader(header.apply(revision.get()))
                .addAllUsers(current().users().keySet()).build());
    }

    @Override
    public void roleGet(AuthRoleGetRequest request, StreamObserver<AuthRoleGetResponse> out) {
        respond(out, () -> {
            AuthState s = current();
            var b = AuthRoleGetResponse.newBuilder().setHeader(header.apply(revision.get()));
            if (request.getRole().equals(AuthState.ROOT) && s.role(AuthState.ROOT).isEmpty()) {
                // etcd: the root role exists implicitly and may do anything.
                return b.addPerm(io.etcd.jetcd.api.Permission.newBuilder().setPermType(io.etcd.jetcd.api.Permission.Type.READWRITE)
                        .setKey(ByteString.copyFrom(new byte[] {0})).setRangeEnd(ByteString.copyFrom(new byte[] {0}))).build();
            }
            var r = s.role(request.getRole()).orElseThrow(() -> status(AuthErrors.ROLE_NOT_FOUND));
            for (Permission p : r.permissions()) {
                b.addPerm(io.etcd.jetcd.api.Permission.newBuilder().setPermTypeValue(p.type().ordinal())
                        .setKey(ByteString.copyFrom(p.key().toByteArray())).setRangeEnd(ByteString.copyFrom(p.rangeEnd().toByteArray())));
            }
            return b.build();
        });
    }

    @Override
    public void roleList(AuthRoleListRequest request, StreamObserver<AuthRoleListResponse> out) {
        respond(out, () -> AuthRoleListResponse.newBuilder().setHeader(header.apply(revision.get()))
                .addAllRoles(current().roles().keySet()).build());
    }

    // ---- plumbing -------------------------------------------------------------------------------


    private AuthState current() {
        linearize.run();
        return state.get();
    }

    private synchronized String dummyHash() {
        if (dummyHash == null) dummyHash = passwords.hash("synod-no-such-user");
        return dummyHash;
    }

    private String hash(String password) {
        if (!hashing.tryAcquire()) throw Status.RESOURCE_EXHAUSTED.withDescription("etcdserver: too many requests").asRuntimeException();
        try {
            return passwords.hash(password);
        } finally {
            hashing.release();
        }
    }

    private <R> R change(AuthOp op, Function<Channel, R> forward, Function<ResponseHeader, R> reply, UnaryOperator<R> localize) {
        return writer.write(new AuthCommand(op), forward, resp -> reply.apply(header.apply(((AuthResponse) resp).revision())), localize);
    }

    private static Bytes bytes(ByteString b) {
        return Bytes.copyOf(b.toByteArray());
    }

    static StatusRuntimeException status(MvccError e) {
        Status s = switch (e.code()) {
            case INVALID_ARGUMENT -> Status.INVALID_ARGUMENT;
            case OUT_OF_RANGE -> Status.OUT_OF_RANGE;
            case FAILED_PRECONDITION -> Status.FAILED_PRECONDITION;
            case NOT_FOUND -> Status.NOT_FOUND;
            case RESOURCE_EXHAUSTED -> Status.RESOURCE_EXHAUSTED;
            case DATA_LOSS -> Status.DATA_LOSS;
        };
        return s.withDescription(e.message()).asRuntimeException();
    }

    private static <R> void respond(StreamObserver<R> out, Supplier<R> body) {
        R r;
        try {
            r = body.get();
        } catch (StatusRuntimeException e) {
            out.onError(e);
            return;
        } catch (MvccException e) {
            out.onError(status(e.error()));
            return;
        } catch (RuntimeException e) {
            log.warn("auth request failed", e);
            out.onError(Status.INTERNAL.withDescription("synod: " + e).asRuntimeException());
            return;
        }
        out.onNext(r);
        out.onCompleted();
    }
}
