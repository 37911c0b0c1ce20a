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
import io.synod.raft.RaftNode;
import io.synod.replica.ReplicaDriver;
import io.synod.server.auth.AuthGate;
import io.synod.server.auth.AuthService;
import io.synod.server.auth.Passwords;
import io.synod.server.auth.AuthTokens;
import io.synod.server.auth.JwtTokens;
import io.synod.server.auth.TokenStore;
import io.synod.server.security.AuthTokenSpec;
import io.synod.server.security.TlsMaterial;
import io.synod.server.security.TlsContexts;
import io.synod.server.security.TlsFiles;
import io.synod.server.transport.PeerService;
import io.synod.server.transport.PeerTransport;
import io.synod.server.transport.RaftSocketListener;
import java.net.InetSocketAddress;
import io.synod.server.transport.SnapshotInbox;
import io.synod.server.transport.SnapshotSender;
import io.synod.server.watch.WatchService;
import io.synod.server.watch.WatchServiceOptions;
import io.synod.storage.raftlog.DurableRaftLog;
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
 * thread, a ticker (Raft ticks and the leader's lease timers, see {@link Lessor}), the peer
 * transport, and two gRPC listeners: the client URL serves etcd's KV, Lease, Lock, Election and
 * Maintenance services, the peer URL serves Raft traffic and the requests followers forward to the leader.
 *
 * <p>Start-up. A data directory without a log is bootstrapped as a founding member: the log gets
 * the committed entry that adds every member of {@code --initial-cluster} as a voter. On restart
 * the Raft member is rebuilt from the log: it hands out the committed entries again from the
 * start, the driver re-applies the membership changes among them and skips commands the MVCC
 * store already holds ({@link MvccStore#appliedIndex()}). The log starts at its latest snapshot
 * (compaction every {@code --snapshot-count} entries), whose metadata carries the membership.
 * Snapshots for lagging followers are streamed by a {@link SnapshotSender}; snapshots from the
 * leader arrive through a {@link SnapshotInbox} ({@code <data-dir>/snap}) and replace the store via
 * the {@link StoreHolder} the services read through.
 */
public final class SynodServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(SynodServer.class);

    /** How long {@link #close()} waits for each component to stop. */
    public static final long SHUTDOWN_WAIT_MILLIS = 3000;

    private final ServerConfig config;
    private final DurableRaftLog raftLog;
    private final StoreHolder store;
    private final SnapshotSender snapshotSender;
    private final ReplicaDriver driver;
    private final PeerTransport transport;
    private final Thread raftThread;
    private final ScheduledExecutorService ticker;
    private final Server peerServer;
    /** Null when this member offers no socket links. */
    private final RaftSocketListener socketListener;
    private final Server clientServer;
    private final MemberOps ops;
    private final WatchService watch;
    private final MemberDirectory members;
    private final ExpensiveRequests expensiveRequests;
    /** Set by the first {@link #close()}: a removed member closes itself, and its owner may close it again. */
    private final java.util.concurrent.atomic.AtomicBoolean closing = new java.util.concurrent.atomic.AtomicBoolean();

    private SynodServer(ServerConfig config, DurableRaftLog raftLog, StoreHolder store, SnapshotSender snapshotSender, ReplicaDriver driver,
            PeerTransport transport, Thread raftThread, ScheduledExecutorService ticker, Server peerServer, RaftSocketListener socketListener,
            Server clientServer, MemberOps ops, WatchService watch, MemberDirectory members, ExpensiveRequests expensiveRequests) {
        this.config = config;
        this.raftLog = raftLog;
        this.store = store;
        this.snapshotSender = snapshotSender;
        this.driver = driver;
        this.transport = transport;
        this.raftThread = raftThread;
        this.ticker = ticker;
        this.peerServer = peerServer;
        this.socketListener = socketListener;
        this.clientServer = clientServer;
        this.ops = ops;
        this.watch = watch;
        this.members = members;
        this.expensiveRequests = expensiveRequests;
    }

    /** Opens (or bootstraps, or joins with) the data directory and starts serving. */
    public static SynodServer start(ServerConfig requested) throws IOException {
        Path walDir = requested.dataDir().resolve("wal");
        Files.createDirectories(walDir);
        long openStart = System.nanoTime();
        DurableRaftLog raftLog = DurableRaftLog.open(walDir, requested.raftLogOptions(), ConfState.EMPTY);
        long logOpened = System.nanoTime();
        MemberStartup.Settled settled;
        try {
            settled = MemberStartup.settle(requested, raftLog.lastIndex() > 0, ClusterOptions.DEFAULTS);
        } catch (IOException | RuntimeException e) {
            raftLog.close();
            throw e;
        }
        ServerConfig config = settled.config();
        long id = config.memberId();
        StoreHolder store = null;
        SnapshotSender snapshotSender = null;
        PeerTransport transport = null;
        Server peerServer = null;
        RaftSocketListener socketListener = null;
        MemberOps ops = null;
        WatchService watch = null;
        try {
            if (raftLog.lastIndex() == 0 && !settled.joining()) bootstrap(config, raftLog);
            if (config.raftLogOptions().wal().powerCut() != io.synod.storage.wal.PowerCutEmulation.OFF) {
                // The emulation covers the Raft WAL only; that suffices because the store keeps no WAL of its own (its
                // flushes are synced and the log is replayed from the store's flushed index), see MvccStore.
                io.synod.common.Assert.that(!MvccOptions.defaults().rocksWal(), "power-cut emulation needs the store's RocksDB WAL off, got rocksWal=%s",
                        MvccOptions.defaults().rocksWal());
                log.warn("member {}: UNSAFE power-cut emulation ({}) is on: unflushed WAL writes live in memory only; for fault injection, never production",
                        config.name(), config.raftLogOptions().wal().powerCut());
            }
            long storeStart = System.nanoTime();
            store = StoreHolder.open(config.dataDir(), MvccOptions.defaults());
            // Restart time is a goal of its own (docs/benchmarks.md): say where it went.
            log.info("member {}: opened the raft log in {} ms and the store ({} keys indexed) in {} ms", config.name(),
                    (logOpened - openStart) / 1_000_000, store.current().indexedKeys(), (System.nanoTime() - storeStart) / 1_000_000);
            var serverRef = new SynodServer[1];
            var seed = new java.util.LinkedHashMap<>(settled.clusterPeers());
            if (store.current().members().isEmpty()) seed.putAll(config.peerAddresses()); // before the bootstrap entry is applied
            var members = new MemberDirectory(config, store, ClusterOptions.DEFAULTS, seed, () -> stopAsync(serverRef, config));
            var codec = new CommandCodec(CommandCodec.Limits.defaults());
            var raftConfig = RaftConfig.builder(id).electionTicks(config.electionTicks()).heartbeatTicks(config.heartbeatTicks()).build();
            var node = new RaftNode(raftConfig, raftLog, new SplittableRandom(id ^ System.nanoTime()));
            var driverRef = new ReplicaDriver[1];
            var transportRef = new PeerTransport[1];
            snapshotSender = new SnapshotSender(config.snapshotLimits(), peer -> transportRef[0].channel(peer),
                    store::snapshot, (peer, ok) -> driverRef[0].reportSnapshot(peer, ok));
            // One reloading view of the peer files serves the peer listener and the connections to other members.
            TlsMaterial peerTls = config.peersUseTls() || ServerConfig.isHttps(config.peerUrl()) ? tlsMaterial(config, config.security().peer(),
                    "peer") : null;
            transport = new PeerTransport(members.peers(), config.limits().engine().transport(), peer -> driverRef[0].reportUnreachable(peer),
                    snapshotSender::send, config.peersUseTls() ? java.util.Optional.of(TlsContexts.client(peerTls, config.security().peer()))
                            : java.util.Optional.empty());
            transportRef[0] = transport;
            members.attach(transport);
            store.addSwapListener(members::onSwap);
            var snapshotInbox = new SnapshotInbox(id, config.dataDir().resolve("snap"), config.snapshotLimits(),
                    m -> driverRef[0].deliver(m));
            ops = new MemberOps(config);
            var driver = new ReplicaDriver(node, ops.metrics().timed(new DurableReplicaStorage(raftLog)), transport,
                    ops.metrics().timed(new MvccStateMachine(store, snapshotInbox, codec, members::onConfApplied)), config.limits().engine().replica(), config.snapshotPolicy());
            driver.listener(ops.metrics());
            driver.tracer(io.synod.replica.EntryTracer.fromSystemProperties());
            // A Raft pass run on a request's thread must not carry that request's gRPC context (its deadline,
            // its cancellation) into calls started from completions, nor another member's log context.
            driver.aroundProducerPass(pass -> MemberMdc.runAs(config.name(), () -> io.grpc.Context.ROOT.run(pass)));
            driverRef[0] = driver;
            log.info("member {} ({}) starting: log [{}..{}], commit {}, mvcc applied {}, revision {}", config.name(),
                    Long.toHexString(id), raftLog.firstIndex(), raftLog.lastIndex(), raftLog.hardState().commit(), store.current().appliedIndex(),
                    store.current().currentRevision());

            var proposer = new Proposer(config, driver, codec, transport);
            ops.metrics().forwarding(proposer.forwarder());
            ops.metrics().peers(transport);
            StoreHolder finalStore = store;
            var mdc = MemberMdc.interceptor(config.name(), driver::term);
            var kv = new KvService(config, proposer, store);
            var kvService = ServerInterceptors.intercept(kv, Proposer.forwardedInterceptor(), mdc);
            var lessor = new Lessor(id, driver, store, codec, config.limits().lease(), System::nanoTime);
            store.addLeaseListener(lessor);
            var keepAlives = new KeepAlives(driver, lessor, codec, System::nanoTime, config.requestTimeoutMillis());
            ops.metrics().keepAlives(keepAlives);
            proposer.forwarder().serveRenewals(leaseId -> keepAlives.renewAtLeader(leaseId, ReplicaDriver.Handoff.DEFER));
            var leaseService = ServerInterceptors.intercept(new LeaseService(config, proposer, kv, store, lessor, keepAlives).definition(),
                    Proposer.forwardedInterceptor(), mdc);
            var waiters = new KeyWaiters(config.limits().waitersMax());
            store.addListener(waiters);
            store.addSwapListener(next -> waiters.wakeAll());
            var queue = new KeyQueue(kv, waiters, r -> finalStore.read(s -> s.range(r)));
            var lockService = ServerInterceptors.intercept(new LockService(proposer, kv, queue), mdc);
            var electionService = ServerInterceptors.intercept(new ElectionService(proposer, kv, queue, waiters), mdc);
            var cluster = new ClusterService(config, kv, proposer, store, transport, ClusterOptions.DEFAULTS);
            var clusterServices = cluster.definitions().stream().map(d -> ServerInterceptors.intercept(d, mdc)).toList();
            var raftThread = new Thread(MemberMdc.wrap(config.name(), driver), "synod-raft-" + config.name());
            var alarms = new Alarms(store, proposer);
            ops.start(kv, driver, store, transport, alarms, raftThread::isAlive);
            ClientLimits clientLimits = config.limits().clients();
            watch = new WatchService(store, kv::header, WatchServiceOptions.defaults(config.requestBytesMax())
                    .withHub(io.synod.mvcc.watch.WatchOptions.defaults().withWatchersPerStreamMax(clientLimits.watchersPerStreamMax())
                            .withWatchersMax(clientLimits.watchersMax())
                            .withQueuedBytes(clientLimits.watchQueuedBytesMax(), Math.min(clientLimits.watchQueuedBytesMax(),
                                    io.synod.mvcc.watch.WatchOptions.defaults().streamReservedBytes()))));
            WatchService watchRef = watch;
            ops.metrics().watchers(() -> {
                var stats = watchRef.hub().stats();
                return stats.synced() + stats.unsynced();
            });
            ops.metrics().leases(() -> finalStore.read(MvccStore::leaseCount));
            ops.metrics().clientLimits(kv.expensiveRequests(), () -> watchRef.hub().stats().queuedBytes());
            // etcd ends require-leader streams after three election timeouts without a leader.
            watch.monitorLeader(driver::leader, 3 * config.electionTicks() * config.tickMillis(), config.tickMillis() * config.electionTicks());
            var watchService = ServerInterceptors.intercept(watch, mdc, WatchService.requireLeaderInterceptor());
            AuthTokens tokens = switch (config.security().authToken()) {
                case AuthTokenSpec.Simple simple -> new TokenStore(config.security().authTokenTtlMillis(), config.security().authTokensMax(),
                        System::nanoTime);
                case AuthTokenSpec.Jwt jwt -> JwtTokens.load(jwt, System::currentTimeMillis);
            };
            var authService = ServerInterceptors.intercept(AuthStatus.extend(new AuthService(proposer::write,
                    () -> proposer.awaitReadIndex(proposer.deadlineNanos()), () -> finalStore.read(MvccStore::auth), kv::header,
                    kv::localHeader, new Passwords(config.security().passwordHashIterations()), tokens,
                    () -> finalStore.read(MvccStore::currentRevision)).bindService(), () -> {
                        var st = finalStore.read(MvccStore::auth);
                        return new AuthStatus.Response(kv.header(finalStore.read(MvccStore::currentRevision)), st.enabled(), st.revision());
                    }), Proposer.forwardedInterceptor(), mdc);
            java.util.function.Predicate<io.synod.consensus.Message> fromPeers = m -> {
                if (m instanceof io.synod.server.transport.ForwardMessage f) {
                    proposer.forwarder().receive(f);
                    return true;
                }
                return driver.deliver(m, ReplicaDriver.Handoff.DEFER);
            };
            var transportLimits = config.limits().engine().transport();
            if (transportLimits.socketPort() != 0) {
                socketListener = new RaftSocketListener(new InetSocketAddress(ServerConfig.address(config.peerUrl()).getAddress(),
                        transportLimits.socketPort()), id, transportLimits.frameBytesMax(), transportLimits.sendTimeoutMillis(), fromPeers,
                        driver::runPending);
            }
            // Frames go on socket links to every member that offers one (plaintext peers only).
            if (!config.peersUseTls()) transport.socketLinks(id);
            peerServer = grpcServer(config, config.peerUrl(), config.security().peer(), peerTls)
                    .maxInboundMessageSize(Math.max(config.limits().engine().transport().frameBytesMax(), config.snapshotLimits().frameBytesMax()))
                    .intercept(Proposer.peerListenerInterceptor()) // where forwarded requests arrive (see Proposer.forwardedByMember)
                    .addService(PeerService.definition(id, fromPeers, driver::runPending, transportLimits.socketPort()))
                    .addService(snapshotInbox.definition())
                    .addService(kvService)
                    .addService(leaseService)
                    .addService(watchService)
                    .addService(ops.maintenance())
                    .addService(clusterServices.get(0))
                    .addService(clusterServices.get(1))
                    .addService(authService)
                    .build().start();
            Server clientServer;
            try {
                TlsMaterial clientTls = ServerConfig.isHttps(config.clientUrl()) ? tlsMaterial(config, config.security().client(), "client")
                        : null;
                clientServer = grpcServer(config, config.clientUrl(), config.security().client(), clientTls)
                        .maxConcurrentCallsPerConnection(clientLimits.maxConcurrentStreams()) // etcd's --max-concurrent-streams
                        .intercept(new QuotaInterceptor(store, alarms, config.limits().quotaBackendBytes(), id))
                        .intercept(new RequestSizeInterceptor(config.requestBytesMax()))
                        // Added last, so it runs first: nothing reaches a service (or the quota check) unauthorised.
                        .intercept(new AuthGate(() -> finalStore.read(MvccStore::auth), tokens, config.security().client().clientCertAuth(),
                                lease -> finalStore.read(s -> s.leaseKeys(lease))))
                        .addService(authService).addService(kvService).addService(leaseService)
                        .addService(watchService).addService(lockService).addService(electionService).addService(ops.maintenance())
                        .addService(clusterServices.get(0))
                        .build().start();
            } catch (IOException e) {
                peerServer.shutdownNow();
                throw new IOException("cannot listen on client URL " + config.clientUrl() + ": " + e.getMessage(), e);
            }
            raftThread.start();
            if (socketListener != null) socketListener.start();
            transport.start();
            var ticker = Executors.newSingleThreadScheduledExecutor(r -> {
                var t = new Thread(MemberMdc.wrap(config.name(), r), "synod-tick-" + config.name());
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
            ticker.scheduleAtFixedRate(() -> {
                try {
                    lessor.check();
                } catch (RuntimeException e) {
                    log.warn("lease check failed", e);
                }
            }, config.limits().lease().checkIntervalMillis(), config.limits().lease().checkIntervalMillis(), TimeUnit.MILLISECONDS);
            if (config.limits().corruptCheckIntervalMillis() > 0) {
                var corruption = new CorruptionCheck(id, driver, store, transport, alarms, config.requestTimeoutMillis());
                long every = config.limits().corruptCheckIntervalMillis();
                var running = new java.util.concurrent.atomic.AtomicBoolean();
                // The check waits on peers, so it runs off the ticker thread (whose delays would cost elections).
                ticker.scheduleWithFixedDelay(() -> {
                    if (!running.compareAndSet(false, true)) return;
                    java.util.concurrent.CompletableFuture.runAsync(() -> {
                        try {
                            corruption.check();
                        } catch (RuntimeException e) {
                            log.warn("corruption check failed", e);
                        } finally {
                            running.set(false);
                        }
                    });
                }, every, every, TimeUnit.MILLISECONDS);
            }
            members.start(driver, cluster::publishSelf);
            log.info("member {} serving clients on {} and peers on {}", config.name(), config.clientUrl(), config.peerUrl());
            serverRef[0] = new SynodServer(config, raftLog, store, snapshotSender, driver, transport, raftThread, ticker, peerServer, socketListener,
                    clientServer, ops,
                    watch, members, kv.expensiveRequests());
            return serverRef[0];
        } catch (IOException | RuntimeException e) {
            if (ops != null) ops.close();
            if (peerServer != null) peerServer.shutdownNow();
            if (socketListener != null) socketListener.close();
            if (watch != null) watch.close();
            if (transport != null) transport.close();
            if (snapshotSender != null) snapshotSender.close();
            if (store != null) store.close();
            raftLog.close();
            throw e;
        }
    }

    private static TlsMaterial tlsMaterial(ServerConfig config, TlsFiles files, String name) {
        return TlsMaterial.load(files, name, config.security().tlsReloadIntervalMillis(), System::nanoTime);
    }

    private static NettyServerBuilder grpcServer(ServerConfig config, java.net.URI url, TlsFiles tls, TlsMaterial material) {
        // etcd clients ping every few seconds; grpc-java's default would close their connections.
        var builder = NettyServerBuilder.forAddress(ServerConfig.address(url))
                .permitKeepAliveTime(1, TimeUnit.SECONDS)
                .permitKeepAliveWithoutCalls(true)
                .directExecutor() // method lookup on the transport thread; then non-blocking handlers stay there, the rest move
                .callExecutor(Proposer.inlineCalls())
                .maxInboundMessageSize(config.requestBytesMax() + RequestSizeInterceptor.GRPC_OVERHEAD_BYTES);
        // As in etcd, the URL's scheme decides: https:// serves TLS with the listener's files, http:// plaintext.
        if (ServerConfig.isHttps(url)) builder.sslContext(TlsContexts.server(material, tls));
        return builder;
    }

    /**
     * Writes the founding entry: every member of {@code --initial-cluster} a voter, with their names
     * and peer URLs as the change's context so the member table starts out complete. The entry must
     * be byte-identical on every founding member (it is index 1 of everyone's log), so it carries
     * only what {@code --initial-cluster} says; client URLs are published later by each member.
     */
    private static void bootstrap(ServerConfig config, DurableRaftLog raftLog) throws IOException {
        var voters = new TreeSet<Long>();
        var founders = new java.util.ArrayList<io.synod.mvcc.Member>();
        config.initialCluster().forEach((n, url) -> {
            voters.add(ServerConfig.memberId(n));
            founders.add(new io.synod.mvcc.Member(ServerConfig.memberId(n), n, List.of(url.toString()), List.of(), false));
        });
        founders.sort(java.util.Comparator.comparingLong(io.synod.mvcc.Member::id));
        var entry = RaftBootstrap.entry(voters);
        byte[] withContext = io.synod.consensus.ConfChange.decode(entry.data())
                .withContext(new MemberChange(founders, List.of()).encode()).encode();
        raftLog.save(RaftBootstrap.hardState(), List.of(new io.synod.consensus.Entry(entry.term(), entry.index(), entry.type(), withContext)));
        log.info("bootstrapped founding member {} of {}", config.name(), config.initialCluster().keySet());
    }

    /**
     * Closes {@code server} on a thread of its own (the caller may be one that close() waits for),
     * after {@link ClusterOptions#removedStopDelayMillis()} so the reply to the request that removed
     * this member is not cut off by its own shutdown.
     */
    private static void stopAsync(SynodServer[] server, ServerConfig config) {
        var t = new Thread(() -> {
            try {
                Thread.sleep(ClusterOptions.DEFAULTS.removedStopDelayMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            if (server[0] != null) server[0].close();
        }, "synod-removed-" + config.name());
        t.setDaemon(true);
        t.start();
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

    /** Snapshots this member has delivered to followers (for tests and metrics). */
    public long snapshotsSent() {
        return snapshotSender.sentCount();
    }

    /** This member's metrics (the watch and lease services register their gauges here). */
    public ServerMetrics metrics() {
        return ops.metrics();
    }

    /** The watch hub serving this member's watches (for tests). */
    io.synod.mvcc.watch.WatchHub watchHub() {
        return watch.hub();
    }

    /** The admission of expensive reads on the client listener (for tests). */
    ExpensiveRequests expensiveRequests() {
        return expensiveRequests;
    }

    /** The port of the operations endpoint, if {@code --listen-metrics-urls} is set. */
    public java.util.Optional<Integer> opsPort() {
        return ops.httpPort();
    }

    /** True once {@link #close()} began (also when the member closed itself after being removed). */
    public boolean isClosed() {
        return closing.get();
    }

    public boolean isLeader() {
        return driver.leader() == memberId();
    }

    /** Blocks until the Raft loop ends (on {@link #close()} or on a fatal error, see {@link ReplicaDriver#failure()}). */
    public void awaitTermination() throws InterruptedException {
        raftThread.join();
    }

    /** Writes what the entry tracer recorded, if it was on, next to the member's data (for {@code synod bench trace}). */
    private void dumpTrace() {
        var tracer = driver.tracer();
        if (!tracer.enabled()) return;
        Path file = config.dataDir().resolve("trace.tsv");
        try (var out = java.nio.file.Files.newBufferedWriter(file)) {
            tracer.dump(out);
            log.info("entry trace of {}: {} points in {}", config.name(), tracer.size(), file);
        } catch (IOException e) {
            log.warn("cannot write the entry trace to {}", file, e);
        }
    }

    /** Stops serving and closes the stores; what was acknowledged is durable in the log. Idempotent. */
    @Override
    public void close() {
        if (!closing.compareAndSet(false, true)) return;
        watch.close(); // first: ends watch calls with UNAVAILABLE so clients resume elsewhere
        members.close();
        ops.close();
        clientServer.shutdownNow();
        peerServer.shutdownNow();
        ticker.shutdownNow();
        driver.stop();
        if (socketListener != null) socketListener.close(); // waits for passes running on its links' threads
        try {
            raftThread.join(SHUTDOWN_WAIT_MILLIS);
            clientServer.awaitTermination(SHUTDOWN_WAIT_MILLIS, TimeUnit.MILLISECONDS);
            peerServer.awaitTermination(SHUTDOWN_WAIT_MILLIS, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        snapshotSender.close();
        transport.close();
        dumpTrace();
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
