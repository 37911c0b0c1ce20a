package io.synod.cli;

import io.synod.server.OpsConfig;
import io.synod.server.ServerConfig;
import io.synod.replica.SnapshotPolicy;
import io.synod.server.ServerMain;
import io.synod.server.transport.SnapshotLimits;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code synod server}: runs one member in the foreground with etcd's flag names, so an etcd
 * command line works with only the binary name changed. It stops cleanly on SIGTERM/Ctrl-C and
 * exits non-zero if the member fails.
 */
@Command(name = "server", mixinStandardHelpOptions = true, description = "Run one Synod member serving the etcd v3 KV API.")
public final class ServerCommand implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Option(names = "--config-file", description = "a YAML file of flag: value lines (etcd's format); replaces all other flags")
    String configFile;

    @Option(names = "--heartbeat-interval", description = "etcd's heartbeat interval in ms (sets the tick; default 100)")
    Long heartbeatInterval;

    @Option(names = "--election-timeout", description = "etcd's election timeout in ms, at least 5 heartbeats (default 1000)")
    Long electionTimeout;

    @Option(names = "--synod-heartbeat-ticks", description = "heartbeat interval in ticks (default: 1)")
    Integer heartbeatTicks;

    @Option(names = "--quota-backend-bytes", description = "store size that raises the NOSPACE alarm; 0 = 2 GiB, as etcd (default: 0)")
    Long quotaBackendBytes;

    @Option(names = "--synod-lease-check-interval-ms", description = "how often the leader looks for expired leases (default: 250)")
    Long leaseCheckIntervalMillis;

    @Option(names = "--synod-lease-expiries-per-check", description = "most lease expiries proposed per check (default: 250)")
    Integer leaseExpiriesPerCheck;

    @Option(names = "--synod-lease-checkpoint-interval-ms", description = "how often remaining lease TTLs are recorded (default: 5000)")
    Long leaseCheckpointIntervalMillis;

    @Option(names = "--synod-lease-checkpoint-batch", description = "most leases per checkpoint entry (default: 1000)")
    Integer leaseCheckpointBatch;

    @Option(names = "--synod-waiters-max", description = "lock/election waiters and observers per member (default: 10000)")
    Integer waitersMax;

    @Option(names = "--synod-snapshot-downloads-max", description = "Maintenance.Snapshot streams served at once (default: 2)")
    Integer snapshotDownloadsMax;

    @Option(names = "--synod-corrupt-check-interval-ms",
            description = "how often the leader compares members' HashKV and raises CORRUPT on a mismatch; 0 = never (default: 0)")
    Long corruptCheckIntervalMillis;

    // Defensive limits (io.synod.server.ClientLimits); docs/operations.md, "Limits".
    @Option(names = "--max-concurrent-streams", description = "gRPC streams one client connection may open at once; "
            + "more wait in the client (etcd's flag; default: 10000)")
    Long maxConcurrentStreams;

    @Option(names = "--synod-watchers-max", description = "watches open on this member; more are refused (default: 100000)")
    Integer watchersMax;

    @Option(names = "--synod-watchers-per-stream-max", description = "watches on one Watch stream; more are refused (default: 100000)")
    Integer watchersPerStreamMax;

    @Option(names = "--synod-watch-queued-bytes-max",
            description = "watch event bytes queued over all streams; beyond it streams that stopped reading catch up later (default: 268435456)")
    Long watchQueuedBytesMax;

    @Option(names = "--synod-leases-max", description = "leases in the cluster; the leader refuses more grants (default: 1000000)")
    Integer leasesMax;

    @Option(names = "--synod-expensive-requests-max", description = "large range reads (and txns with one) served at once (default: 4)")
    Integer expensiveRequestsMax;

    @Option(names = "--synod-expensive-requests-queue-max", description = "large reads waiting for a slot; more get 'too many requests' (default: 64)")
    Integer expensiveRequestsQueueMax;

    @Option(names = "--synod-range-response-bytes-max", description = "largest range response in bytes; 0 = no limit (default: 0)")
    Long rangeResponseBytesMax;

    // Engine limits (io.synod.server.EngineLimits): the Raft loop's and the peer transport's bounds.
    @Option(names = "--synod-raft-inbox-depth-max", description = "events queued for the Raft loop; beyond it proposals get 'too many requests' (default: 16384)")
    Integer raftInboxDepthMax;

    @Option(names = "--synod-raft-drain-batch-max", description = "events the Raft loop takes per pass (default: 1024)")
    Integer raftDrainBatchMax;

    @Option(names = "--synod-raft-pending-proposals-max", description = "proposals accepted and not yet applied (default: 65536)")
    Integer raftPendingProposalsMax;

    @Option(names = "--synod-raft-pending-reads-max", description = "linearizable reads waiting for their read index (default: 65536)")
    Integer raftPendingReadsMax;

    @Option(names = "--synod-raft-idle-poll-ms", description = "how long an idle Raft loop waits for an event (default: 50)")
    Long raftIdlePollMillis;

    @Option(names = "--synod-apply-batch-max", description = "committed commands applied in one store batch (default: 256)")
    Integer applyBatchMax;

    @Option(names = "--synod-apply-batch-bytes-max", description = "command bytes applied in one store batch (default: 4194304)")
    Long applyBatchBytesMax;

    @Option(names = "--synod-peer-send-queue-depth-max", description = "messages queued for one peer; beyond it they are dropped (default: 8192)")
    Integer peerSendQueueDepthMax;

    @Option(names = "--synod-peer-batch-messages-max", description = "messages to one peer in one frame (default: 512)")
    Integer peerBatchMessagesMax;

    @Option(names = "--synod-peer-frame-bytes-max", description = "largest peer frame sent or accepted (default: 33554432)")
    Integer peerFrameBytesMax;

    @Option(names = "--synod-peer-send-timeout-ms", description = "deadline of one peer frame; a peer that misses it is unreachable (default: 2000)")
    Long peerSendTimeoutMillis;

    @Option(names = "--synod-peer-retry-backoff-ms", description = "pause after a failed peer delivery (default: 100)")
    Long peerRetryBackoffMillis;

    @Option(names = "--synod-peer-io-threads", description = "event-loop threads of the channels to peers; 0 = share gRPC's (default: 2)")
    Integer peerIoThreads;

    @Option(names = "--synod-peer-socket-port", description = "port of a plain-TCP listener on the peer URL's host on which other members send "
            + "Raft frames without gRPC (faster); plaintext peers only; 0 = none (default: 0)")
    Integer peerSocketPort;

    @Option(names = "--cert-file", description = "PEM certificate of the client listener (needed for an https:// client URL)")
    String certFile;

    @Option(names = "--key-file", description = "PEM key of --cert-file (PKCS#8, PKCS#1 RSA or SEC1 EC)")
    String keyFile;

    @Option(names = "--trusted-ca-file", description = "PEM CA bundle that verifies client certificates")
    String trustedCaFile;

    @Option(names = "--client-cert-auth", arity = "0..1", fallbackValue = "true",
            description = "refuse clients without a certificate --trusted-ca-file verifies; its CN is the auth user (default: false)")
    Boolean clientCertAuth;

    @Option(names = "--peer-cert-file", description = "PEM certificate of the peer listener, also presented to other members")
    String peerCertFile;

    @Option(names = "--peer-key-file", description = "PEM key of --peer-cert-file (PKCS#8, PKCS#1 RSA or SEC1 EC)")
    String peerKeyFile;

    @Option(names = "--peer-trusted-ca-file", description = "PEM CA bundle that verifies other members' certificates")
    String peerTrustedCaFile;

    @Option(names = "--peer-client-cert-auth", arity = "0..1", fallbackValue = "true",
            description = "refuse peer connections without a certificate --peer-trusted-ca-file verifies (default: false)")
    Boolean peerClientCertAuth;

    @Option(names = "--auth-token", description = "'simple' (per-member tokens) or etcd's "
            + "'jwt,sign-method=RS256|PS256|ES256|HS256|EdDSA...,priv-key=PATH,pub-key=PATH,ttl=5m' (default: simple)")
    String authToken;

    @Option(names = "--synod-tls-reload-interval-ms",
            description = "longest a rotated certificate/key/CA file goes unnoticed; 0 = check at every handshake (default: 1000)")
    Long tlsReloadIntervalMillis;

    @Option(names = "--synod-auth-token-ttl-ms", description = "how long an unused simple auth token stays valid (default: 300000)")
    Long authTokenTtlMillis;

    @Option(names = "--synod-auth-tokens-max", description = "simple auth tokens held at once; the oldest goes first (default: 100000)")
    Integer authTokensMax;

    @Option(names = "--name", description = "member name (its id is derived from it) (default: ${DEFAULT-VALUE})")
    String name = "default";

    @Option(names = "--data-dir", description = "directory for the WAL and the MVCC store (default: <name>.synod)")
    String dataDir;

    @Option(names = "--listen-client-urls", description = "client (etcd API) URL; only the first is used (default: ${DEFAULT-VALUE})")
    String listenClientUrls = "http://127.0.0.1:2379";

    @Option(names = "--advertise-client-urls", description = "client URLs to advertise (default: the listen URLs)")
    String advertiseClientUrls;

    @Option(names = "--listen-peer-urls", description = "peer (Raft) URL; only the first is used (default: ${DEFAULT-VALUE})")
    String listenPeerUrls = "http://127.0.0.1:2380";

    @Option(names = "--initial-advertise-peer-urls", description = "this member's peer URL as others reach it")
    String initialAdvertisePeerUrls;

    @Option(names = "--initial-cluster", description = "founding members: name=peer-url,... (default: this member alone)")
    String initialCluster;

    @Option(names = "--initial-cluster-state", description = "'new' (only 'new' is supported yet) (default: ${DEFAULT-VALUE})")
    String initialClusterState = "new";

    @Option(names = "--initial-cluster-token", description = "accepted for etcd compatibility; the cluster id derives from the members")
    String initialClusterToken;

    @Option(names = "--synod-tick-ms", description = "Raft tick length in ms (default: ${DEFAULT-VALUE})")
    long tickMillis = ServerConfig.DEFAULT_TICK_MILLIS;

    @Option(names = "--synod-election-ticks", description = "election timeout in ticks (default: ${DEFAULT-VALUE})")
    int electionTicks = ServerConfig.DEFAULT_ELECTION_TICKS;

    @Option(names = "--synod-request-timeout-ms", description = "longest a client request waits (default: ${DEFAULT-VALUE})")
    long requestTimeoutMillis = ServerConfig.DEFAULT_REQUEST_TIMEOUT_MILLIS;

    @Option(names = "--max-request-bytes", description = "largest client request accepted (default: ${DEFAULT-VALUE})")
    int requestBytesMax = ServerConfig.DEFAULT_REQUEST_BYTES_MAX;

    @Option(names = "--synod-requests-in-flight-max", description = "client requests handled at once (default: ${DEFAULT-VALUE})")
    int requestsInFlightMax = ServerConfig.DEFAULT_REQUESTS_IN_FLIGHT_MAX;

    @Option(names = "--snapshot-count", description = "applied entries between two log compactions (default: ${DEFAULT-VALUE})")
    long snapshotCount = SnapshotPolicy.DEFAULT_SNAPSHOT_COUNT;

    @Option(names = "--snapshot-catchup-entries",
            description = "entries kept behind a compaction for slow followers (default: ${DEFAULT-VALUE})")
    long snapshotCatchupEntries = SnapshotPolicy.DEFAULT_CATCHUP_ENTRIES;

    @Option(names = "--synod-snapshot-chunk-bytes", description = "bytes per snapshot chunk sent to a follower (default: ${DEFAULT-VALUE})")
    int snapshotChunkBytes = SnapshotLimits.DEFAULT_CHUNK_BYTES;

    @Option(names = "--synod-snapshot-sends-max", description = "snapshots sent to followers at once (default: ${DEFAULT-VALUE})")
    int snapshotSendsMax = SnapshotLimits.DEFAULT_SENDS_MAX;

    @Option(names = "--listen-metrics-urls", description = "operations endpoint (/metrics, /health, /livez, /readyz), "
            + "http://host:port; only the first is used (default: none)")
    String listenMetricsUrls;

    @Option(names = "--synod-ops-threads", description = "threads serving the operations endpoint (default: ${DEFAULT-VALUE})")
    int opsThreads = OpsConfig.DEFAULT_HTTP_THREADS;

    @Option(names = "--synod-ops-queue-max", description = "operations requests queued for those threads (default: ${DEFAULT-VALUE})")
    int opsQueueMax = OpsConfig.DEFAULT_HTTP_QUEUE_MAX;

    @Option(names = "--synod-ops-backlog", description = "operations endpoint's listen backlog (default: ${DEFAULT-VALUE})")
    int opsBacklog = OpsConfig.DEFAULT_HTTP_BACKLOG;

    @Option(names = "--synod-health-timeout-ms", description = "longest a health probe's read waits (default: ${DEFAULT-VALUE})")
    long healthTimeoutMillis = OpsConfig.DEFAULT_HEALTH_TIMEOUT_MILLIS;

    @Option(names = "--synod-member-query-timeout-ms",
            description = "longest MemberList waits for a peer's client URLs (default: ${DEFAULT-VALUE})")
    long memberQueryTimeoutMillis = OpsConfig.DEFAULT_MEMBER_QUERY_TIMEOUT_MILLIS;

    @Override
    public Integer call() throws Exception {
        // Only the flags given are forwarded, with their text as typed: ServerConfig applies the defaults,
        // and --config-file (which must stand alone) works. The fields above document the flags for --help.
        var args = new ArrayList<String>();
        for (OptionSpec o : spec.commandLine().getParseResult().matchedOptions()) {
            if (o.usageHelp() || o.versionHelp()) continue;
            for (String v : o.stringValues()) args.add(o.longestName() + "=" + v);
        }
        ServerConfig config;
        try {
            config = ServerConfig.fromArgs(args.toArray(String[]::new));
        } catch (IllegalArgumentException e) {
            System.err.println("synod server: " + e.getMessage());
            return 2;
        }
        ServerMain.quietLeakDetection();
        return ServerMain.run(config);
    }
}
