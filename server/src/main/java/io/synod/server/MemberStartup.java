package io.synod.server;

import io.etcd.jetcd.api.ClusterGrpc;
import io.etcd.jetcd.api.MemberListRequest;
import io.etcd.jetcd.api.MemberListResponse;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.synod.mvcc.Member;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Settles who a starting member is before anything else opens: its member and cluster ids, and
 * whether it founds a cluster, joins one, or restarts. The rules follow etcd's:
 * <ul>
 *   <li>A data dir that has an identity ({@link MemberIdentity}) keeps it; flags cannot change it. A
 *       {@code --name} other than the recorded one is refused, and with {@code --initial-cluster-state
 *       existing} the members in {@code --initial-cluster} are asked for their cluster id (one round,
 *       best effort: the cluster may be restarting as a whole), and a different one is refused.</li>
 *   <li>An empty data dir with {@code new} founds a cluster: ids derived from names.</li>
 *   <li>An empty data dir with {@code existing} joins: the member asks the other members in
 *       {@code --initial-cluster} for the member list (until {@link ClusterOptions#joinTimeoutMillis()}),
 *       finds itself by its advertised peer URL (it must have been added with {@code MemberAdd} first,
 *       which gave it its id), checks that {@code --initial-cluster} names exactly the cluster's peer
 *       URLs, records the identity, and starts with an empty log that the leader fills (entries, or a
 *       snapshot once the log is compacted).</li>
 *   <li>A data dir with a log but no identity file (written before identities existed) is a founding
 *       member's: its derived ids are recorded.</li>
 * </ul>
 */
final class MemberStartup {
    private static final Logger log = LoggerFactory.getLogger(MemberStartup.class);

    private MemberStartup() {}

    /**
     * The outcome: the configuration with its identity, whether this member joins an existing
     * cluster with an empty log, and the peers the cluster reported (empty unless asked).
     */
    record Settled(ServerConfig config, boolean joining, Map<Long, InetSocketAddress> clusterPeers) {}

    /** What a member of the cluster answered: its cluster id and the members. */
    record ClusterView(long clusterId, List<Member> members, String answeredBy) {}

    static Settled settle(ServerConfig requested, boolean hasLog, ClusterOptions options) throws IOException {
        Path dir = requested.dataDir();
        boolean existing = requested.initialClusterState().equals("existing");
        Optional<MemberIdentity> stored = MemberIdentity.read(dir);
        if (stored.isPresent()) {
            MemberIdentity id = stored.get();
            if (!id.name().equals(requested.name())) {
                throw new IOException("data dir " + dir + " belongs to member '" + id.name() + "' (id " + Long.toHexString(id.memberId())
                        + "), but --name is '" + requested.name() + "'");
            }
            Map<Long, InetSocketAddress> peers = Map.of();
            if (existing) {
                Optional<ClusterView> view = ask(requested, requested.ops().memberQueryTimeoutMillis());
                if (view.isPresent() && view.get().clusterId() != id.clusterId()) {
                    throw new IOException("data dir " + dir + " belongs to cluster " + Long.toHexString(id.clusterId()) + ", but "
                            + view.get().answeredBy() + " in --initial-cluster belongs to cluster " + Long.toHexString(view.get().clusterId())
                            + ": this data dir is another cluster's (start with an empty data dir to join)");
                }
                if (view.isPresent()) peers = MemberDirectory.of(view.get().members());
            }
            return new Settled(requested.withIdentity(id.identity()), existing && !hasLog, peers);
        }
        if (hasLog || !existing) {
            var id = new MemberIdentity(requested.name(), ServerConfig.memberId(requested.name()), requested.derivedClusterId());
            id.write(dir);
            return new Settled(requested.withIdentity(id.identity()), false, Map.of());
        }
        return join(requested, options);
    }

    private static Settled join(ServerConfig requested, ClusterOptions options) throws IOException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(options.joinTimeoutMillis());
        Optional<ClusterView> view = Optional.empty();
        while (view.isEmpty() && System.nanoTime() < deadline) {
            view = ask(requested, requested.ops().memberQueryTimeoutMillis());
            if (view.isEmpty()) sleep(options.changeBackoffMillis() * 10);
        }
        if (view.isEmpty()) {
            throw new IOException("--initial-cluster-state is 'existing' but no other member in --initial-cluster "
                    + requested.initialCluster() + " answered within " + options.joinTimeoutMillis() + " ms");
        }
        ClusterView v = view.get();
        String ownUrl = requested.initialCluster().get(requested.name()).toString();
        Member self = v.members().stream().filter(m -> m.peerUrls().contains(ownUrl)).findFirst().orElseThrow(() -> new IOException(
                "member '" + requested.name() + "' with peer URL " + ownUrl + " is not a member of the cluster (" + v.answeredBy()
                        + " lists " + peerUrls(v.members()) + "); add it first: etcdctl member add " + requested.name()
                        + " --peer-urls=" + ownUrl));
        if (!self.name().isEmpty() && !self.name().equals(requested.name())) {
            throw new IOException("peer URL " + ownUrl + " belongs to member '" + self.name() + "' (id " + Long.toHexString(self.id())
                    + "), not to '" + requested.name() + "'");
        }
        var theirs = new TreeSet<String>(peerUrls(v.members()));
        var ours = new TreeSet<String>();
        for (URI u : requested.initialCluster().values()) ours.add(u.toString());
        if (!theirs.equals(ours)) {
            var missing = new TreeSet<>(theirs);
            missing.removeAll(ours);
            var unknown = new TreeSet<>(ours);
            unknown.removeAll(theirs);
            throw new IOException("--initial-cluster does not match the cluster's members (" + v.answeredBy() + "): "
                    + (missing.isEmpty() ? "" : "missing " + missing + " ") + (unknown.isEmpty() ? "" : "not members " + unknown));
        }
        var id = new MemberIdentity(requested.name(), self.id(), v.clusterId());
        id.write(requested.dataDir());
        log.info("joining cluster {} as member {} ({}), told by {}; waiting for the leader to send the log", Long.toHexString(v.clusterId()),
                requested.name(), Long.toHexString(self.id()), v.answeredBy());
        var peers = MemberDirectory.of(v.members());
        peers.remove(self.id());
        return new Settled(requested.withIdentity(id.identity()), true, peers);
    }

    private static List<String> peerUrls(List<Member> members) {
        var urls = new ArrayList<String>();
        for (Member m : members) urls.addAll(m.peerUrls());
        return urls;
    }

    /** Asks the other members of {@code --initial-cluster}, in order, for the member list; the first answer wins. */
    static Optional<ClusterView> ask(ServerConfig config, long timeoutMillis) {
        for (var e : config.initialCluster().entrySet()) {
            if (e.getKey().equals(config.name())) continue;
            ManagedChannel channel = NettyChannelBuilder.forAddress(ServerConfig.address(e.getValue())).usePlaintext().build();
            try {
                MemberListResponse r = ClusterGrpc.newBlockingStub(channel).withDeadlineAfter(timeoutMillis, TimeUnit.MILLISECONDS)
                        .memberList(MemberListRequest.getDefaultInstance());
                var members = new ArrayList<Member>();
                for (var m : r.getMembersList()) {
                    members.add(new Member(m.getID(), m.getName(), m.getPeerURLsList(), m.getClientURLsList(), m.getIsLearner()));
                }
                return Optional.of(new ClusterView(r.getHeader().getClusterId(), members, "'" + e.getKey() + "' at " + e.getValue()));
            } catch (StatusRuntimeException ex) {
                log.info("member '{}' at {} did not answer the member list: {}", e.getKey(), e.getValue(), ex.getStatus());
            } finally {
                channel.shutdownNow();
            }
        }
        return Optional.empty();
    }

    private static void sleep(long millis) throws IOException {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while joining", e);
        }
    }
}
