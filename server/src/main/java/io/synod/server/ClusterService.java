package io.synod.server;

import com.google.common.util.concurrent.ListenableFuture;
import io.etcd.jetcd.api.ClusterGrpc;
import io.etcd.jetcd.api.MemberAddRequest;
import io.etcd.jetcd.api.MemberAddResponse;
import io.etcd.jetcd.api.MemberListRequest;
import io.etcd.jetcd.api.MemberListResponse;
import io.etcd.jetcd.api.MemberRemoveRequest;
import io.etcd.jetcd.api.MemberRemoveResponse;
import io.etcd.jetcd.api.MemberUpdateRequest;
import io.etcd.jetcd.api.MemberUpdateResponse;
import io.etcd.jetcd.api.ResponseHeader;
import io.grpc.CallOptions;
import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import io.synod.consensus.ConfChange;
import io.synod.consensus.ConfState;
import io.synod.consensus.ProposeResult;
import io.synod.mvcc.Member;
import io.synod.mvcc.MvccStore;
import io.synod.replica.ReplicaDriver;
import io.synod.replica.ReplicaException;
import io.synod.server.transport.PeerTransport;
import java.net.URI;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Function;

/**
 * etcd's Cluster service: MemberList, MemberAdd, MemberRemove, MemberUpdate and MemberPromote
 * (the last described by hand, {@link MemberPromote}), plus Synod's publish call by which a member
 * records its own name and client URLs.
 *
 * <p>Every change is a Raft membership change proposed by the leader (a follower forwards the
 * call, as writes are forwarded) and goes through joint consensus in the core; the member's
 * metadata rides in the change's context ({@link MemberChange}) and lands in the store's member
 * table when the entry is applied, so every member lists the same members. The leader checks a
 * request against its applied member table and configuration, under one lock so two concurrent
 * changes cannot both pass a check that only one of them may (two adds of one peer URL); the core
 * holds at most one change pending anyway, and a change refused because the previous one (or its
 * automatic leave) is still being applied is retried until the request deadline. Errors are
 * etcd's (rpctypes): a peer URL in use, an unknown member, promoting a voter, promoting a learner
 * that is not in sync (its match index below {@link ClusterOptions#promoteMatchPercent()} of the
 * leader's commit index), too many learners, removing the last voter.
 *
 * <p>MemberList is served from this member's applied state (as etcd 3.4 does). A member id the
 * configuration holds but the table lacks (a log written before member metadata existed) is listed
 * with the name and peer URL {@code --initial-cluster} gives it. A member whose client URLs are not
 * recorded yet (it has not published them) is asked over the peer channel (a request marked
 * {@value #SELF_ONLY_HEADER} is answered with the peer's own entry only), within the member query
 * timeout.
 */
final class ClusterService extends ClusterGrpc.ClusterImplBase {
    static final String SELF_ONLY_HEADER = "synod-member-self";
    private static final Metadata.Key<String> SELF_ONLY = Metadata.Key.of(SELF_ONLY_HEADER, Metadata.ASCII_STRING_MARSHALLER);
    private static final Context.Key<Boolean> SELF_ONLY_CONTEXT = Context.key(SELF_ONLY_HEADER);

    // etcd's errors (api/v3rpc/rpctypes), with their codes and exact messages.
    static final String PEER_URL_EXISTS = "etcdserver: Peer URLs already exists";
    static final String MEMBER_NOT_FOUND = "etcdserver: member not found";
    static final String MEMBER_NOT_LEARNER = "etcdserver: can only promote a learner member";
    static final String LEARNER_NOT_READY = "etcdserver: can only promote a learner member which is in sync with leader";
    static final String TOO_MANY_LEARNERS = "etcdserver: too many learner members in cluster";
    static final String NOT_ENOUGH_STARTED = "etcdserver: re-configuration failed due to not enough started members";
    static final String BAD_URLS = "etcdserver: given member URLs are invalid";

    private final ServerConfig config;
    private final KvService kv;
    private final Proposer proposer;
    private final ReplicaDriver driver;
    private final StoreHolder store;
    private final PeerTransport transport;
    private final ClusterOptions options;
    /** Held by the leader from checking a change to seeing it applied: one change at a time. */
    private final ReentrantLock changeLock = new ReentrantLock();
    /** Client URLs members reported about themselves when asked, by id; used until they publish them. */
    private final Map<Long, List<String>> askedClientUrls = new ConcurrentHashMap<>();

    ClusterService(ServerConfig config, KvService kv, Proposer proposer, StoreHolder store, PeerTransport transport, ClusterOptions options) {
        this.config = config;
        this.kv = kv;
        this.proposer = proposer;
        this.driver = proposer.driver();
        this.store = store;
        this.transport = transport;
        this.options = options;
    }

    /** The Cluster service (with MemberPromote) and the publish service, with the interceptors they need. */
    List<ServerServiceDefinition> definitions() {
        ServerInterceptor selfOnly = new ServerInterceptor() {
            @Override
            public <Q, A> ServerCall.Listener<Q> interceptCall(ServerCall<Q, A> call, Metadata headers, ServerCallHandler<Q, A> next) {
                return Contexts.interceptCall(Context.current().withValue(SELF_ONLY_CONTEXT, headers.containsKey(SELF_ONLY)), call,
                        headers, next);
            }
        };
        var cluster = MemberPromote.extend(bindService(), this::memberPromote);
        return List.of(ServerInterceptors.intercept(cluster, selfOnly, Proposer.forwardedInterceptor()),
                ServerInterceptors.intercept(MemberPromote.publishService(this::publish), Proposer.forwardedInterceptor()));
    }

    // ---- list ------------------------------------------------------------------------------------

    @Override
    public void memberList(MemberListRequest request, StreamObserver<MemberListResponse> out) {
        proposer.respond(out, () -> {
            var response = MemberListResponse.newBuilder().setHeader(header());
            if (Boolean.TRUE.equals(SELF_ONLY_CONTEXT.get())) {
                response.addMembers(selfEntry());
            } else {
                response.addAllMembers(listed(true));
            }
            return response.build();
        });
    }

    private ResponseHeader header() {
        return kv.header(store.read(MvccStore::currentRevision));
    }

    /** This member as it describes itself: what it was started with. */
    private io.etcd.jetcd.api.Member selfEntry() {
        ConfState conf = driver.status().confState();
        long self = config.memberId();
        return io.etcd.jetcd.api.Member.newBuilder().setID(self).setName(config.name())
                .addPeerURLs(config.initialCluster().get(config.name()).toString()).addAllClientURLs(config.advertiseClientUrls())
                .setIsLearner(conf.learners().contains(self) || conf.learnersNext().contains(self)).build();
    }

    /** Every member, from the applied member table (and the fallbacks the class comment describes). */
    private List<io.etcd.jetcd.api.Member> listed(boolean askPeers) {
        var byId = new LinkedHashMap<Long, Member>();
        for (Member m : store.read(MvccStore::members)) byId.put(m.id(), m);
        ConfState conf = driver.status().confState();
        Set<Long> removed = store.read(MvccStore::removedMembers);
        for (long id : conf.allMembers()) {
            // A removed member stays in the outgoing half of a joint configuration for a moment; it is gone for clients.
            if (byId.containsKey(id) || removed.contains(id)) continue;
            config.initialCluster().forEach((name, url) -> {
                if (ServerConfig.memberId(name) == id) byId.put(id, new Member(id, name, List.of(url.toString()), List.of(), false));
            });
            byId.putIfAbsent(id, new Member(id, "", List.of(), List.of(), conf.learners().contains(id)));
        }
        if (askPeers) askForClientUrls(byId.values());
        var out = new ArrayList<io.etcd.jetcd.api.Member>();
        for (Member m : byId.values()) {
            List<String> client = m.clientUrls();
            if (m.id() == config.memberId()) client = config.advertiseClientUrls();
            else if (client.isEmpty()) client = askedClientUrls.getOrDefault(m.id(), List.of());
            String name = m.name().isEmpty() && m.id() == config.memberId() ? config.name() : m.name();
            out.add(io.etcd.jetcd.api.Member.newBuilder().setID(m.id()).setName(name).addAllPeerURLs(m.peerUrls())
                    .addAllClientURLs(client).setIsLearner(m.learner()).build());
        }
        return out;
    }

    /** Asks, in parallel, members that have not published client URLs yet; waits at most the member query timeout. */
    private void askForClientUrls(Iterable<Member> members) {
        var asked = new LinkedHashMap<Long, ListenableFuture<MemberListResponse>>();
        var marked = new Metadata();
        marked.put(SELF_ONLY, "1");
        Set<Long> reachable = transport.peerIds();
        for (Member m : members) {
            if (!m.clientUrls().isEmpty() || askedClientUrls.containsKey(m.id()) || !reachable.contains(m.id())) continue;
            try {
                asked.put(m.id(), ClusterGrpc.newFutureStub(transport.channel(m.id()))
                        .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(marked))
                        .withDeadlineAfter(config.ops().memberQueryTimeoutMillis(), TimeUnit.MILLISECONDS)
                        .memberList(MemberListRequest.getDefaultInstance()));
            } catch (IllegalArgumentException gone) {
                // the peer left the transport since we looked: listed without client URLs
            }
        }
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(config.ops().memberQueryTimeoutMillis());
        asked.forEach((id, f) -> {
            try {
                for (var m : f.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS).getMembersList()) {
                    if (m.getID() == id) askedClientUrls.put(id, List.copyOf(m.getClientURLsList()));
                }
            } catch (ExecutionException | TimeoutException e) {
                f.cancel(true); // listed without client URLs; asked again next time
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
    }

    // ---- changes -----------------------------------------------------------------------------------

    @Override
    public void memberAdd(MemberAddRequest request, StreamObserver<MemberAddResponse> out) {
        proposer.respond(out, () -> proposer.onLeader(deadline -> changeHere(deadline, () -> add(request)),
                ch -> ClusterGrpc.newBlockingStub(ch).memberAdd(request), r -> r.toBuilder().setHeader(kv.localHeader(r.getHeader())).build()));
    }

    @Override
    public void memberRemove(MemberRemoveRequest request, StreamObserver<MemberRemoveResponse> out) {
        proposer.respond(out, () -> proposer.onLeader(deadline -> changeHere(deadline, () -> remove(request.getID())),
                ch -> ClusterGrpc.newBlockingStub(ch).memberRemove(request),
                r -> r.toBuilder().setHeader(kv.localHeader(r.getHeader())).build()));
    }

    @Override
    public void memberUpdate(MemberUpdateRequest request, StreamObserver<MemberUpdateResponse> out) {
        proposer.respond(out, () -> proposer.onLeader(deadline -> changeHere(deadline, () -> update(request.getID(), request.getPeerURLsList())),
                ch -> ClusterGrpc.newBlockingStub(ch).memberUpdate(request),
                r -> r.toBuilder().setHeader(kv.localHeader(r.getHeader())).build()));
    }

    void memberPromote(MemberPromote.Request request, StreamObserver<MemberPromote.Response> out) {
        proposer.respond(out, () -> proposer.onLeader(deadline -> changeHere(deadline, () -> promote(request.id())),
                ch -> ClientCalls.blockingUnaryCall(ch, MemberPromote.METHOD, CallOptions.DEFAULT, request),
                r -> new MemberPromote.Response(kv.localHeader(r.header()), r.members())));
    }

    /** The publish call: {@code self} is a member's own id, name and client URLs. */
    void publish(io.etcd.jetcd.api.Member self, StreamObserver<MemberUpdateResponse> out) {
        proposer.respond(out, () -> proposer.onLeader(deadline -> changeHere(deadline, () -> publishHere(self)),
                ch -> ClientCalls.blockingUnaryCall(ch, MemberPromote.PUBLISH, CallOptions.DEFAULT, self),
                r -> r.toBuilder().setHeader(kv.localHeader(r.getHeader())).build()));
    }

    /**
     * Records this member's name and client URLs in the replicated member table if they differ
     * from what it holds (etcd's publish on start), through the leader. Returns true when nothing
     * is left to publish.
     */
    boolean publishSelf() {
        long self = config.memberId();
        Optional<Member> recorded = store.read(s -> s.members().stream().filter(m -> m.id() == self).findFirst());
        if (recorded.isEmpty()) return false; // not applied here yet (a joining member catching up)
        if (recorded.get().name().equals(config.name()) && recorded.get().clientUrls().equals(config.advertiseClientUrls())) return true;
        var entry = io.etcd.jetcd.api.Member.newBuilder().setID(self).setName(config.name()).addAllClientURLs(config.advertiseClientUrls()).build();
        proposer.onLeader(deadline -> changeHere(deadline, () -> publishHere(entry)),
                ch -> ClientCalls.blockingUnaryCall(ch, MemberPromote.PUBLISH, CallOptions.DEFAULT, entry), r -> r);
        return true;
    }

    /** A checked change: what to propose, and how to answer once it is applied. */
    private record Change<R>(ConfChange change, Function<ResponseHeader, R> answer) {}

    @FunctionalInterface
    private interface Planner<R> {
        Change<R> plan();
    }

    /**
     * On the leader: under the change lock, checks the request against the applied state
     * ({@code planner} throws etcd's error if it fails), proposes the change and waits until it is
     * applied here, retrying while the core holds another change pending.
     */
    private <R> R changeHere(long deadline, Planner<R> planner) {
        try {
            if (!changeLock.tryLock(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) throw Proposer.timedOut();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw Status.CANCELLED.withDescription("interrupted").asRuntimeException();
        }
        try {
            while (true) {
                Change<R> c = planner.plan(); // again after a wait: the state it checks may have moved
                try {
                    proposer.await(driver.proposeConfChange(c.change()), deadline);
                    return c.answer().apply(header());
                } catch (ReplicaException e) {
                    if (!pending(e)) throw e;
                }
                if (System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(options.changeBackoffMillis()) >= deadline) throw Proposer.timedOut();
                Thread.sleep(options.changeBackoffMillis());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw Status.CANCELLED.withDescription("interrupted").asRuntimeException();
        } finally {
            changeLock.unlock();
        }
    }

    /** The core refused because a change (or its automatic leave) is not applied yet: worth retrying. */
    private static boolean pending(ReplicaException e) {
        return e.kind() == ReplicaException.Kind.REJECTED && e.getMessage() != null
                && e.getMessage().startsWith(ProposeResult.Reason.CONF_CHANGE_PENDING.name());
    }

    private Change<MemberAddResponse> add(MemberAddRequest request) {
        List<String> urls = validUrls(request.getPeerURLsList());
        List<Member> members = store.read(MvccStore::members);
        for (Member m : members) {
            for (String u : urls) if (m.peerUrls().contains(u)) throw failed(PEER_URL_EXISTS);
        }
        boolean learner = request.getIsLearner();
        if (learner && members.stream().filter(Member::learner).count() >= options.learnersMax()) throw failed(TOO_MANY_LEARNERS);
        Member added = new Member(newMemberId(urls, members), "", urls, List.of(), learner);
        var cc = ConfChange.of(learner ? ConfChange.Type.ADD_LEARNER : ConfChange.Type.ADD_VOTER, added.id())
                .withContext(MemberChange.upsert(added).encode());
        return new Change<>(cc, h -> MemberAddResponse.newBuilder().setHeader(h).setMember(proto(added)).addAllMembers(listed(false)).build());
    }

    private Change<MemberRemoveResponse> remove(long id) {
        member(id);
        ConfState conf = driver.status().confState();
        if (conf.isVoter(id) && conf.voters().size() <= 1) throw failed(NOT_ENOUGH_STARTED);
        var cc = ConfChange.of(ConfChange.Type.REMOVE, id).withContext(MemberChange.remove(id).encode());
        return new Change<>(cc, h -> MemberRemoveResponse.newBuilder().setHeader(h).addAllMembers(listed(false)).build());
    }

    private Change<MemberUpdateResponse> update(long id, List<String> peerUrls) {
        Member m = member(id);
        List<String> urls = validUrls(peerUrls);
        for (Member other : store.read(MvccStore::members)) {
            if (other.id() == id) continue;
            for (String u : urls) if (other.peerUrls().contains(u)) throw failed(PEER_URL_EXISTS);
        }
        var cc = ConfChange.of(ConfChange.Type.UPDATE, id).withContext(MemberChange.upsert(m.withPeerUrls(urls)).encode());
        return new Change<>(cc, h -> MemberUpdateResponse.newBuilder().setHeader(h).addAllMembers(listed(false)).build());
    }

    private Change<MemberPromote.Response> promote(long id) {
        Member m = member(id);
        if (!m.learner()) throw failed(MEMBER_NOT_LEARNER);
        var status = driver.status();
        long match = status.matchIndex().getOrDefault(id, 0L);
        // etcd's rule: in sync means the learner holds at least 90% of what the leader has committed.
        if (match * 100 < status.commitIndex() * options.promoteMatchPercent()) throw failed(LEARNER_NOT_READY);
        var cc = ConfChange.of(ConfChange.Type.ADD_VOTER, id).withContext(MemberChange.upsert(m.withLearner(false)).encode());
        return new Change<>(cc, h -> new MemberPromote.Response(h, listed(false)));
    }

    private Change<MemberUpdateResponse> publishHere(io.etcd.jetcd.api.Member self) {
        Member m = member(self.getID());
        var cc = ConfChange.of(ConfChange.Type.UPDATE, m.id())
                .withContext(MemberChange.upsert(m.withAttributes(self.getName(), self.getClientURLsList())).encode());
        return new Change<>(cc, h -> MemberUpdateResponse.newBuilder().setHeader(h).build());
    }

    /** The member with {@code id} in the applied table, or etcd's "member not found". */
    private Member member(long id) {
        return store.read(s -> s.members().stream().filter(m -> m.id() == id).findFirst()).orElseThrow(() ->
                Status.NOT_FOUND.withDescription(MEMBER_NOT_FOUND).asRuntimeException());
    }

    /**
     * A fresh id for a member with {@code urls}: a hash of the cluster id, the URLs and the
     * leader's commit index, so it is reproducible from the log position it was made at, and
     * never one in use or ever removed (etcd never reuses ids). Replicated in the change itself,
     * so no other member needs to compute it.
     */
    private long newMemberId(List<String> urls, List<Member> members) {
        Set<Long> removed = store.read(MvccStore::removedMembers);
        Set<Long> conf = driver.status().confState().allMembers();
        long commit = driver.status().commitIndex();
        for (int attempt = 0; ; attempt++) {
            long id = ServerConfig.memberId(Long.toHexString(config.clusterId()) + "/" + String.join(",", urls) + "/" + commit + "/" + attempt);
            if (!removed.contains(id) && !conf.contains(id) && members.stream().noneMatch(m -> m.id() == id)) return id;
        }
    }

    /** The URLs as given, each an {@code http://host:port}; etcd's "given member URLs are invalid" otherwise. */
    private static List<String> validUrls(List<String> urls) {
        if (urls.isEmpty()) throw Status.INVALID_ARGUMENT.withDescription(BAD_URLS).asRuntimeException();
        for (String u : urls) {
            try {
                ServerConfig.address(URI.create(u));
            } catch (IllegalArgumentException e) {
                throw Status.INVALID_ARGUMENT.withDescription(BAD_URLS).asRuntimeException();
            }
        }
        return List.copyOf(urls);
    }

    private static StatusRuntimeException failed(String etcdMessage) {
        return Status.FAILED_PRECONDITION.withDescription(etcdMessage).asRuntimeException();
    }

    private static io.etcd.jetcd.api.Member proto(Member m) {
        return io.etcd.jetcd.api.Member.newBuilder().setID(m.id()).setName(m.name()).addAllPeerURLs(m.peerUrls())
                .addAllClientURLs(m.clientUrls()).setIsLearner(m.learner()).build();
    }
}
