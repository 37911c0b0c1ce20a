package io.synod.server;

import io.synod.consensus.ConfState;
import io.synod.consensus.SoftState;
import io.synod.mvcc.Member;
import io.synod.mvcc.MvccStore;
import io.synod.replica.ReplicaDriver;
import io.synod.server.transport.PeerTransport;
import java.net.InetSocketAddress;
import java.net.URI;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps this member's view of the other members' peer addresses in step with the replicated
 * member table, and notices when this member was removed.
 *
 * <p>Peers. The transport's peers are every member the table has shown this process (by id, at its
 * latest peer URL) minus the ids the table records as removed and the applied configuration no
 * longer holds. A member being removed leaves the table when the joint configuration is entered but
 * keeps voting in its outgoing half until the joint configuration is left, so its channel must stay
 * open until then (in a two-member cluster the leave cannot commit without it). Members are only
 * added or moved while the table moves forward; an id disappears only when its removal is applied.
 * That matters
 * for a member replaying old entries (a joining one): at an old index the table lacks members added
 * later, perhaps the leader, and dropping them would cut the member off from the leader that is
 * catching it up. Before the table knows anyone (a founding member before applying its bootstrap
 * entry) the peers come from {@code --initial-cluster}; a joining member starts from the member
 * list the cluster gave it.
 *
 * <p>Removal. A member being removed stays in the outgoing half of the joint configuration and
 * must keep voting until the joint configuration is left (in a two-member cluster it is half the
 * old majority), so it stops only when the configuration it has applied no longer contains it, or,
 * if it never hears that (the leader stops replicating to it once the change completes), after it
 * has known no leader for {@link ClusterOptions#removedNoLeaderMillis()} while its table records
 * the removal. Stopping is the caller's {@code onRemoved}, run once.
 *
 * <p>Threads. {@link #onConfApplied} runs on the Raft loop, {@link #onSwap} on the installing
 * thread (the same loop), {@link #check} on the member's background thread; the peer map is
 * guarded by this object.
 */
final class MemberDirectory {
    private static final Logger log = LoggerFactory.getLogger(MemberDirectory.class);

    private final ServerConfig config;
    private final StoreHolder store;
    private final ClusterOptions options;
    private final Runnable onRemoved;
    private final AtomicBoolean removedOnce = new AtomicBoolean();
    /** Peer addresses by member id, never containing this member. Guarded by {@code this}. */
    private final Map<Long, InetSocketAddress> known = new TreeMap<>();
    private PeerTransport transport;
    /** The configuration after the last applied membership change (or at start). */
    private volatile ConfState lastConf = ConfState.EMPTY;
    /** Set once any configuration this member saw contained it. */
    private volatile boolean wasMember;
    private volatile boolean removalLogged;
    private long noLeaderSinceNanos;
    /** Runs {@link #check}: publishing waits on the leader, so it must not share the Raft ticker's thread. */
    private final java.util.concurrent.ScheduledExecutorService background;

    MemberDirectory(ServerConfig config, StoreHolder store, ClusterOptions options, Map<Long, InetSocketAddress> seed, Runnable onRemoved) {
        this.config = config;
        this.store = store;
        this.options = options;
        this.onRemoved = onRemoved;
        this.background = java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r -> {
            var t = new Thread(MemberMdc.wrap(config.name(), r), "synod-members-" + config.name());
            t.setDaemon(true);
            return t;
        });
        synchronized (this) {
            known.putAll(seed);
            known.remove(config.memberId());
            MvccStore s = store.current();
            merge(s.members(), s.removedMembers());
        }
    }

    /** The peers to start the transport with. */
    synchronized Map<Long, InetSocketAddress> peers() {
        return new LinkedHashMap<>(known);
    }

    /** Binds the transport that {@link #refresh} keeps up to date. */
    synchronized void attach(PeerTransport peerTransport) {
        this.transport = peerTransport;
    }

    /** After an applied membership change (Raft loop thread). */
    void onConfApplied(ConfState conf) {
        lastConf = conf;
        MvccStore s = store.current();
        refresh(s.members(), s.removedMembers());
        if (conf.allMembers().contains(config.memberId())) {
            wasMember = true;
        } else if (wasMember || s.removedMembers().contains(config.memberId())) {
            removed("the applied configuration " + conf.voters() + " (learners " + conf.learners() + ") no longer contains it");
        }
    }

    /** After a snapshot replaced the store (installing thread). */
    void onSwap(MvccStore next) {
        refresh(next.members(), next.removedMembers());
    }

    private synchronized void refresh(Collection<Member> members, Set<Long> removed) {
        merge(members, removed);
        io.synod.common.Assert.that(!known.containsKey(config.memberId()), "member %d dials itself", config.memberId());
        if (transport != null) transport.updatePeers(known);
    }

    private void merge(Collection<Member> members, Set<Long> removed) {
        for (Member m : members) {
            if (m.id() == config.memberId()) continue;
            address(m).ifPresent(a -> known.put(m.id(), a));
        }
        Set<Long> stillVoting = lastConf.allMembers();
        for (long id : removed) if (!stillVoting.contains(id)) known.remove(id);
    }

    private static java.util.Optional<InetSocketAddress> address(Member m) {
        for (String u : m.peerUrls()) {
            try {
                return java.util.Optional.of(ServerConfig.address(URI.create(u)));
            } catch (IllegalArgumentException e) {
                log.warn("member {} has an unusable peer URL {}: {}", Long.toHexString(m.id()), u, e.getMessage());
            }
        }
        return java.util.Optional.empty();
    }

    /** Starts the background duty ({@link #check}) every {@link ClusterOptions#publishIntervalMillis()}. */
    void start(ReplicaDriver driver, BooleanSupplier publish) {
        background.scheduleWithFixedDelay(() -> {
            try {
                check(driver, publish);
            } catch (RuntimeException e) {
                log.warn("membership check failed", e);
            }
        }, options.publishIntervalMillis(), options.publishIntervalMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
    }

    /** Stops the background duty (waiting briefly for a running check, which may be mid-publish). */
    void close() {
        background.shutdownNow();
        try {
            background.awaitTermination(SynodServer.SHUTDOWN_WAIT_MILLIS, java.util.concurrent.TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * The background duty: publish this member's name and client URLs until the table has them
     * ({@code publish} returns true when nothing is left to do), and the removal fallback.
     */
    void check(ReplicaDriver driver, BooleanSupplier publish) {
        long self = config.memberId();
        ConfState conf = driver.status().confState();
        if (conf.allMembers().contains(self)) wasMember = true;
        if (!conf.equals(lastConf)) {
            // A restart replays old conf changes without telling the state machine (it holds them): catch up here.
            lastConf = conf;
            refresh(store.read(MvccStore::members), store.read(MvccStore::removedMembers));
        }
        boolean removedInTable = store.read(s -> s.removedMembers().contains(self));
        if (!removedInTable) {
            if (conf.allMembers().contains(self)) {
                try {
                    publish.getAsBoolean();
                } catch (RuntimeException e) {
                    log.debug("publishing this member's name and client URLs failed; retrying: {}", e.getMessage());
                }
            }
            return;
        }
        if (!removalLogged) {
            removalLogged = true;
            log.warn("member {} ({}) is being removed from the cluster; it keeps voting until the joint configuration is left",
                    config.name(), Long.toHexString(self));
        }
        if (!conf.allMembers().contains(self)) {
            removed("its removal is applied");
            return;
        }
        long now = System.nanoTime();
        if (driver.leader() != SoftState.NO_LEADER) {
            noLeaderSinceNanos = now;
        } else if (now - noLeaderSinceNanos > options.removedNoLeaderMillis() * 1_000_000L) {
            removed("its removal is recorded and it has heard of no leader for " + options.removedNoLeaderMillis() + " ms");
        }
    }

    private void removed(String why) {
        if (!removedOnce.compareAndSet(false, true)) return;
        log.error("member {} ({}) was removed from the cluster ({}); stopping. Its data dir cannot rejoin: "
                + "add a new member and start it with an empty data dir", config.name(), Long.toHexString(config.memberId()), why);
        onRemoved.run();
    }

    /** True once this member saw itself removed and asked to stop. */
    boolean removed() {
        return removedOnce.get();
    }

    /** Members named by {@code --initial-cluster} with the ids founding members derive from their names. */
    static Map<Long, InetSocketAddress> founding(ServerConfig config) {
        return config.peerAddresses();
    }

    /** Peer addresses of the members a joining member was told about. */
    static Map<Long, InetSocketAddress> of(List<Member> members) {
        var m = new LinkedHashMap<Long, InetSocketAddress>();
        for (Member member : members) address(member).ifPresent(a -> m.put(member.id(), a));
        return m;
    }
}
