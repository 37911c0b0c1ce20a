package io.synod.server;

import io.synod.replica.SnapshotPolicy;
import io.synod.server.transport.SnapshotLimits;
import io.synod.storage.raftlog.RaftLogOptions;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Everything one server process is told at start, validated once. The flags mirror etcd's
 * ({@code --name}, {@code --data-dir}, {@code --listen-client-urls}, {@code --advertise-client-urls},
 * {@code --listen-peer-urls}, {@code --initial-advertise-peer-urls}, {@code --initial-cluster},
 * {@code --initial-cluster-state}) so scripts written for etcd carry over; Synod-specific tuning
 * flags start with {@code --synod-}. Member ids are derived from member names (see
 * {@link #memberId(String)}), so every member computes the same ids without exchanging them.
 *
 * @param clientUrl            the address the etcd API listens on (only the first listen URL is used)
 * @param peerUrl              the address the peer (Raft) service listens on
 * @param initialCluster       member name to peer URL, for every founding member
 * @param tickMillis           length of one Raft tick
 * @param electionTicks        base election timeout in ticks
 * @param heartbeatTicks       leader heartbeat interval in ticks
 * @param requestTimeoutMillis longest a client request waits for a leader, commit, apply or read index
 * @param requestBytesMax      largest client request accepted (etcd's default is 1.5 MiB)
 * @param retryBackoffMillis   pause between attempts while no leader is known
 * @param requestsInFlightMax  client requests (forwarded ones included) handled at once; more are refused
 *                             with RESOURCE_EXHAUSTED, since each one holds a thread while it waits
 * @param snapshotCount        applied entries between two log compactions (etcd's {@code --snapshot-count})
 * @param snapshotCatchupEntries entries kept behind a compaction point for slow followers
 *                             (etcd's {@code --snapshot-catchup-entries})
 * @param snapshotLimits       bounds of snapshot transfer to and from peers
 * @param raftLogOptions       the Raft log's WAL (segment size, record size, sync mode) and entry cache
 * @param ops                  the operations endpoint ({@code --listen-metrics-urls}) and its limits
 * @param limits               backend quota, lease timers and client limits ({@link ClientLimits})
 * @param identity             this member's id and its cluster's id once they are settled (read from the data
 *                             dir, or learned from the cluster when joining); empty: derived from the names
 * @param security             TLS of the client and peer listeners and auth token settings; an {@code https://} URL
 *                             needs the matching certificate, and every member of {@code initialCluster} uses one scheme
 */
public record ServerConfig(
        String name,
        Path dataDir,
        URI clientUrl,
        List<String> advertiseClientUrls,
        URI peerUrl,
        Map<String, URI> initialCluster,
        String initialClusterState,
        long tickMillis,
        int electionTicks,
        int heartbeatTicks,
        long requestTimeoutMillis,
        int requestBytesMax,
        long retryBackoffMillis,
        int requestsInFlightMax,
        long snapshotCount,
        long snapshotCatchupEntries,
        SnapshotLimits snapshotLimits,
        RaftLogOptions raftLogOptions,
        OpsConfig ops,
        ServerLimits limits,
        java.util.Optional<Identity> identity,
        io.synod.server.security.SecurityConfig security) {

    /**
     * Who this member is: its Raft id and its cluster's id. A founding member's are derived from
     * names ({@link #memberId(String)}, {@link #clusterId()}); a member added later gets an id from
     * the leader when it is added and learns both from the cluster when it joins. Either way they
     * are kept in the data dir from then on (see {@code MemberIdentity}), since flags may change.
     */
    public record Identity(long memberId, long clusterId) {
        public Identity {
            if (memberId == 0) throw new IllegalArgumentException("member id 0 is reserved");
        }
    }


    public static final long DEFAULT_TICK_MILLIS = 100;
    public static final int DEFAULT_ELECTION_TICKS = 10;
    public static final int DEFAULT_HEARTBEAT_TICKS = 1;
    public static final long DEFAULT_REQUEST_TIMEOUT_MILLIS = 5000;
    public static final int DEFAULT_REQUEST_BYTES_MAX = 1536 * 1024 + 64 * 1024;
    public static final long DEFAULT_RETRY_BACKOFF_MILLIS = 20;
    public static final int DEFAULT_REQUESTS_IN_FLIGHT_MAX = 1024;

    /** The configuration without the snapshot, log and operations settings, which take their defaults. */
    public ServerConfig(String name, Path dataDir, URI clientUrl, List<String> advertiseClientUrls, URI peerUrl,
            Map<String, URI> initialCluster, String initialClusterState, long tickMillis, int electionTicks, int heartbeatTicks,
            long requestTimeoutMillis, int requestBytesMax, long retryBackoffMillis, int requestsInFlightMax) {
        this(name, dataDir, clientUrl, advertiseClientUrls, peerUrl, initialCluster, initialClusterState, tickMillis, electionTicks,
                heartbeatTicks, requestTimeoutMillis, requestBytesMax, retryBackoffMillis, requestsInFlightMax,
                SnapshotPolicy.DEFAULT_SNAPSHOT_COUNT, SnapshotPolicy.DEFAULT_CATCHUP_ENTRIES, SnapshotLimits.DEFAULTS,
                RaftLogOptions.DEFAULTS, OpsConfig.DEFAULTS, ServerLimits.DEFAULTS, java.util.Optional.empty(),
                io.synod.server.security.SecurityConfig.NONE);
    }

    /** The canonical configuration of the releases before {@link ServerLimits}: limits take their defaults. */
    public ServerConfig(String name, Path dataDir, URI clientUrl, List<String> advertiseClientUrls, URI peerUrl,
            Map<String, URI> initialCluster, String initialClusterState, long tickMillis, int electionTicks, int heartbeatTicks,
            long requestTimeoutMillis, int requestBytesMax, long retryBackoffMillis, int requestsInFlightMax, long snapshotCount,
            long snapshotCatchupEntries, SnapshotLimits snapshotLimits, RaftLogOptions raftLogOptions, OpsConfig ops) {
        this(name, dataDir, clientUrl, advertiseClientUrls, peerUrl, initialCluster, initialClusterState, tickMillis, electionTicks,
                heartbeatTicks, requestTimeoutMillis, requestBytesMax, retryBackoffMillis, requestsInFlightMax, snapshotCount,
                snapshotCatchupEntries, snapshotLimits, raftLogOptions, ops, ServerLimits.DEFAULTS, java.util.Optional.empty(),
                io.synod.server.security.SecurityConfig.NONE);
    }

    /** The canonical configuration of the releases before {@link io.synod.server.security.SecurityConfig}: plaintext, no TLS. */
    public ServerConfig(String name, Path dataDir, URI clientUrl, List<String> advertiseClientUrls, URI peerUrl,
            Map<String, URI> initialCluster, String initialClusterState, long tickMillis, int electionTicks, int heartbeatTicks,
            long requestTimeoutMillis, int requestBytesMax, long retryBackoffMillis, int requestsInFlightMax, long snapshotCount,
            long snapshotCatchupEntries, SnapshotLimits snapshotLimits, RaftLogOptions raftLogOptions, OpsConfig ops, ServerLimits limits) {
        this(name, dataDir, clientUrl, advertiseClientUrls, peerUrl, initialCluster, initialClusterState, tickMillis, electionTicks,
                heartbeatTicks, requestTimeoutMillis, requestBytesMax, retryBackoffMillis, requestsInFlightMax, snapshotCount,
                snapshotCatchupEntries, snapshotLimits, raftLogOptions, ops, limits, java.util.Optional.empty(), io.synod.server.security.SecurityConfig.NONE);
    }

    /** This configuration with other limits. */
    public ServerConfig withLimits(ServerLimits newLimits) {
        return new ServerConfig(name, dataDir, clientUrl, advertiseClientUrls, peerUrl, initialCluster, initialClusterState, tickMillis,
                electionTicks, heartbeatTicks, requestTimeoutMillis, requestBytesMax, retryBackoffMillis, requestsInFlightMax, snapshotCount,
                snapshotCatchupEntries, snapshotLimits, raftLogOptions, ops, newLimits, identity, security);
    }

    /** This configuration with other TLS and auth settings. */
    public ServerConfig withSecurity(io.synod.server.security.SecurityConfig newSecurity) {
        return new ServerConfig(name, dataDir, clientUrl, advertiseClientUrls, peerUrl, initialCluster, initialClusterState, tickMillis,
                electionTicks, heartbeatTicks, requestTimeoutMillis, requestBytesMax, retryBackoffMillis, requestsInFlightMax, snapshotCount,
                snapshotCatchupEntries, snapshotLimits, raftLogOptions, ops, limits, identity, newSecurity);
    }

    public ServerConfig {
        require(!name.isEmpty(), "--name must not be empty");
        require(snapshotCount >= 1, "--snapshot-count must be >= 1, got " + snapshotCount);
        require(snapshotCatchupEntries >= 0, "--snapshot-catchup-entries must be >= 0, got " + snapshotCatchupEntries);
        java.util.Objects.requireNonNull(snapshotLimits, "snapshotLimits");
        java.util.Objects.requireNonNull(raftLogOptions, "raftLogOptions");
        java.util.Objects.requireNonNull(identity, "identity");
        initialCluster = Collections.unmodifiableMap(new LinkedHashMap<>(initialCluster));
        advertiseClientUrls = List.copyOf(advertiseClientUrls);
        require(initialCluster.containsKey(name), "--initial-cluster must contain this member's name '" + name + "'");
        require(initialClusterState.equals("new") || initialClusterState.equals("existing"),
                "--initial-cluster-state must be 'new' or 'existing', got '" + initialClusterState + "'");
        require(tickMillis >= 1 && electionTicks > heartbeatTicks && heartbeatTicks >= 1, "bad tick settings");
        require(requestTimeoutMillis >= 1 && requestBytesMax >= 1024 && retryBackoffMillis >= 1 && requestsInFlightMax >= 1,
                "bad request limits");
        var ids = new java.util.HashSet<Long>();
        for (String n : initialCluster.keySet()) require(ids.add(memberId(n)), "member id collision for name '" + n + "'");
        address(clientUrl);
        address(peerUrl);
        java.util.Objects.requireNonNull(security, "security");
        require(!isHttps(clientUrl) || security.client().serves(),
                "TLS key/cert (--cert-file, --key-file) must be provided for client url " + clientUrl + " with HTTPS scheme");
        require(!isHttps(peerUrl) || security.peer().serves(),
                "TLS key/cert (--peer-cert-file, --peer-key-file) must be provided for peer url " + peerUrl + " with HTTPS scheme");
        require(initialCluster.values().stream().map(ServerConfig::isHttps).distinct().count() == 1,
                "--initial-cluster mixes http:// and https:// peer URLs: " + initialCluster);
        int socketPort = limits.engine().transport().socketPort();
        require(socketPort == 0 || !isHttps(peerUrl) && !isHttps(initialCluster.values().iterator().next()),
                "--synod-peer-socket-port needs plaintext peers (http:// peer URLs): a socket link is not encrypted");
        require(socketPort == 0 || socketPort != address(peerUrl).getPort() && socketPort != address(clientUrl).getPort()
                && ops.metricsUrl().map(u -> address(u).getPort() != socketPort).orElse(true),
                "--synod-peer-socket-port " + socketPort + " is already the peer, client or metrics URL's port");
    }

    /** True for an {@code https://} URL, which is served (or reached) with TLS. */
    public static boolean isHttps(URI url) {
        return "https".equals(url.getScheme());
    }

    /** True when the other members are reached with TLS (their peer URLs are {@code https://}). */
    public boolean peersUseTls() {
        return isHttps(initialCluster.values().iterator().next());
    }

    private static void require(boolean ok, String message) {
        if (!ok) throw new IllegalArgumentException(message);
    }

    /** A member's id: 64-bit FNV-1a of its name, kept positive and non-zero (Raft reserves 0 for "none"). */
    public static long memberId(String name) {
        long h = 0xcbf29ce484222325L;
        for (byte b : name.getBytes(StandardCharsets.UTF_8)) {
            h ^= b & 0xff;
            h *= 0x100000001b3L;
        }
        h &= Long.MAX_VALUE;
        return h == 0 ? 1 : h;
    }

    /** This member's Raft id: the settled identity's, else derived from {@code --name}. */
    public long memberId() {
        return identity.map(Identity::memberId).orElseGet(() -> memberId(name));
    }

    /** This configuration with its identity settled (done once at start, before anything uses the ids). */
    public ServerConfig withIdentity(Identity id) {
        return new ServerConfig(name, dataDir, clientUrl, advertiseClientUrls, peerUrl, initialCluster, initialClusterState, tickMillis,
                electionTicks, heartbeatTicks, requestTimeoutMillis, requestBytesMax, retryBackoffMillis, requestsInFlightMax, snapshotCount,
                snapshotCatchupEntries, snapshotLimits, raftLogOptions, ops, limits, java.util.Optional.of(id), security);
    }

    /** This configuration with another {@code --initial-cluster-state} (tests start extra members with "existing"). */
    public ServerConfig withInitialClusterState(String state) {
        return new ServerConfig(name, dataDir, clientUrl, advertiseClientUrls, peerUrl, initialCluster, state, tickMillis,
                electionTicks, heartbeatTicks, requestTimeoutMillis, requestBytesMax, retryBackoffMillis, requestsInFlightMax, snapshotCount,
                snapshotCatchupEntries, snapshotLimits, raftLogOptions, ops, limits, identity, security);
    }

    /** When the log is compacted, for the replica. */
    public SnapshotPolicy snapshotPolicy() {
        return new SnapshotPolicy(snapshotCount, snapshotCatchupEntries);
    }

    /** This configuration with other snapshot and log settings (tests use small ones). */
    public ServerConfig withSnapshots(long count, long catchupEntries, SnapshotLimits limits, RaftLogOptions logOptions) {
        return new ServerConfig(name, dataDir, clientUrl, advertiseClientUrls, peerUrl, initialCluster, initialClusterState, tickMillis,
                electionTicks, heartbeatTicks, requestTimeoutMillis, requestBytesMax, retryBackoffMillis, requestsInFlightMax, count,
                catchupEntries, limits, logOptions, ops, this.limits, identity, security);
    }

    /**
     * The cluster's id: the settled identity's, else what every founding member derives from the
     * founding membership (names and peer URLs, in name order).
     */
    public long clusterId() {
        if (identity.isPresent()) return identity.get().clusterId();
        return derivedClusterId();
    }

    /** The cluster id a founding member derives from {@code --initial-cluster}. */
    public long derivedClusterId() {
        var sb = new StringBuilder();
        new java.util.TreeMap<>(initialCluster).forEach((n, u) -> sb.append(n).append('=').append(u).append(','));
        return memberId(sb.toString());
    }

    /** Peer address of every other member, by member id. */
    public Map<Long, InetSocketAddress> peerAddresses() {
        var m = new LinkedHashMap<Long, InetSocketAddress>();
        initialCluster.forEach((n, u) -> {
            if (!n.equals(name)) m.put(memberId(n), address(u));
        });
        return m;
    }

    public static InetSocketAddress address(URI url) {
        if (url.getHost() == null || url.getPort() < 0) throw new IllegalArgumentException("URL needs host and port: " + url);
        if (url.getScheme() != null && !url.getScheme().equals("http") && !url.getScheme().equals("https")) {
            throw new IllegalArgumentException("only http:// and https:// URLs are supported: " + url);
        }
        return new InetSocketAddress(url.getHost(), url.getPort());
    }

    /**
     * Parses etcd-style flags ({@code --flag value} or {@code --flag=value}).
     *
     * @throws IllegalArgumentException naming the flag that is missing, unknown or malformed
     */
    public static ServerConfig fromArgs(String[] args) {
        var flags = new LinkedHashMap<String, String>();
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            require(a.startsWith("--"), "unexpected argument '" + a + "'");
            int eq = a.indexOf('=');
            if (eq > 0) {
                flags.put(a.substring(2, eq), a.substring(eq + 1));
            } else if (BOOLEAN_FLAGS.contains(a.substring(2)) && (i + 1 == args.length || args[i + 1].startsWith("--"))) {
                flags.put(a.substring(2), "true"); // etcd's boolean flags stand alone
            } else {
                require(i + 1 < args.length, "flag " + a + " needs a value");
                flags.put(a.substring(2), args[++i]);
            }
        }
        if (flags.containsKey("config-file")) {
            // As in etcd, the file replaces the command line; etcd silently ignores other flags, Synod refuses them.
            require(flags.size() == 1, "--config-file cannot be combined with other flags (got " + flags.keySet() + ")");
            Path file = Path.of(flags.get("config-file"));
            flags = new LinkedHashMap<>(ConfigFile.read(file));
            for (String f : flags.keySet()) require(known(f), "unknown setting '" + f + "' in " + file);
        }
        timeoutsFromEtcdFlags(flags);
        String name = flags.getOrDefault("name", "default");
        String clientUrls = flags.getOrDefault("listen-client-urls", "http://127.0.0.1:2379");
        String peerUrls = flags.getOrDefault("listen-peer-urls", "http://127.0.0.1:2380");
        String advertisePeer = flags.getOrDefault("initial-advertise-peer-urls", firstUrl(peerUrls).toString());
        var cfg = new ServerConfig(
                name,
                Path.of(flags.getOrDefault("data-dir", name + ".synod")),
                firstUrl(clientUrls),
                List.of(flags.getOrDefault("advertise-client-urls", clientUrls).split(",")),
                firstUrl(peerUrls),
                parseCluster(flags.getOrDefault("initial-cluster", name + "=" + firstUrl(advertisePeer))),
                flags.getOrDefault("initial-cluster-state", "new"),
                Long.parseLong(flags.getOrDefault("synod-tick-ms", Long.toString(DEFAULT_TICK_MILLIS))),
                Integer.parseInt(flags.getOrDefault("synod-election-ticks", Integer.toString(DEFAULT_ELECTION_TICKS))),
                Integer.parseInt(flags.getOrDefault("synod-heartbeat-ticks", Integer.toString(DEFAULT_HEARTBEAT_TICKS))),
                Long.parseLong(flags.getOrDefault("synod-request-timeout-ms", Long.toString(DEFAULT_REQUEST_TIMEOUT_MILLIS))),
                Integer.parseInt(flags.getOrDefault("max-request-bytes", Integer.toString(DEFAULT_REQUEST_BYTES_MAX))),
                DEFAULT_RETRY_BACKOFF_MILLIS,
                Integer.parseInt(flags.getOrDefault("synod-requests-in-flight-max", Integer.toString(DEFAULT_REQUESTS_IN_FLIGHT_MAX))),
                Long.parseLong(flags.getOrDefault("snapshot-count", Long.toString(SnapshotPolicy.DEFAULT_SNAPSHOT_COUNT))),
                Long.parseLong(flags.getOrDefault("snapshot-catchup-entries", Long.toString(SnapshotPolicy.DEFAULT_CATCHUP_ENTRIES))),
                SnapshotLimits.DEFAULTS
                        .withChunkBytes(Integer.parseInt(flags.getOrDefault("synod-snapshot-chunk-bytes",
                                Integer.toString(SnapshotLimits.DEFAULT_CHUNK_BYTES))))
                        .withSendsMax(Integer.parseInt(flags.getOrDefault("synod-snapshot-sends-max",
                                Integer.toString(SnapshotLimits.DEFAULT_SENDS_MAX)))),
                raftLogFromFlags(flags),
                opsFromFlags(flags),
                limitsFromFlags(flags),
                java.util.Optional.empty(),
                securityFromFlags(flags));
        for (String f : flags.keySet()) require(known(f), "unknown flag --" + f);
        return cfg;
    }

    private static final List<String> KNOWN_FLAGS = List.of("name", "data-dir", "listen-client-urls", "advertise-client-urls",
            "listen-peer-urls", "initial-advertise-peer-urls", "initial-cluster", "initial-cluster-state", "initial-cluster-token",
            "synod-tick-ms", "synod-election-ticks", "synod-heartbeat-ticks", "synod-request-timeout-ms", "max-request-bytes",
            "synod-requests-in-flight-max", "snapshot-count", "snapshot-catchup-entries", "synod-snapshot-chunk-bytes",
            "synod-snapshot-sends-max", "listen-metrics-urls", "synod-ops-threads", "synod-ops-queue-max",
            "synod-ops-backlog", "synod-health-timeout-ms", "synod-member-query-timeout-ms", "quota-backend-bytes",
            "synod-lease-check-interval-ms", "synod-lease-expiries-per-check", "synod-lease-checkpoint-interval-ms",
            "synod-lease-checkpoint-batch", "heartbeat-interval", "election-timeout", "synod-waiters-max", "synod-snapshot-downloads-max",
            "synod-corrupt-check-interval-ms", "cert-file", "key-file", "trusted-ca-file", "client-cert-auth", "peer-cert-file",
            "peer-key-file", "peer-trusted-ca-file", "peer-client-cert-auth", "auth-token", "synod-auth-token-ttl-ms",
            "synod-auth-tokens-max", "synod-auth-pbkdf2-iterations", "synod-unsafe-power-cut-emulation", "synod-tls-reload-interval-ms");

    /** A flag this parser knows: one of {@link #KNOWN_FLAGS}, a client limit ({@link ClientLimits#FLAGS}) or an engine limit ({@link EngineLimits#FLAGS}). */
    private static boolean known(String flag) {
        return KNOWN_FLAGS.contains(flag) || ClientLimits.FLAGS.contains(flag) || EngineLimits.FLAGS.contains(flag);
    }

    private static final List<String> BOOLEAN_FLAGS = List.of("client-cert-auth", "peer-client-cert-auth", "synod-unsafe-power-cut-emulation");

    /**
     * The Raft log's options; test-only {@code --synod-unsafe-power-cut-emulation} ({@code true} or the broken
     * {@code ack-before-fsync}) makes a SIGKILL lose unflushed WAL writes as a power cut would
     * ({@link io.synod.storage.wal.PowerCutEmulation}). Never for production.
     */
    private static RaftLogOptions raftLogFromFlags(Map<String, String> flags) {
        var mode = io.synod.storage.wal.PowerCutEmulation.parse(flags.getOrDefault("synod-unsafe-power-cut-emulation", "false"));
        return new RaftLogOptions(RaftLogOptions.DEFAULTS.wal().withPowerCut(mode), RaftLogOptions.DEFAULTS.entryCacheBytesMax());
    }

    /**
     * etcd's TLS flags for both listeners, {@code --auth-token} ({@code simple}, or {@code jwt,...}
     * whose keys are read here so a bad one stops the member before it starts), the simple token
     * bounds and the certificate reload interval.
     */
    private static io.synod.server.security.SecurityConfig securityFromFlags(Map<String, String> flags) {
        var token = io.synod.server.security.AuthTokenSpec.parse(flags.getOrDefault("auth-token", "simple"));
        if (token instanceof io.synod.server.security.AuthTokenSpec.Jwt jwt) {
            io.synod.server.auth.JwtTokens.load(jwt, System::currentTimeMillis); // only to check the keys now
        }
        long reload = Long.parseLong(flags.getOrDefault("synod-tls-reload-interval-ms",
                Long.toString(io.synod.server.security.SecurityConfig.DEFAULT_TLS_RELOAD_INTERVAL_MILLIS)));
        require(reload >= 0, "--synod-tls-reload-interval-ms must not be negative, got " + reload);
        return new io.synod.server.security.SecurityConfig(tlsFromFlags(flags, ""), tlsFromFlags(flags, "peer-"),
                Long.parseLong(flags.getOrDefault("synod-auth-token-ttl-ms",
                        Long.toString(io.synod.server.security.SecurityConfig.DEFAULT_AUTH_TOKEN_TTL_MILLIS))),
                Integer.parseInt(flags.getOrDefault("synod-auth-tokens-max",
                        Integer.toString(io.synod.server.security.SecurityConfig.DEFAULT_AUTH_TOKENS_MAX))),
                Integer.parseInt(flags.getOrDefault("synod-auth-pbkdf2-iterations",
                        Integer.toString(io.synod.server.security.SecurityConfig.DEFAULT_PASSWORD_HASH_ITERATIONS))),
                token, reload);
    }

    private static io.synod.server.security.TlsFiles tlsFromFlags(Map<String, String> flags, String prefix) {
        java.util.function.Function<String, java.util.Optional<Path>> file = f -> java.util.Optional.ofNullable(flags.get(prefix + f))
                .filter(v -> !v.isBlank()).map(Path::of);
        String auth = flags.getOrDefault(prefix + "client-cert-auth", "false");
        require(auth.equals("true") || auth.equals("false"), "--" + prefix + "client-cert-auth must be true or false, got '" + auth + "'");
        return new io.synod.server.security.TlsFiles(file.apply("cert-file"), file.apply("key-file"), file.apply("trusted-ca-file"),
                Boolean.parseBoolean(auth));
    }

    /**
     * etcd's {@code --heartbeat-interval} and {@code --election-timeout} (milliseconds) become the
     * tick length (one heartbeat) and the election timeout in ticks, with etcd's rule that the
     * election timeout is at least five heartbeats. They cannot be mixed with the tick flags.
     */
    private static void timeoutsFromEtcdFlags(Map<String, String> flags) {
        String hb = flags.remove("heartbeat-interval");
        String el = flags.remove("election-timeout");
        if (hb == null && el == null) return;
        require(!flags.containsKey("synod-tick-ms") && !flags.containsKey("synod-election-ticks") && !flags.containsKey("synod-heartbeat-ticks"),
                "--heartbeat-interval/--election-timeout cannot be combined with --synod-tick-ms/--synod-election-ticks/--synod-heartbeat-ticks");
        long heartbeat = Long.parseLong(hb == null ? Long.toString(DEFAULT_TICK_MILLIS) : hb);
        long election = Long.parseLong(el == null ? Long.toString(DEFAULT_TICK_MILLIS * DEFAULT_ELECTION_TICKS) : el);
        require(heartbeat >= 1, "--heartbeat-interval must be positive, got " + heartbeat);
        require(5 * heartbeat <= election, "--election-timeout[" + election + "ms] should be at least as 5 times as --heartbeat-interval["
                + heartbeat + "ms]");
        require(election <= 50_000, "--election-timeout[" + election + "ms] is too long, and should be set less than 50 seconds");
        flags.put("synod-tick-ms", Long.toString(heartbeat));
        flags.put("synod-heartbeat-ticks", "1");
        flags.put("synod-election-ticks", Long.toString(election / heartbeat));
    }

    /** Quota, lease, client and engine limit flags; a quota of 0 means etcd's default, as in etcd. */
    private static ServerLimits limitsFromFlags(Map<String, String> flags) {
        long quota = Long.parseLong(flags.getOrDefault("quota-backend-bytes", "0"));
        require(quota >= 0, "--quota-backend-bytes must not be negative, got " + quota);
        var lease = new LeaseOptions(
                Long.parseLong(flags.getOrDefault("synod-lease-check-interval-ms", Long.toString(LeaseOptions.DEFAULTS.checkIntervalMillis()))),
                Integer.parseInt(flags.getOrDefault("synod-lease-expiries-per-check",
                        Integer.toString(LeaseOptions.DEFAULTS.expiriesPerCheckMax()))),
                Long.parseLong(flags.getOrDefault("synod-lease-checkpoint-interval-ms",
                        Long.toString(LeaseOptions.DEFAULTS.checkpointIntervalMillis()))),
                Integer.parseInt(flags.getOrDefault("synod-lease-checkpoint-batch", Integer.toString(LeaseOptions.DEFAULTS.checkpointBatchMax()))));
        require(lease.checkpointBatchMax() <= io.synod.mvcc.CommandCodec.Limits.defaults().maxOps(),
                "--synod-lease-checkpoint-batch must be at most " + io.synod.mvcc.CommandCodec.Limits.defaults().maxOps());
        return new ServerLimits(quota == 0 ? ServerLimits.DEFAULT_QUOTA_BACKEND_BYTES : quota, lease,
                Integer.parseInt(flags.getOrDefault("synod-waiters-max", Integer.toString(ServerLimits.DEFAULTS.waitersMax()))),
                Integer.parseInt(flags.getOrDefault("synod-snapshot-downloads-max", Integer.toString(ServerLimits.DEFAULTS.snapshotDownloadsMax()))),
                Long.parseLong(flags.getOrDefault("synod-corrupt-check-interval-ms", "0")),
                ClientLimits.fromFlags(flags),
                EngineLimits.fromFlags(flags, io.synod.raft.RaftConfig.builder(1).build().appendBytesMax(),
                        Long.parseLong(flags.getOrDefault("max-request-bytes", Long.toString(DEFAULT_REQUEST_BYTES_MAX)))));
    }

    /** The operations flags; etcd's {@code --listen-metrics-urls} may list several, only the first is served. */
    private static OpsConfig opsFromFlags(Map<String, String> flags) {
        String metrics = flags.getOrDefault("listen-metrics-urls", "").trim();
        return new OpsConfig(
                metrics.isEmpty() ? java.util.Optional.empty() : java.util.Optional.of(firstUrl(metrics)),
                Integer.parseInt(flags.getOrDefault("synod-ops-threads", Integer.toString(OpsConfig.DEFAULT_HTTP_THREADS))),
                Integer.parseInt(flags.getOrDefault("synod-ops-queue-max", Integer.toString(OpsConfig.DEFAULT_HTTP_QUEUE_MAX))),
                Integer.parseInt(flags.getOrDefault("synod-ops-backlog", Integer.toString(OpsConfig.DEFAULT_HTTP_BACKLOG))),
                Long.parseLong(flags.getOrDefault("synod-health-timeout-ms", Long.toString(OpsConfig.DEFAULT_HEALTH_TIMEOUT_MILLIS))),
                Long.parseLong(flags.getOrDefault("synod-member-query-timeout-ms",
                        Long.toString(OpsConfig.DEFAULT_MEMBER_QUERY_TIMEOUT_MILLIS))));
    }

    private static URI firstUrl(String urls) {
        return URI.create(urls.split(",")[0].trim());
    }

    /** {@code name=url,name=url,...}; a name may appear once. */
    public static Map<String, URI> parseCluster(String spec) {
        var m = new LinkedHashMap<String, URI>();
        for (String part : spec.split(",")) {
            int eq = part.indexOf('=');
            require(eq > 0, "--initial-cluster entry '" + part + "' is not name=url");
            String n = part.substring(0, eq).trim();
            require(m.put(n, URI.create(part.substring(eq + 1).trim())) == null, "--initial-cluster names '" + n + "' twice");
        }
        return m;
    }

    /** The other members' names. */
    public List<String> peerNames() {
        var l = new ArrayList<>(initialCluster.keySet());
        l.remove(name);
        return l;
    }
}
