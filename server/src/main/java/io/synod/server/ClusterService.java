package io.synod.server;

import com.google.common.util.concurrent.ListenableFuture;
import io.etcd.jetcd.api.ClusterGrpc;
import io.etcd.jetcd.api.Member;
import io.etcd.jetcd.api.MemberAddRequest;
import io.etcd.jetcd.api.MemberAddResponse;
import io.etcd.jetcd.api.MemberListRequest;
import io.etcd.jetcd.api.MemberListResponse;
import io.etcd.jetcd.api.MemberRemoveRequest;
import io.etcd.jetcd.api.MemberRemoveResponse;
import io.etcd.jetcd.api.MemberUpdateRequest;
import io.etcd.jetcd.api.MemberUpdateResponse;
import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import io.synod.consensus.ConfState;
import io.synod.mvcc.MvccStore;
import io.synod.replica.ReplicaDriver;
import io.synod.server.transport.PeerTransport;
import java.net.URI;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * etcd's Cluster service, read side: MemberList reports every member of the Raft configuration
 * (voters, including both halves of a joint configuration, and learners) with its id, name, peer
 * URLs, client URLs and learner flag. Membership changes (add, remove, update) are not offered
 * yet and answer UNIMPLEMENTED, saying so; MemberPromote is absent from the jetcd stubs, so gRPC
 * itself answers it UNIMPLEMENTED (unknown method).
 *
 * <p>Where each field comes from. Ids and roles come from the applied Raft configuration
 * ({@link ReplicaDriver#status()}); names and peer URLs from {@code --initial-cluster}, the only
 * source of membership while joining is unsupported (a member id missing there is listed with an
 * empty name and no URLs, as etcd lists a member that has not published itself). Client URLs are
 * what each member advertises itself: a member asks every peer once over the peer channel (the
 * request is marked {@value #SELF_ONLY_HEADER}, and a marked request is answered with the peer's
 * own entry only) and keeps the answer for the life of the process, since a member's advertised
 * URLs are fixed at start. A peer that does not answer within the member query timeout is listed
 * without client URLs and asked again next time. etcd instead replicates each member's client
 * URLs through Raft when it starts; Synod will once membership changes exist.
 */
final class ClusterService extends ClusterGrpc.ClusterImplBase {
    static final String SELF_ONLY_HEADER = "synod-member-self";
    private static final Metadata.Key<String> SELF_ONLY = Metadata.Key.of(SELF_ONLY_HEADER, Metadata.ASCII_STRING_MARSHALLER);
    private static final Context.Key<Boolean> SELF_ONLY_CONTEXT = Context.key(SELF_ONLY_HEADER);

    private final ServerConfig config;
    private final KvService kv;
    private final ReplicaDriver driver;
    private final StoreHolder store;
    private final PeerTransport transport;
    /** Client URLs each peer reported about itself, by member id; never changes once known. */
    private final Map<Long, List<String>> clientUrls = new ConcurrentHashMap<>();
    /** Name of each founding member, by member id. */
    private final Map<Long, String> names = new LinkedHashMap<>();

    ClusterService(ServerConfig config, KvService kv, ReplicaDriver driver, StoreHolder store, PeerTransport transport) {
        this.config = config;
        this.kv = kv;
        this.driver = driver;
        this.store = store;
        this.transport = transport;
        for (String n : config.initialCluster().keySet()) names.put(ServerConfig.memberId(n), n);
        clientUrls.put(config.memberId(), config.advertiseClientUrls());
    }

    /** The service with the interceptor that reads the self-only mark. */
    ServerServiceDefinition definition() {
        return ServerInterceptors.intercept(this, new ServerInterceptor() {
            @Override
            public <Q, A> ServerCall.Listener<Q> interceptCall(ServerCall<Q, A> call, Metadata headers, ServerCallHandler<Q, A> next) {
                return Contexts.interceptCall(Context.current().withValue(SELF_ONLY_CONTEXT, headers.containsKey(SELF_ONLY)), call,
                        headers, next);
            }
        });
    }

    @Override
    public void memberList(MemberListRequest request, StreamObserver<MemberListResponse> out) {
        var response = MemberListResponse.newBuilder().setHeader(kv.header(store.read(MvccStore::currentRevision)));
        ConfState conf = driver.status().confState();
        long self = config.memberId();
        if (Boolean.TRUE.equals(SELF_ONLY_CONTEXT.get())) {
            response.addMembers(member(self, conf));
        } else {
            askPeersForClientUrls(conf);
            for (long id : conf.allMembers()) response.addMembers(member(id, conf));
        }
        out.onNext(response.build());
        out.onCompleted();
    }

    private Member member(long id, ConfState conf) {
        var m = Member.newBuilder().setID(id).setIsLearner(conf.learners().contains(id) || conf.learnersNext().contains(id));
        String name = names.get(id);
        if (name != null) {
            m.setName(name);
            URI peer = config.initialCluster().get(name);
            m.addPeerURLs(peer.toString());
        }
        m.addAllClientURLs(clientUrls.getOrDefault(id, List.of()));
        return m.build();
    }

    /** Asks, in parallel, every member whose client URLs are not known yet; waits at most the member query timeout. */
    private void askPeersForClientUrls(ConfState conf) {
        var asked = new LinkedHashMap<Long, ListenableFuture<MemberListResponse>>();
        var marked = new Metadata();
        marked.put(SELF_ONLY, "1");
        for (long id : conf.allMembers()) {
            if (clientUrls.containsKey(id) || !names.containsKey(id)) continue;
            asked.put(id, ClusterGrpc.newFutureStub(transport.channel(id))
                    .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(marked))
                    .withDeadlineAfter(config.ops().memberQueryTimeoutMillis(), TimeUnit.MILLISECONDS)
                    .memberList(MemberListRequest.getDefaultInstance()));
        }
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(config.ops().memberQueryTimeoutMillis());
        asked.forEach((id, f) -> {
            try {
                for (Member m : f.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS).getMembersList()) {
                    if (m.getID() == id) clientUrls.put(id, List.copyOf(m.getClientURLsList()));
                }
            } catch (ExecutionException | TimeoutException e) {
                f.cancel(true); // listed without client URLs; asked again next time
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
    }

    private static final String NOT_YET = "synod: membership changes are not supported yet (only MemberList is)";

    @Override
    public void memberAdd(MemberAddRequest request, StreamObserver<MemberAddResponse> out) {
        out.onError(Status.UNIMPLEMENTED.withDescription(NOT_YET).asRuntimeException());
    }

    @Override
    public void memberRemove(MemberRemoveRequest request, StreamObserver<MemberRemoveResponse> out) {
        out.onError(Status.UNIMPLEMENTED.withDescription(NOT_YET).asRuntimeException());
    }

    @Override
    public void memberUpdate(MemberUpdateRequest request, StreamObserver<MemberUpdateResponse> out) {
        out.onError(Status.UNIMPLEMENTED.withDescription(NOT_YET).asRuntimeException());
    }
}
