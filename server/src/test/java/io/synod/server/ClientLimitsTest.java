package io.synod.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** The client limit flags: etcd's {@code --max-concurrent-streams} and Synod's own, their defaults and their refusals. */
class ClientLimitsTest {
    static final String CLUSTER = "a=http://127.0.0.1:21380";

    private static ClientLimits parse(String... flags) {
        var args = new java.util.ArrayList<>(java.util.List.of("--name=a", "--initial-cluster=" + CLUSTER));
        args.addAll(java.util.List.of(flags));
        return ServerConfig.fromArgs(args.toArray(String[]::new)).limits().clients();
    }

    @Test
    void defaultsWithoutFlags() {
        assertThat(parse()).isEqualTo(ClientLimits.DEFAULTS);
        assertThat(ServerLimits.DEFAULTS.clients()).isEqualTo(ClientLimits.DEFAULTS);
    }

    @Test
    void everyFlagSetsItsLimit() {
        var l = parse("--max-concurrent-streams=7", "--synod-watchers-max=11", "--synod-watchers-per-stream-max", "5",
                "--synod-watch-queued-bytes-max=65536", "--synod-leases-max=13", "--synod-expensive-requests-max=3", "--synod-expensive-requests-queue-max=0",
                "--synod-range-response-bytes-max=1048576");
        assertThat(l).isEqualTo(new ClientLimits(7, 11, 5, 65536, 13, 3, 0, 1 << 20));
    }

    @Test
    void etcdsUnlimitedStreamCountIsClampedToWhatGrpcJavaTakes() {
        assertThat(parse("--max-concurrent-streams=4294967295").maxConcurrentStreams()).isEqualTo(Integer.MAX_VALUE);
        assertThatThrownBy(() -> parse("--max-concurrent-streams=4294967296")).hasMessageContaining("[1, 4294967295]");
        assertThatThrownBy(() -> parse("--max-concurrent-streams=0")).hasMessageContaining("--max-concurrent-streams");
    }

    @Test
    void refusesLimitsThatWouldLetNothingThrough() {
        assertThatThrownBy(() -> parse("--synod-watchers-max=0")).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("--synod-watchers-max must be positive, got 0");
        assertThatThrownBy(() -> parse("--synod-leases-max=-1")).hasMessage("--synod-leases-max must be positive, got -1");
        assertThatThrownBy(() -> parse("--synod-expensive-requests-max=0")).hasMessageContaining("--synod-expensive-requests-max");
        assertThatThrownBy(() -> parse("--synod-expensive-requests-queue-max=-1")).hasMessageContaining("must not be negative");
        assertThatThrownBy(() -> parse("--synod-range-response-bytes-max=-5")).hasMessageContaining("--synod-range-response-bytes-max");
    }

    @Test
    void theConfigFileTakesTheSameKeys() throws Exception {
        var file = java.nio.file.Files.createTempFile("synod-limits", ".yaml");
        try {
            java.nio.file.Files.writeString(file, "name: a\ninitial-cluster: " + CLUSTER + "\nmax-concurrent-streams: 9\nsynod-leases-max: 4\n");
            var l = ServerConfig.fromArgs(new String[] {"--config-file=" + file}).limits().clients();
            assertThat(l.maxConcurrentStreams()).isEqualTo(9);
            assertThat(l.leasesMax()).isEqualTo(4);
        } finally {
            java.nio.file.Files.deleteIfExists(file);
        }
    }
}
