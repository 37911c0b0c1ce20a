package io.synod.server;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/** A cluster of in-process members on loopback ports below 32768, for tests. */
final class TestCluster implements AutoCloseable {
    static final long TICK_MILLIS = 50;
    final Path dir;
    final List<ServerConfig> configs = new ArrayList<>();
    final SynodServer[] servers;
    /** Members started later with {@code --initial-cluster-state existing} (see {@link #joinerConfig}); closed with the cluster. */
    final List<SynodServer> extras = new ArrayList<>();
    private final java.util.function.UnaryOperator<ServerConfig> tweak;

    TestCluster(Path dir, int size) throws IOException {
        this(dir, size, c -> c, false);
    }

    /** With {@code opsEndpoints}, every member also serves /metrics, /health, /livez, /readyz on a port of its own. */
    TestCluster(Path dir, int size, boolean opsEndpoints) throws IOException {
        this(dir, size, c -> c, opsEndpoints);
    }

    /** A cluster whose member configurations pass through {@code tweak} (e.g. small snapshot settings). */
    TestCluster(Path dir, int size, java.util.function.UnaryOperator<ServerConfig> tweak) throws IOException {
        this(dir, size, tweak, false);
    }

    TestCluster(Path dir, int size, java.util.function.UnaryOperator<ServerConfig> tweak, boolean opsEndpoints) throws IOException {
        this.dir = dir;
        this.tweak = tweak;
        int[] ports = freePorts(4 * size);
        Map<String, URI> cluster = new LinkedHashMap<>();
        for (int i = 0; i < size; i++) cluster.put("m" + (i + 1), URI.create("http://127.0.0.1:" + ports[2 * i + 1]));
        for (int i = 0; i < size; i++) {
            String name = "m" + (i + 1);
            URI client = URI.create("http://127.0.0.1:" + ports[2 * i]);
            OpsConfig ops = opsEndpoints ? OpsConfig.DEFAULTS.withMetricsUrl(URI.create("http://127.0.0.1:" + ports[2 * size + i]))
                    : OpsConfig.DEFAULTS;
            configs.add(withSocketPort(tweak.apply(new ServerConfig(name, dir.resolve(name), client, List.of(client.toString()), cluster.get(name),
                    cluster, "new", TICK_MILLIS, 10, 1, 5000, ServerConfig.DEFAULT_REQUEST_BYTES_MAX, ServerConfig.DEFAULT_RETRY_BACKOFF_MILLIS,
                    ServerConfig.DEFAULT_REQUESTS_IN_FLIGHT_MAX, io.synod.replica.SnapshotPolicy.DEFAULT_SNAPSHOT_COUNT,
                    io.synod.replica.SnapshotPolicy.DEFAULT_CATCHUP_ENTRIES, io.synod.server.transport.SnapshotLimits.DEFAULTS,
                    io.synod.storage.raftlog.RaftLogOptions.DEFAULTS, ops)), ports[3 * size + i]));
        }
        servers = new SynodServer[size];
        for (int i = 0; i < size; i++) start(i);
    }

    void start(int i) throws IOException {
        servers[i] = SynodServer.start(configs.get(i));
    }

    void stop(int i) {
        servers[i].close();
        servers[i] = null;
    }

    /** The operations endpoint of member {@code i} ({@code http://host:port}), if the cluster has them. */
    URI opsUrl(int i) {
        return configs.get(i).ops().metricsUrl().orElseThrow();
    }

    String endpoint(int i) {
        return configs.get(i).clientUrl().toString();
    }

    /** Index of the member every running member agrees leads, waiting up to {@code timeoutMillis}. */
    int awaitLeader(long timeoutMillis) throws InterruptedException {
        long deadline = System.currentTimeMillis() + timeoutMillis;
        while (System.currentTimeMillis() < deadline) {
            long leader = -1;
            boolean agreed = true;
            for (SynodServer s : servers) {
                if (s == null) continue;
                long l = s.driver().leader();
                if (l == 0 || (leader != -1 && l != leader)) agreed = false;
                leader = l;
            }
            if (agreed && leader > 0) {
                for (int i = 0; i < servers.length; i++) if (servers[i] != null && servers[i].memberId() == leader) return i;
            }
            Thread.sleep(20);
        }
        throw new AssertionError("no agreed leader within " + timeoutMillis + " ms");
    }

    @Override
    public void close() {
        for (SynodServer s : extras) s.close();
        for (int i = 0; i < servers.length; i++) if (servers[i] != null) stop(i);
    }

    /**
     * The configuration of a new member {@code name} on fresh ports that joins with
     * {@code --initial-cluster-state existing}, {@code --initial-cluster} being {@code others} plus
     * itself (etcd's procedure: {@code member add}, then start the member with the printed flags).
     */
    ServerConfig joinerConfig(String name, Map<String, URI> others) throws IOException {
        int[] ports = freePorts(3);
        URI client = URI.create("http://127.0.0.1:" + ports[0]);
        URI peer = URI.create("http://127.0.0.1:" + ports[1]);
        var cluster = new LinkedHashMap<>(others);
        cluster.put(name, peer);
        ServerConfig base = configs.get(0);
        return withSocketPort(tweak.apply(new ServerConfig(name, dir.resolve(name), client, List.of(client.toString()), peer, cluster, "existing",
                TICK_MILLIS, 10, 1, 5000, ServerConfig.DEFAULT_REQUEST_BYTES_MAX, ServerConfig.DEFAULT_RETRY_BACKOFF_MILLIS,
                ServerConfig.DEFAULT_REQUESTS_IN_FLIGHT_MAX, base.snapshotCount(), base.snapshotCatchupEntries(), base.snapshotLimits(),
                base.raftLogOptions(), OpsConfig.DEFAULTS)), ports[2]);
    }

    /** The system property that makes test clusters send Raft frames on gRPC streams only ({@code grpc}) instead of socket links. */
    static final String PEER_FRAMES_PROPERTY = "synod.test.peerFrames";

    /**
     * {@code c} with a peer socket listener on {@code port}, as {@code synod cluster start} gives its members, unless its
     * peers use TLS (links are plaintext) or {@value #PEER_FRAMES_PROPERTY} is {@code grpc}.
     */
    static ServerConfig withSocketPort(ServerConfig c, int port) {
        if (c.peersUseTls() || ServerConfig.isHttps(c.peerUrl()) || "grpc".equals(System.getProperty(PEER_FRAMES_PROPERTY))) return c;
        var engine = c.limits().engine();
        return c.withLimits(c.limits().withEngine(new EngineLimits(engine.replica(), engine.transport().withSocketPort(port))));
    }

    /** {@code --initial-cluster} as the founding members were given it. */
    Map<String, URI> initialCluster() {
        return configs.get(0).initialCluster();
    }

    /** Starts an extra member (closed with the cluster). */
    SynodServer startExtra(ServerConfig config) throws IOException {
        SynodServer s = SynodServer.start(config);
        extras.add(s);
        return s;
    }

    /** {@code c} listening for peers on {@code peer} and told {@code cluster} (a member whose peer URL was updated). */
    static ServerConfig withPeer(ServerConfig c, URI peer, Map<String, URI> cluster) {
        return new ServerConfig(c.name(), c.dataDir(), c.clientUrl(), c.advertiseClientUrls(), peer, cluster, c.initialClusterState(),
                c.tickMillis(), c.electionTicks(), c.heartbeatTicks(), c.requestTimeoutMillis(), c.requestBytesMax(), c.retryBackoffMillis(),
                c.requestsInFlightMax(), c.snapshotCount(), c.snapshotCatchupEntries(), c.snapshotLimits(), c.raftLogOptions(), c.ops());
    }

    /** {@code n} distinct ports in [20000, 30000) that are free on 127.0.0.1 right now. */
    static int[] freePorts(int n) throws IOException {
        var random = new SplittableRandom();
        int[] ports = new int[n];
        int found = 0;
        for (int attempt = 0; attempt < 1000 && found < n; attempt++) {
            int p = random.nextInt(20000, 30000);
            boolean dup = false;
            for (int j = 0; j < found; j++) dup |= ports[j] == p;
            if (dup) continue;
            try (var s = new ServerSocket(p, 1, InetAddress.getLoopbackAddress())) {
                ports[found++] = p;
            } catch (IOException busy) {
                // try another
            }
        }
        if (found < n) throw new IOException("could not find " + n + " free ports in [20000, 30000)");
        return ports;
    }
}
