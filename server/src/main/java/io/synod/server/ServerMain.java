package io.synod.server;

/**
 * The process entry point of one member ({@code java io.synod.server.ServerMain --name ... }),
 * used by {@code synod server} and by {@code synod cluster start} for its child processes. It
 * parses etcd-style flags, starts the member, stops it cleanly on SIGTERM, and exits non-zero if
 * the Raft loop dies (a disk failure), so a supervisor restarts it from its durable state.
 */
public final class ServerMain {
    private ServerMain() {}

    /** Netty's leak-detection level property, as relocated in gRPC's shaded Netty. */
    static final String LEAK_DETECTION_PROPERTY = "io.grpc.netty.shaded.io.netty.leakDetection.level";

    public static void main(String[] args) throws Exception {
        quietLeakDetection();
        ServerConfig config;
        try {
            config = ServerConfig.fromArgs(args);
        } catch (IllegalArgumentException e) {
            System.err.println("synod server: " + e.getMessage());
            System.exit(2);
            return;
        }
        System.exit(run(config));
    }

    /**
     * Turns Netty's leak detector off unless the JVM was told otherwise. It records stack traces of
     * sampled buffers, 0.8% of a leader's CPU at one client. Only the member processes' entry points
     * call this (before any Netty class loads); the tests, which run members inside their own JVM,
     * keep the detector.
     */
    public static void quietLeakDetection() {
        if (System.getProperty(LEAK_DETECTION_PROPERTY) == null) System.setProperty(LEAK_DETECTION_PROPERTY, "disabled");
    }

    /** Runs a member until it is stopped; returns the process exit code. */
    public static int run(ServerConfig config) throws Exception {
        org.slf4j.MDC.put(MemberMdc.MEMBER, config.name()); // the start-up lines on this thread too
        SynodServer server = SynodServer.start(config);
        Runtime.getRuntime().addShutdownHook(new Thread(MemberMdc.wrap(config.name(), server::close), "synod-shutdown"));
        server.awaitTermination();
        return server.driver().failure() == null ? 0 : 1;
    }
}
