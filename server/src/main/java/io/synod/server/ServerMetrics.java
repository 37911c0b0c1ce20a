package io.synod.server;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.synod.consensus.SoftState;
import io.synod.mvcc.MvccStore;
import io.synod.replica.ReplicaDriver;
import io.synod.replica.ReplicaListener;
import io.synod.replica.ReplicaStorage;
import io.synod.replica.StateMachine;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.DoubleSupplier;

/**
 * One member's metrics in Prometheus form, for the operations endpoint's {@code /metrics}. Names
 * follow etcd's wherever etcd has the metric (so existing dashboards and alerts carry over) and
 * start with {@code synod_} otherwise; docs/operations.md lists them all. Each member owns its
 * registry (several members may share a JVM in tests), and nothing here is global.
 *
 * <p>Three kinds of source: gauges read the driver's and the store's published state when
 * scraped; the driver reports events through {@link ReplicaListener} (this class is one); and the
 * disk paths are timed by wrapping the driver's storage and state machine ({@link #timed}), since
 * the driver itself has no clock. Watchers and leases are counted elsewhere: their gauges exist
 * from the start (reading 0) and their owners plug a supplier in with {@link #watchers} and
 * {@link #leases}.
 */
public final class ServerMetrics implements ReplicaListener {
    /** etcd's WAL fsync and backend commit buckets: 1 ms doubling to about 8 s. */
    private static final Duration[] DISK_BUCKETS = exponentialBuckets(Duration.ofMillis(1), 14);
    /** Apply is mostly in memory and page cache: finer at the bottom, 100 µs doubling to about 3 s. */
    private static final Duration[] APPLY_BUCKETS = exponentialBuckets(Duration.ofNanos(100_000), 16);

    private final String member;
    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final Counter leaderChanges;
    private final Counter proposalsFailed;
    private final Counter healthSuccess;
    private final Counter healthFailures;
    private final Timer walFsync;
    private final Timer backendCommit;
    private final Timer apply;
    private final AtomicReference<DoubleSupplier> watchers = new AtomicReference<>(() -> 0);
    private final AtomicReference<DoubleSupplier> leases = new AtomicReference<>(() -> 0);
    /** Loop thread only: when the current batch of committed entries started applying. */
    private long applyStartNanos;

    public ServerMetrics(String member) {
        this.member = member;
        leaderChanges = Counter.builder("etcd_server_leader_changes_seen").description("The number of leader changes seen.")
                .register(registry);
        proposalsFailed = Counter.builder("etcd_server_proposals_failed")
                .description("The total number of failed proposals seen (rejected by Raft or lost to a leader change).")
                .register(registry);
        healthSuccess = Counter.builder("etcd_server_health_success").description("The total number of successful health checks.")
                .register(registry);
        healthFailures = Counter.builder("etcd_server_health_failures").description("The total number of failed health checks.")
                .register(registry);
        walFsync = Timer.builder("etcd_disk_wal_fsync_duration")
                .description("The latency distribution of WAL appends that were flushed to disk (append plus fsync).")
                .serviceLevelObjectives(DISK_BUCKETS).register(registry);
        backendCommit = Timer.builder("etcd_disk_backend_commit_duration")
                .description("The latency distribution of one command's atomic RocksDB write batch (executed and written).")
                .serviceLevelObjectives(DISK_BUCKETS).register(registry);
        apply = Timer.builder("synod_apply_duration")
                .description("The latency distribution of applying the committed entries of one Raft Ready.")
                .serviceLevelObjectives(APPLY_BUCKETS).register(registry);
        gauge("synod_watchers", "Watchers registered on this member.", () -> watchers.get().getAsDouble());
        gauge("synod_leases", "Leases held by this member's lessor.", () -> leases.get().getAsDouble());
        new JvmMemoryMetrics().bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        new UptimeMetrics().bindTo(registry);
    }

    private static Duration[] exponentialBuckets(Duration first, int count) {
        var buckets = new Duration[count];
        for (int i = 0; i < count; i++) buckets[i] = first.multipliedBy(1L << i);
        return buckets;
    }

    private void gauge(String name, String help, DoubleSupplier value) {
        // Strong: Micrometer holds a gauge's source weakly by default, and these lambdas have no other owner.
        Gauge.builder(name, value, DoubleSupplier::getAsDouble).description(help).strongReference(true).register(registry);
    }

    /** Registers the gauges that read the member's published state; call once the driver and store exist. */
    public void bind(ReplicaDriver driver, StoreHolder store) {
        long self = driver.id();
        gauge("etcd_server_has_leader", "Whether or not a leader exists. 1 is existence, 0 is not.",
                () -> driver.leader() != SoftState.NO_LEADER ? 1 : 0);
        gauge("etcd_server_is_leader", "Whether or not this member is a leader. 1 if is, 0 otherwise.",
                () -> driver.leader() == self ? 1 : 0);
        gauge("etcd_server_is_learner", "Whether or not this member is a learner. 1 if is, 0 otherwise.",
                () -> driver.status().confState().learners().contains(self) ? 1 : 0);
        // etcd types these two as gauges named *_total; Prometheus' Java client reserves the _total
        // suffix for counters, and both indexes only grow within a process, so they are counters here
        // (same exposed names, TYPE counter).
        // The driver is the counters' source object: Micrometer holds it weakly, and the server holds it.
        FunctionCounter.builder("etcd_server_proposals_committed", driver, d -> d.status().commitIndex())
                .description("The total number of consensus proposals committed (the commit index).").register(registry);
        FunctionCounter.builder("etcd_server_proposals_applied", driver, ReplicaDriver::appliedIndex)
                .description("The total number of consensus proposals applied (the applied index).").register(registry);
        gauge("etcd_server_proposals_pending", "The current number of pending proposals to commit.", driver::pendingProposals);
        gauge("etcd_mvcc_db_total_size_in_bytes", "Total size of the underlying database (RocksDB SST files and memtables).",
                () -> store.read(MvccStore::dbSizeBytes));
        gauge("etcd_mvcc_db_total_size_in_use_in_bytes", "Estimated bytes of the database that hold live data.",
                () -> store.read(MvccStore::dbSizeInUseBytes));
        gauge("synod_mvcc_current_revision", "The current revision of the store.", () -> store.read(MvccStore::currentRevision));
        gauge("synod_mvcc_compact_revision", "The revision the store was last compacted at (0: never).", () -> store.read(MvccStore::compactRevision));
        gauge("synod_raft_term", "The Raft term this member is in.", driver::term);
        gauge("synod_raft_commit_index", "The highest log index known committed.", () -> driver.status().commitIndex());
        gauge("synod_raft_applied_index", "The highest log index applied to the store.", driver::appliedIndex);
    }

    /** Counts the writes forwarded through the peer streams, both ways; the server calls it once its proposer exists. */
    void forwarding(WriteForwarder forwarder) {
        FunctionCounter.builder("synod_server_writes_forwarded", forwarder, WriteForwarder::forwardedCount)
                .description("Writes this member sent to the leader inside its peer stream.").register(registry);
        FunctionCounter.builder("synod_server_forwarded_writes_proposed", forwarder, WriteForwarder::servedCount)
                .description("Writes other members forwarded that this member proposed (or refused) as leader.").register(registry);
        FunctionCounter.builder("synod_server_keepalives_forwarded", forwarder, WriteForwarder::renewalsForwardedCount)
                .description("Lease keep-alives this member sent to the leader inside its peer stream.").register(registry);
        Gauge.builder("synod_server_forwarded_requests_waiting", forwarder, WriteForwarder::waitingCount)
                .description("Writes and keep-alives this member forwarded and still waits on (answered, failed or timed out ones leave).")
                .register(registry);
    }

    /** How frames travel to peers, and what the transport dropped; the server calls it once its transport exists. */
    void peers(io.synod.server.transport.PeerTransport transport) {
        Gauge.builder("synod_peer_socket_links", transport, t -> t.routeCount(io.synod.server.transport.PeerTransport.Route.SOCKET))
                .description("Peers this member sends Raft frames to on a socket link (--synod-peer-socket-port) right now.").register(registry);
        Gauge.builder("synod_peer_streams", transport, t -> t.routeCount(io.synod.server.transport.PeerTransport.Route.STREAM))
                .description("Peers this member sends Raft frames to on the peer URL's gRPC stream right now.").register(registry);
        FunctionCounter.builder("synod_peer_messages_dropped", transport, io.synod.server.transport.PeerTransport::droppedMessages)
                .description("Messages to peers dropped: a full send queue, an unknown peer, or a link that failed under them (Raft resends).")
                .register(registry);
    }

    /** Counts the leader's lease renewals by how they were made. */
    void keepAlives(KeepAlives keepAlives) {
        FunctionCounter.builder("synod_server_keepalives_on_clock", keepAlives, KeepAlives::onClockCount)
                .description("Lease keep-alives this member made as leader on its clock alone, after a ReadIndex.").register(registry);
        FunctionCounter.builder("synod_server_keepalives_logged", keepAlives, KeepAlives::throughLogCount)
                .description("Lease keep-alives this member made as leader through the log.").register(registry);
    }

    /** Feeds {@code synod_watchers}; the watch service calls it once it exists. */
    public void watchers(DoubleSupplier count) {
        watchers.set(count);
    }

    /** Feeds {@code synod_leases}; the lessor calls it once it exists. */
    public void leases(DoubleSupplier count) {
        leases.set(count);
    }

    /**
     * Registers the gauges of the client limits (see {@link ClientLimits}): expensive reads being
     * served, waiting and refused, and the watch event bytes queued over all streams, so an operator
     * sees how close a member runs to its limits and how often clients are turned away.
     */
    void clientLimits(ExpensiveRequests expensive, java.util.function.LongSupplier watchQueuedBytes) {
        gauge("synod_expensive_requests_in_use", "Expensive reads (large ranges, txns with one) being served.", () -> expensive.stats().inUse());
        gauge("synod_expensive_requests_waiting", "Expensive reads waiting for a permit.", () -> expensive.stats().waiting());
        // The gate is the counter's source object: Micrometer holds it weakly, and the KV service holds it.
        FunctionCounter.builder("synod_expensive_requests_refused", expensive, e -> e.stats().refused())
                .description("Expensive reads refused with 'too many requests' (queue full, or no permit before the deadline).")
                .register(registry);
        gauge("synod_watch_queued_bytes", "Approximate bytes of watch events queued for all watch streams.", watchQueuedBytes::getAsLong);
    }

    /** Counts a health probe's outcome (etcd_server_health_success / _failures). */
    void healthChecked(boolean healthy) {
        (healthy ? healthSuccess : healthFailures).increment();
    }

    /** The Prometheus text exposition of every metric. */
    public String scrape() {
        return registry.scrape();
    }

    /** Times each Ready's persist that had to reach the disk ({@code etcd_disk_wal_fsync_duration_seconds}). */
    public ReplicaStorage timed(ReplicaStorage storage) {
        return new ReplicaStorage() {
            @Override
            public void persist(io.synod.consensus.Ready rd) throws java.io.IOException {
                if (!rd.mustSync()) {
                    storage.persist(rd);
                    return;
                }
                long start = System.nanoTime();
                storage.persist(rd);
                walFsync.record(System.nanoTime() - start, TimeUnit.NANOSECONDS);
            }

            @Override
            public long snapshotIndex() {
                return storage.snapshotIndex();
            }

            @Override
            public void compact(long index, io.synod.consensus.ConfState confState) throws java.io.IOException {
                storage.compact(index, confState);
            }
        };
    }

    /** Times each write of applied commands to the store, one command or a batch ({@code etcd_disk_backend_commit_duration_seconds}). */
    public StateMachine timed(StateMachine stateMachine) {
        return new StateMachine() {
            @Override
            public long appliedIndex() {
                return stateMachine.appliedIndex();
            }

            @Override
            public Object apply(long index, byte[] command) {
                long start = System.nanoTime();
                try {
                    return stateMachine.apply(index, command);
                } finally {
                    backendCommit.record(System.nanoTime() - start, TimeUnit.NANOSECONDS);
                }
            }

            @Override
            public Object[] applyBatch(long[] indexes, byte[][] commands) {
                long start = System.nanoTime();
                try {
                    return stateMachine.applyBatch(indexes, commands);
                } finally {
                    backendCommit.record(System.nanoTime() - start, TimeUnit.NANOSECONDS);
                }
            }

            @Override
            public void markApplied(long index) {
                stateMachine.markApplied(index);
            }

            @Override
            public void applyConfChange(long index, io.synod.consensus.ConfChange change, io.synod.consensus.ConfState conf) {
                stateMachine.applyConfChange(index, change, conf); // must reach the store: it records membership metadata
            }

            @Override
            public long flush() {
                return stateMachine.flush();
            }

            @Override
            public long restore(io.synod.consensus.Snapshot snapshot) {
                return stateMachine.restore(snapshot);
            }
        };
    }

    // ---- ReplicaListener (the driver's loop thread) --------------------------------------------

    @Override
    public void leaderChanged(long leader, long term) {
        // etcd counts changes to a known leader, not the moments without one.
        if (leader != SoftState.NO_LEADER) leaderChanges.increment();
        MemberMdc.term(term);
    }

    @Override
    public void applyStarted(int entries) {
        applyStartNanos = System.nanoTime();
    }

    @Override
    public void applyFinished(int entries, long appliedIndex) {
        apply.record(System.nanoTime() - applyStartNanos, TimeUnit.NANOSECONDS);
    }

    @Override
    public void proposalFailed() {
        proposalsFailed.increment();
    }

    @Override
    public String toString() {
        return "ServerMetrics[" + member + "]";
    }
}
