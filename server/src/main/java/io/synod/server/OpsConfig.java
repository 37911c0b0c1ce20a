package io.synod.server;

import java.net.URI;
import java.util.Optional;

/**
 * The operations side of a member, validated once: where the HTTP endpoint for {@code /metrics},
 * {@code /health}, {@code /livez} and {@code /readyz} listens (etcd's {@code --listen-metrics-urls};
 * absent means no endpoint, see docs/configuration.md for why there is no derived default) and
 * every bound of it, plus the time limits of the operator calls (health probes, asking peers for
 * their client URLs in MemberList).
 *
 * @param metricsUrl              the operations endpoint, {@code http://host:port}; empty: none
 * @param httpThreads             threads serving operations requests
 * @param httpQueueMax            requests queued for those threads; beyond it the accepting thread
 *                                serves the request itself, so further connections wait in the
 *                                listen backlog (back-pressure instead of unbounded queueing)
 * @param httpBacklog             the listen socket's backlog of connections not yet accepted
 * @param healthTimeoutMillis     longest a health or readiness probe waits for its linearizable read
 * @param memberQueryTimeoutMillis longest MemberList waits for a peer to report its client URLs
 */
public record OpsConfig(
        Optional<URI> metricsUrl,
        int httpThreads,
        int httpQueueMax,
        int httpBacklog,
        long healthTimeoutMillis,
        long memberQueryTimeoutMillis) {

    public static final int DEFAULT_HTTP_THREADS = 2;
    public static final int DEFAULT_HTTP_QUEUE_MAX = 64;
    public static final int DEFAULT_HTTP_BACKLOG = 64;
    public static final long DEFAULT_HEALTH_TIMEOUT_MILLIS = 2000;
    public static final long DEFAULT_MEMBER_QUERY_TIMEOUT_MILLIS = 1000;

    /** No operations endpoint, default limits. */
    public static final OpsConfig DEFAULTS = new OpsConfig(Optional.empty(), DEFAULT_HTTP_THREADS, DEFAULT_HTTP_QUEUE_MAX,
            DEFAULT_HTTP_BACKLOG, DEFAULT_HEALTH_TIMEOUT_MILLIS, DEFAULT_MEMBER_QUERY_TIMEOUT_MILLIS);

    public OpsConfig {
        metricsUrl.ifPresent(ServerConfig::address); // host and port
        // ServerConfig.address also takes https:// (for the gRPC listeners); this endpoint is plain HTTP only.
        if (metricsUrl.isPresent() && ServerConfig.isHttps(metricsUrl.get())) {
            throw new IllegalArgumentException("only http:// is served for --listen-metrics-urls: " + metricsUrl.get());
        }
        if (httpThreads < 1 || httpQueueMax < 1 || httpBacklog < 1 || healthTimeoutMillis < 1 || memberQueryTimeoutMillis < 1) {
            throw new IllegalArgumentException("operations limits must be >= 1: threads " + httpThreads + ", queue " + httpQueueMax
                    + ", backlog " + httpBacklog + ", health timeout " + healthTimeoutMillis + " ms, member query timeout "
                    + memberQueryTimeoutMillis + " ms");
        }
    }

    public OpsConfig withMetricsUrl(URI url) {
        return new OpsConfig(Optional.of(url), httpThreads, httpQueueMax, httpBacklog, healthTimeoutMillis, memberQueryTimeoutMillis);
    }
}
