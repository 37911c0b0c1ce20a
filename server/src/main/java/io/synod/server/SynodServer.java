package io.synod.server;

import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.synod.consensus.ConfState;
import io.synod.mvcc.CommandCodec;
import io.synod.mvcc.MvccOptions;
import io.synod.mvcc.MvccStore;
import io.synod.raft.RaftBootstrap;
import io.synod.raft.RaftConfig;
import io.synod.raft.RaftMessage;
import io.synod.raft.RaftNode;
import io.synod.replica.ReplicaDriver;
import io.synod.replica.ReplicaLimits;
import io.synod.server.transport.PeerService;
import io.synod.server.transport.PeerTransport;
import io.synod.server.transport.TransportLimits;
import io.synod.server.watch.WatchService;
import io.synod.server.watch.WatchServiceOptions;
import io.synod.storage.raftlog.DurableRaftLog;
import io.synod.storage.raftlog.RaftLogOptions;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import java.util.TreeSet;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One Synod member as a running process: the durable Raft log ({@code <data-dir>/wal}), the MVCC
 * store ({@code <data-dir>/mvcc}), the Raft member driven by a {@link ReplicaDriver} on its own
 * thread, a ticker, the peer transport, and two gRPC listeners: the client URL serves etcd's KV
 * service, the peer URL serves Raft traffic and writes forwarded by followers.
 *
 * <p>Start-up. A data directory without a log is bootstrapped as a founding member: the log gets
 * the committed entry that adds every member of {@code --initial-cluster} as a voter. On restart
 * the Raft member is rebuilt from the log: it hands out the committed entries again from the
 * start, the driver re-applies the membership changes among them and skips commands the MVCC
 * store already holds ({@link MvccStore#appliedIndex()}). Replaying membership from the first
 * entry is correct because the log is never compacted yet; snapshots will shorten it.
 */
public final class SynodServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(SynodServer.class);

    /** How long {@link #close()} waits for each component to stop. */
    public static final long SHUTDOWN_WAIT_MILLIS = 3000;

    private final ServerConfig config;
    private final DurableRaftLog raftLog;
    private final MvccStore store;
    private final ReplicaDriver driver;
    private final PeerTransport transport;
    private final Thread raftThread;
    private final ScheduledExecutorService ticker;
    private final Server peerServer;
    private final Server clientServer;
    private final WatchService watch;

    private SynodServer(ServerConfig config, DurableRaftLog raftLog, MvccStore store, ReplicaDriver driver, PeerTransport transport,
            Thread raftThread, ScheduledExecutorService ticker, Server peerServer, Server clientServer, WatchService watch) {
        this.config = config;
        this.raftLog = raftLog;
        this.store = store;
        this.driver = driver;
        this.transport = transport;
        this.raftThread = raftThread;
        this.ticker = ticker;
        this.peerServer = peerServer;
        this.clientServer = clientServer;
        this.watch = watch;
    }

    /** Opens (or bootstraps) the data directory and starts serving. */
    public static SynodServer start(ServerConfig config) throws IOException {
        long id = config.memberId();
        Path walDir = config.dataDir().resolve("wal");
        Files.createDirectories(walDir);
        DurableRaftLog raftLog = DurableRaftLog.open(walDir, RaftLogOptions.DEFAULTS, ConfState.EMPTY);
        MvccStore store = null;
        PeerTransport transport = null;
        Server peerServer = null;
        WatchService watch = null;
        try {
            if (raftLog.lastIndex() == 0) bootstrap(config, raftLog);
            store = MvccStore.open(config.dataDir().resolve("mvcc"), MvccOptions.defaults());
            var codec = new CommandCodec(CommandCodec.Limits.defaults());
            var raftConfig = RaftConfig.builder(id).electionTicks(config.electionTicks()).heartbeatTicks(config.heartbeatTicks()).build();
            var node = new RaftNode(raftConfig, raftLog, new SplittableRandom(id ^ System.nanoTime()));
            var driverRef = new ReplicaDriver[1];
            transport = new PeerTransport(config.peerAddresses(), TransportLimits.DEFAULTS, peer -> driverRef[0].reportUnreachable(peer));
            var driver = new ReplicaDriver(node, new DurableReplicaStorage(raftLog), transport, new MvccStateMachine(store, codec),
                    ReplicaLimits.DEFAULTS);
            driverRef[0] = driver;
            log.info("member {} ({}) starting: log [{}..{}], commit {}, mvcc applied {}, revision {}", config.name(),
                    Long.toHexString(id), raftLog.firstIndex(), raftLog.lastIndex(), raftLog.hardState().commit(), store.appliedIndex(),
                    store.currentRevision());

            var kv = new KvService(config, driver, store, codec, transport);
            var kvService = ServerInterceptors.intercept(kv, KvService.forwardedInterceptor());
            var maintenance = new MaintenanceService(kv, driver, store);
            watch = new WatchService(store, kv::header, WatchServiceOptions.defaults(config.requestBytesMax()));
            peerServer = grpcServer(config, ServerConfig.address(config.peerUrl()))
                    .maxInboundMessageSize(TransportLimits.DEFAULTS.frameBytesMax())
                    .addService(PeerService.definition(id, m -> driver.deliver((RaftMessage) m)))
                    .addService(kvService)
                    .addService(maintenance)
                    .addService(watch)
                    .build().start();
            Server clientServer;
            try {
                clientServer = grpcServer(config, ServerConfig.address(config.clientUrl())).addService(kvService).addService(maintenance)
                        .addService(watch).build().start();
            } catch (IOException e) {
                peerServer.shutdownNow();
                throw new IOException("cannot listen on client URL " + config.clientUrl() + ": " + e.getMessage(), e);
            }
            var raftThread = new Thread(driver, "synod-raft-" + config.name());
            raftThread.start();
            transport.start();
            var ticker = Executors.newSingleThreadScheduledExecutor(r -> {
                var t = new Thread(r, "synod-tick-" + config.name());
                t.setDaemon(true);
                return t;
            });
            var lastLeader = new long[] {-1};
            ticker.scheduleAtFixedRate(() -> {
                driver.tick();
                long leader = driver.leader();
                if (leader != lastLeader[0]) {
                    lastLeader[0] = leader;
                    log.info("member {}: leader is now {} (term {})", config.name(), Long.toHexString(leader), driver.term());
                }
            }, config.tickMillis(), config.tickMillis(), TimeUnit.MILLISECONDS);
            log.info("member {} serving clients on {} and peers on {}", config.name(), config.clientUrl(), config.peerUrl());
            return new SynodServer(config, raftLog, store, driver, transport, raftThread, ticker, peerServer, clientServer, watch);
        } catch (IOException | RuntimeException e) {
            if (peerServer != null) peerServer.shutdownNow();
            if (watch != null) watch.close();
            if (transport != null) transport.close();
            if (store != null) store.close();
            raftLog.close();
            throw e;
        }
    }

    private static NettyServerBuilder grpcServer(ServerConfig config, java.net.InetSocketAddress address) {
        // etcd clients ping every few seconds; grpc-java's default would close their connections.
        return NettyServerBuilder.forAddress(address)
                .permitKeepAliveTime(1, TimeUnit.SECONDS)
                .permitKeepAliveWithoutCalls(true)
                .maxInboundMessageSize(config.requestBytesMax());
    }

    private static void bootstrap(ServerConfig config, DurableRaftLog raftLog) throws IOException {
        if (!config.initialClusterState().equals("new")) {
            throw new IOException("data dir " + config.dataDir() + " holds no log and --initial-cluster-state is '"
                    + config.initialClusterState() + "': joining an existing cluster is not supported yet");
        }
        var voters = new TreeSet<Long>();
        for (String n : config.initialCluster().keySet()) voters.add(ServerConfig.memberId(n));
        raftLog.save(RaftBootstrap.hardState(), List.of(RaftBootstrap.entry(voters)));
        log.info("bootstrapped founding member {} of {}", config.name(), config.initialCluster().keySet());
    }

    public ServerConfig config() {
        return config;
    }

    public long memberId() {
        return config.memberId();
    }

    /** The Raft loop, for status (leader, term, applied index). */
    public ReplicaDriver driver() {
        return driver;
    }

    public boolean isLeader() {
        return driver.leader() == memberId();
    }

    /** Blocks until the Raft loop ends (on {@link #close()} or on a fatal error, see {@link ReplicaDriver#failure()}). */
    public void awaitTermination() throws InterruptedException {
        raftThread.join();
    }

    /** Stops serving and closes the stores; what was acknowledged is durable in the log. */
    @Override
    public void close() {
        watch.close(); // first: ends watch calls with UNAVAILABLE so clients resume elsewhere
        clientServer.shutdownNow();
        peerServer.shutdownNow();
        ticker.shutdownNow();
        driver.stop();
        try {
            raftThread.join(SHUTDOWN_WAIT_MILLIS);
            clientServer.awaitTermination(SHUTDOWN_WAIT_MILLIS, TimeUnit.MILLISECONDS);
            peerServer.awaitTermination(SHUTDOWN_WAIT_MILLIS, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        transport.close();
        if (raftThread.isAlive()) {
            log.warn("raft loop of {} did not stop within {} ms; leaving the stores open", config.name(), SHUTDOWN_WAIT_MILLIS);
            return;
        }
        store.close();
        try {
            raftLog.close();
        } catch (IOException e) {
            log.warn("closing the raft log of {} failed", config.name(), e);
        }
        log.info("member {} stopped", config.name());
    }
}
