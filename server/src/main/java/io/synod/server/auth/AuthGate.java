package io.synod.server.auth;

import com.google.protobuf.ByteString;
import io.etcd.jetcd.api.CampaignRequest;
import io.etcd.jetcd.api.Compare;
import io.etcd.jetcd.api.DeleteRangeRequest;
import io.etcd.jetcd.api.LeaderRequest;
import io.etcd.jetcd.api.LeaseRevokeRequest;
import io.etcd.jetcd.api.ProclaimRequest;
import io.etcd.jetcd.api.PutRequest;
import io.etcd.jetcd.api.RangeRequest;
import io.etcd.jetcd.api.RequestOp;
import io.etcd.jetcd.api.ResignRequest;
import io.etcd.jetcd.api.TxnRequest;
import io.etcd.jetcd.api.WatchRequest;
import io.etcd.jetcd.api.lock.LockRequest;
import io.etcd.jetcd.api.lock.UnlockRequest;
import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.synod.mvcc.Bytes;
import io.synod.mvcc.auth.AuthErrors;
import io.synod.mvcc.auth.AuthState;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.LongFunction;
import java.util.function.Supplier;
import javax.naming.InvalidNameException;
import javax.naming.ldap.LdapName;
import javax.naming.ldap.Rdn;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;

/**
 * Enforces auth on the client listener while it is enabled, in front of every service, as etcd's
 * auth layer does. The caller is the user of the {@code token} header (from Authenticate; a JWT
 * issued before the latest auth change is refused with "revision of auth store is old"), or,
 * without a token and only on a listener with {@code --client-cert-auth} (as in etcd), the common
 * name of the verified TLS client certificate. Each request is checked
 * against the replicated {@link AuthState} as this member has applied it: Range needs read,
 * Put/DeleteRange write, a Txn read on every compare and the right permission on every op (nested
 * ones too), a watch create read on its range, LeaseRevoke write on every key attached to the
 * lease, Lock/Election read and write on the name's prefix, and the Auth, Cluster membership and
 * Maintenance admin calls the root role. Failures carry etcd's codes and texts.
 *
 * <p>Requests that followers forward to the leader arrive on the peer listener, which has no gate:
 * they were checked where the client sent them (protect the peer port with {@code --peer-client-cert-auth}).
 */
public final class AuthGate implements ServerInterceptor {
    /** The metadata key etcd clients put their token in. */
    public static final Metadata.Key<String> TOKEN = Metadata.Key.of("token", Metadata.ASCII_STRING_MARSHALLER);

    /** Calls only the root role may make (etcd's admin-permitted calls). */
    static final Set<String> ROOT_ONLY = Set.of(
            "etcdserverpb.Auth/AuthDisable", "etcdserverpb.Auth/UserAdd", "etcdserverpb.Auth/UserGet", "etcdserverpb.Auth/UserList",
            "etcdserverpb.Auth/UserDelete", "etcdserverpb.Auth/UserChangePassword", "etcdserverpb.Auth/UserGrantRole",
            "etcdserverpb.Auth/UserRevokeRole", "etcdserverpb.Auth/RoleAdd", "etcdserverpb.Auth/RoleGet", "etcdserverpb.Auth/RoleList",
            "etcdserverpb.Auth/RoleDelete", "etcdserverpb.Auth/RoleGrantPermission", "etcdserverpb.Auth/RoleRevokePermission",
            "etcdserverpb.Cluster/MemberAdd", "etcdserverpb.Cluster/MemberRemove", "etcdserverpb.Cluster/MemberUpdate",
            "etcdserverpb.Cluster/MemberPromote", "etcdserverpb.Maintenance/Defragment", "etcdserverpb.Maintenance/Hash",
            "etcdserverpb.Maintenance/HashKV", "etcdserverpb.Maintenance/Snapshot", "etcdserverpb.Maintenance/MoveLeader",
            "etcdserverpb.Maintenance/Downgrade");
    /** Calls anyone may make: logging in, and enabling auth (which is refused by the state unless a root user exists). */
    static final Set<String> OPEN = Set.of("etcdserverpb.Auth/Authenticate", "etcdserverpb.Auth/AuthEnable", "etcdserverpb.Auth/AuthStatus");

    private final Supplier<AuthState> state;
    private final AuthTokens tokens;
    private final boolean clientCertAuth;
    private final LongFunction<List<Bytes>> leaseKeys;

    /**
     * @param state          the auth state this member has applied
     * @param tokens         the token provider Authenticate issues from (simple or JWT)
     * @param clientCertAuth whether the listener requires verified client certificates ({@code --client-cert-auth});
     *                       only then is a certificate's CN taken as the user, as in etcd
     * @param leaseKeys      the keys attached to a lease (for LeaseRevoke)
     */
    public AuthGate(Supplier<AuthState> state, AuthTokens tokens, boolean clientCertAuth, LongFunction<List<Bytes>> leaseKeys) {
        this.state = state;
        this.tokens = tokens;
        this.clientCertAuth = clientCertAuth;
        this.leaseKeys = leaseKeys;
    }

    @Override
    public <Q, A> ServerCall.Listener<Q> interceptCall(ServerCall<Q, A> call, Metadata headers, ServerCallHandler<Q, A> next) {
        AuthState auth = state.get();
        String method = call.getMethodDescriptor().getFullMethodName();
        if (!auth.enabled() || OPEN.contains(method)) return next.startCall(call, headers);
        Optional<String> user;
        String token = headers.get(TOKEN);
        if (token != null) {
            Optional<AuthTokens.Info> info = tokens.info(token, auth.revision());
            // A JWT names the auth revision it was issued at; any auth change since retires it (the client logs in again).
            if (info.isPresent() && info.get().revision() < auth.revision()) return refuse(call, authOldRevision());
            user = info.map(AuthTokens.Info::user).filter(u -> auth.user(u).isPresent()); // a deleted user's tokens die with it
            if (user.isEmpty()) return refuse(call, Status.UNAUTHENTICATED.withDescription(AuthErrors.INVALID_AUTH_TOKEN));
        } else {
            user = clientCertAuth ? commonName(call.getAttributes().get(Grpc.TRANSPORT_ATTR_SSL_SESSION)) : Optional.empty();
        }
        if (ROOT_ONLY.contains(method)) {
            Status denied = user.isEmpty() ? userEmpty() : auth.isRoot(user.get()) ? null : permissionDenied();
            if (denied != null) return refuse(call, denied);
            return next.startCall(call, headers);
        }
        return io.synod.server.MessageGate.checkEach(call, next.startCall(call, headers),
                message -> java.util.Optional.ofNullable(check(state.get(), user, message)));
    }

    private static <Q, A> ServerCall.Listener<Q> refuse(ServerCall<Q, A> call, Status status) {
        call.close(status, new Metadata());
        return new ServerCall.Listener<>() {};
    }

    static Status userEmpty() {
        return Status.INVALID_ARGUMENT.withDescription("etcdserver: user name is empty");
    }

    static Status authOldRevision() {
        return Status.INVALID_ARGUMENT.withDescription(AuthErrors.AUTH_OLD_REVISION);
    }

    static Status permissionDenied() {
        return Status.PERMISSION_DENIED.withDescription(AuthErrors.PERMISSION_DENIED);
    }

    /** The refusal for {@code message} from {@code user}, or null when it is permitted. */
    Status check(AuthState auth, Optional<String> user, Object message) {
        if (!auth.enabled()) return null; // disabled since the call began
        Checker c = new Checker(auth, user);
        boolean ok = switch (message) {
            case RangeRequest r -> c.read(r.getKey(), r.getRangeEnd());
            case PutRequest p -> c.write(p.getKey(), ByteString.EMPTY);
            case DeleteRangeRequest d -> c.write(d.getKey(), d.getRangeEnd());
            case TxnRequest t -> c.txn(t);
            case WatchRequest w -> !w.hasCreateRequest() || c.read(w.getCreateRequest().getKey(), w.getCreateRequest().getRangeEnd());
            case LeaseRevokeRequest l -> c.leaseRevoke(l.getID());
            case LockRequest l -> c.prefix(l.getName());
            case UnlockRequest u -> c.write(u.getKey(), ByteString.EMPTY);
            case CampaignRequest r -> c.prefix(r.getName());
            case ProclaimRequest r -> c.write(r.getLeader().getKey(), ByteString.EMPTY);
            case ResignRequest r -> c.write(r.getLeader().getKey(), ByteString.EMPTY);
            case LeaderRequest r -> c.readPrefix(r.getName());
            default -> true; // lease grant/keep-alive/time-to-live, member list, status, alarms: any caller, as etcd
        };
        if (ok) return null;
        return user.isEmpty() ? userEmpty() : permissionDenied();
    }

    private final class Checker {
        final AuthState auth;
        final Optional<String> user;

        Checker(AuthState auth, Optional<String> user) {
            this.auth = auth;
            this.user = user;
        }

        boolean read(ByteString key, ByteString rangeEnd) {
            return user.isPresent() && auth.permitted(user.get(), bytes(key), bytes(rangeEnd), false);
        }

        boolean write(ByteString key, ByteString rangeEnd) {
            return user.isPresent() && auth.permitted(user.get(), bytes(key), bytes(rangeEnd), true);
        }

        boolean readPrefix(ByteString name) {
            return read(name, prefixEnd(name));
        }

        boolean prefix(ByteString name) {
            return read(name, prefixEnd(name)) && write(name, prefixEnd(name));
        }

        boolean txn(TxnRequest t) {
            for (Compare cmp : t.getCompareList()) if (!read(cmp.getKey(), cmp.getRangeEnd())) return false;
            for (RequestOp op : t.getSuccessList()) if (!op(op)) return false;
            for (RequestOp op : t.getFailureList()) if (!op(op)) return false;
            return true;
        }

        boolean op(RequestOp op) {
            return switch (op.getRequestCase()) {
                case REQUEST_RANGE -> read(op.getRequestRange().getKey(), op.getRequestRange().getRangeEnd());
                case REQUEST_PUT -> write(op.getRequestPut().getKey(), ByteString.EMPTY);
                case REQUEST_DELETE_RANGE -> write(op.getRequestDeleteRange().getKey(), op.getRequestDeleteRange().getRangeEnd());
                case REQUEST_TXN -> txn(op.getRequestTxn());
                case REQUEST_NOT_SET -> true;
            };
        }

        boolean leaseRevoke(long id) {
            if (user.isEmpty()) return false;
            if (auth.isRoot(user.get())) return true;
            for (Bytes k : leaseKeys.apply(id)) if (!auth.permitted(user.get(), k, Bytes.EMPTY, true)) return false;
            return true;
        }
    }

    private static Bytes bytes(ByteString b) {
        return Bytes.copyOf(b.toByteArray());
    }

    private static ByteString prefixEnd(ByteString name) {
        return ByteString.copyFrom(bytes(name).prefixEnd().toByteArray());
    }

    /** The CN of a verified client certificate, which etcd takes as the user name when no token is given. */
    static Optional<String> commonName(SSLSession session) {
        if (session == null) return Optional.empty();
        try {
            var certs = session.getPeerCertificates();
            if (certs.length == 0 || !(certs[0] instanceof X509Certificate x)) return Optional.empty();
            for (Rdn rdn : new LdapName(x.getSubjectX500Principal().getName()).getRdns()) {
                if (rdn.getType().equalsIgnoreCase("CN")) return Optional.of(rdn.getValue().toString());
            }
            return Optional.empty();
        } catch (SSLPeerUnverifiedException | InvalidNameException e) {
            return Optional.empty();
        }
    }
}
