package io.synod.server;

import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import io.synod.mvcc.MvccStore;
import io.synod.replica.ReplicaDriver;
import io.synod.server.transport.PeerTransport;
import java.io.IOException;
import java.util.Optional;
import java.util.function.BooleanSupplier;

/**
 * Everything one member offers operators, built in one place so {@link SynodServer} wires it
 * with a few lines: the metrics (created before the driver, whose disk paths they time), the
 * alarm list, the Maintenance gRPC service (served on both listeners, like KV; the Cluster service
 * is built with the proposer by {@link SynodServer}), and
 * the operations HTTP endpoint when {@code --listen-metrics-urls} is set. Closing it stops the
 * HTTP endpoint; the gRPC services stop with their servers.
 */
final class MemberOps implements AutoCloseable {
    private final ServerConfig config;
    private final ServerMetrics metrics;
    private Alarms alarms;
    private Optional<ServerServiceDefinition> maintenance = Optional.empty();
    private Optional<OpsServer> http = Optional.empty();

    MemberOps(ServerConfig config) {
        this.config = config;
        this.metrics = new ServerMetrics(config.name());
    }

    ServerMetrics metrics() {
        return metrics;
    }

    Alarms alarms() {
        return alarms;
    }

    /**
     * Binds the metrics to the running member, builds the gRPC services and starts the HTTP
     * endpoint if one is configured. {@code loopRunning} tells whether the Raft loop's thread runs.
     *
     * @throws IOException if the operations URL cannot be bound
     */
    void start(KvService kv, ReplicaDriver driver, StoreHolder store, PeerTransport transport, Alarms alarms, BooleanSupplier loopRunning)
            throws IOException {
        this.alarms = alarms;
        metrics.bind(driver, store);
        var mdc = MemberMdc.interceptor(config.name(), driver::term);
        // Alarm changes are forwarded to the leader as Alarm requests; the marker keeps them from bouncing.
        maintenance = Optional.of(ServerInterceptors.intercept(new MaintenanceService(config, kv, driver, store, alarms), mdc,
                Proposer.forwardedInterceptor()));
        if (config.ops().metricsUrl().isPresent()) {
            http = Optional.of(OpsServer.start(config, metrics, new MemberHealth(config, driver, store, alarms, loopRunning)));
        }
    }

    /** etcd's Maintenance service; available after {@link #start}. */
    ServerServiceDefinition maintenance() {
        return maintenance.orElseThrow(() -> new IllegalStateException("MemberOps not started"));
    }

    /** The operations endpoint's port, if it serves one. */
    Optional<Integer> httpPort() {
        return http.map(OpsServer::port);
    }

    @Override
    public void close() {
        http.ifPresent(OpsServer::close);
    }
}
