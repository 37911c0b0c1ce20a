package io.synod.server;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The operations HTTP endpoint of one member ({@code --listen-metrics-urls}), on the JDK's own
 * HTTP server so the process needs no second server stack: {@code GET /metrics} (Prometheus text
 * format), {@code /health} (etcd's JSON probe), {@code /livez} and {@code /readyz} (etcd's plain
 * probes: {@code ok}, or HTTP 503 with one {@code [+]/[-]} line per check; {@code ?verbose} lists
 * the checks on success too). It serves on a small fixed pool with a bounded queue; when both are
 * full the accepting thread serves the request itself, which stops it accepting, so excess
 * connections wait in the listen backlog instead of piling up in memory.
 */
final class OpsServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(OpsServer.class);
    /** How long {@link #close()} lets requests in progress finish. */
    private static final int STOP_DELAY_SECONDS = 1;

    private final HttpServer server;
    private final ThreadPoolExecutor executor;

    private OpsServer(HttpServer server, ThreadPoolExecutor executor) {
        this.server = server;
        this.executor = executor;
    }

    /** Starts listening on the configured operations URL. */
    static OpsServer start(ServerConfig config, ServerMetrics metrics, MemberHealth health) throws IOException {
        OpsConfig ops = config.ops();
        InetSocketAddress address = ServerConfig.address(ops.metricsUrl().orElseThrow());
        HttpServer server;
        try {
            server = HttpServer.create(address, ops.httpBacklog());
        } catch (IOException e) {
            throw new IOException("cannot listen on metrics URL " + ops.metricsUrl().get() + ": " + e.getMessage(), e);
        }
        var executor = new ThreadPoolExecutor(ops.httpThreads(), ops.httpThreads(), 0, TimeUnit.MILLISECONDS,
                new ArrayBlockingQueue<>(ops.httpQueueMax()), MemberMdc.threadFactory(config.name(), "synod-ops-" + config.name()),
                new ThreadPoolExecutor.CallerRunsPolicy());
        server.setExecutor(executor);
        server.createContext("/metrics", get(ex -> send(ex, 200, "text/plain; version=0.0.4; charset=utf-8", metrics.scrape())));
        server.createContext("/health", get(ex -> health(ex, health, metrics)));
        server.createContext("/livez", get(ex -> probe(ex, "livez", health.livenessChecks())));
        server.createContext("/readyz", get(ex -> probe(ex, "readyz", health.readinessChecks())));
        server.start();
        log.info("serving /metrics, /health, /livez, /readyz on {}", ops.metricsUrl().get());
        return new OpsServer(server, executor);
    }

    /** The port actually bound (useful when the URL asked for port 0). */
    int port() {
        return server.getAddress().getPort();
    }

    private interface Handler {
        void handle(HttpExchange exchange) throws IOException;
    }

    /** Only GET (and HEAD, answered like GET) are served; exact paths only. */
    private static HttpHandler get(Handler handler) {
        return ex -> {
            try (ex) {
                String method = ex.getRequestMethod();
                if (!method.equals("GET") && !method.equals("HEAD")) {
                    ex.getResponseHeaders().set("Allow", "GET, HEAD");
                    send(ex, 405, "text/plain; charset=utf-8", "method not allowed\n");
                } else if (!ex.getRequestURI().getPath().equals(ex.getHttpContext().getPath())) {
                    send(ex, 404, "text/plain; charset=utf-8", "not found\n");
                } else {
                    handler.handle(ex);
                }
            } catch (IOException | RuntimeException e) {
                log.debug("operations request {} failed", ex.getRequestURI(), e);
            }
        };
    }

    private static void health(HttpExchange ex, MemberHealth health, ServerMetrics metrics) throws IOException {
        boolean serializable = "true".equals(queryParam(ex, "serializable").orElse(""));
        Optional<String> failure = health.health(serializable);
        metrics.healthChecked(failure.isEmpty());
        if (failure.isEmpty()) {
            send(ex, 200, "application/json", "{\"health\":\"true\"}");
        } else {
            log.warn("/health is false: {}", failure.get());
            send(ex, 503, "application/json", "{\"health\":\"false\",\"reason\":\"" + jsonEscape(failure.get()) + "\"}");
        }
    }

    private static void probe(HttpExchange ex, String name, Map<String, MemberHealth.Check> checks) throws IOException {
        var report = new ArrayList<String>();
        Map<String, String> failed = MemberHealth.run(checks, report);
        if (!failed.isEmpty()) {
            log.warn("/{} failed: {}", name, MemberHealth.describe(failed));
            send(ex, 503, "text/plain; charset=utf-8", lines(report) + name + " check failed\n");
        } else if (queryParam(ex, "verbose").isPresent()) {
            send(ex, 200, "text/plain; charset=utf-8", lines(report) + "ok\n");
        } else {
            send(ex, 200, "text/plain; charset=utf-8", "ok\n");
        }
    }

    private static String lines(List<String> report) {
        return String.join("\n", report) + "\n";
    }

    private static Optional<String> queryParam(HttpExchange ex, String name) {
        String q = ex.getRequestURI().getRawQuery();
        if (q == null) return Optional.empty();
        for (String kv : q.split("&")) {
            int eq = kv.indexOf('=');
            String k = eq < 0 ? kv : kv.substring(0, eq);
            if (k.equals(name)) return Optional.of(eq < 0 ? "" : kv.substring(eq + 1));
        }
        return Optional.empty();
    }

    static String jsonEscape(String s) {
        var sb = new StringBuilder(s.length());
        for (char c : s.toCharArray()) {
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                default -> {
                    if (c < 0x20) sb.append(String.format("\\u%04x", (int) c));
                    else sb.append(c);
                }
            }
        }
        return sb.toString();
    }

    private static void send(HttpExchange ex, int status, String contentType, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", contentType);
        boolean head = ex.getRequestMethod().equals("HEAD");
        ex.sendResponseHeaders(status, head ? -1 : bytes.length);
        if (!head) ex.getResponseBody().write(bytes);
    }

    @Override
    public void close() {
        server.stop(STOP_DELAY_SECONDS);
        executor.shutdownNow();
    }
}
