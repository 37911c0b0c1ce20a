package io.synod.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.synod.replica.ReplicaLimits;
import io.synod.server.transport.TransportLimits;
import org.junit.jupiter.api.Test;

/** The engine limit flags (Raft loop and peer transport): their defaults, each flag's effect and the refusals that name the flag. */
class EngineLimitsTest {
    private static EngineLimits parse(String... flags) {
        var args = new java.util.ArrayList<>(java.util.List.of("--name=a", "--initial-cluster=" + ClientLimitsTest.CLUSTER));
        args.addAll(java.util.List.of(flags));
        return ServerConfig.fromArgs(args.toArray(String[]::new)).limits().engine();
    }

    @Test
    void defaultsWithoutFlags() {
        assertThat(parse()).isEqualTo(EngineLimits.DEFAULTS);
        assertThat(EngineLimits.DEFAULTS.replica()).isEqualTo(ReplicaLimits.DEFAULTS);
        assertThat(EngineLimits.DEFAULTS.transport()).isEqualTo(TransportLimits.DEFAULTS);
    }

    @Test
    void everyFlagSetsItsLimit() {
        var l = parse("--synod-raft-inbox-depth-max=100", "--synod-raft-drain-batch-max=7", "--synod-raft-pending-proposals-max=300",
                "--synod-raft-pending-reads-max=400", "--synod-raft-idle-poll-ms=9", "--synod-apply-batch-max=11", "--synod-apply-batch-bytes-max=65536",
                "--synod-peer-send-queue-depth-max=500", "--synod-peer-batch-messages-max=13", "--synod-peer-frame-bytes-max=8388608",
                "--synod-peer-send-timeout-ms=3000", "--synod-peer-retry-backoff-ms=0", "--synod-peer-io-threads=0", "--synod-peer-socket-port=22999");
        assertThat(l.replica()).isEqualTo(new ReplicaLimits(100, 7, 300, 400, 9, 11, 65536));
        assertThat(l.transport()).isEqualTo(new TransportLimits(500, 13, 8 << 20, 3000, 0, 0, 22999));
    }

    @Test
    void refusalsNameTheFlag() {
        assertThatThrownBy(() -> parse("--synod-raft-inbox-depth-max=0")).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("--synod-raft-inbox-depth-max must be positive, got 0");
        assertThatThrownBy(() -> parse("--synod-apply-batch-max=3000000000")).hasMessageContaining("--synod-apply-batch-max must be at most");
        assertThatThrownBy(() -> parse("--synod-peer-io-threads=-1")).hasMessageContaining("--synod-peer-io-threads must be in [0, 1024]");
        assertThatThrownBy(() -> parse("--synod-peer-retry-backoff-ms=-5")).hasMessage("--synod-peer-retry-backoff-ms must not be negative, got -5");
        assertThatThrownBy(() -> parse("--synod-peer-send-timeout-ms=soon")).hasMessage("--synod-peer-send-timeout-ms must be a whole number, got 'soon'");
        assertThatThrownBy(() -> parse("--synod-peer-socket-port=70000")).hasMessageContaining("--synod-peer-socket-port must be in [0, 65535]");
    }

    @Test
    void aSocketPortNeedsPlaintextPeersAndAPortOfItsOwn(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        // Parsing only checks that the files can be read.
        var cert = java.nio.file.Files.writeString(dir.resolve("peer.pem"), "x");
        var key = java.nio.file.Files.writeString(dir.resolve("peer-key.pem"), "x");
        assertThatThrownBy(() -> parse("--listen-peer-urls=http://127.0.0.1:22380", "--synod-peer-socket-port=22380"))
                .hasMessage("--synod-peer-socket-port 22380 is already the peer, client or metrics URL's port");
        assertThatThrownBy(() -> parse("--listen-metrics-urls=http://127.0.0.1:22381", "--synod-peer-socket-port=22381"))
                .hasMessage("--synod-peer-socket-port 22381 is already the peer, client or metrics URL's port");
        assertThatThrownBy(() -> parse("--listen-peer-urls=https://127.0.0.1:22380", "--initial-cluster=a=https://127.0.0.1:22380",
                "--peer-cert-file=" + cert, "--peer-key-file=" + key,
                "--synod-peer-socket-port=22390"))
                .hasMessage("--synod-peer-socket-port needs plaintext peers (http:// peer URLs): a socket link is not encrypted");
    }

    @Test
    void aPeerFrameMustHoldAnAppendAndTheLargestRequest() {
        long append = io.synod.raft.RaftConfig.builder(1).build().appendBytesMax();
        long least = append + ServerConfig.DEFAULT_REQUEST_BYTES_MAX + EngineLimits.FRAME_SLACK_BYTES;
        assertThat(parse("--synod-peer-frame-bytes-max=" + least).transport().frameBytesMax()).isEqualTo(least);
        assertThatThrownBy(() -> parse("--synod-peer-frame-bytes-max=" + (least - 1))).hasMessageContaining("--synod-peer-frame-bytes-max must hold one append")
                .hasMessageContaining("at least " + least);
        // A larger request limit raises the floor with it.
        assertThatThrownBy(() -> parse("--max-request-bytes=" + (10 << 20), "--synod-peer-frame-bytes-max=" + (8 << 20)))
                .hasMessageContaining("--max-request-bytes");
    }

    @Test
    void theConfigFileTakesTheSameKeys() throws Exception {
        var file = java.nio.file.Files.createTempFile("synod-engine", ".yaml");
        try {
            java.nio.file.Files.writeString(file, "name: a\ninitial-cluster: " + ClientLimitsTest.CLUSTER
                    + "\nsynod-peer-io-threads: 1\nsynod-raft-inbox-depth-max: 2048\n");
            var l = ServerConfig.fromArgs(new String[] {"--config-file=" + file}).limits().engine();
            assertThat(l.transport().ioThreads()).isEqualTo(1);
            assertThat(l.replica().inboxDepthMax()).isEqualTo(2048);
        } finally {
            java.nio.file.Files.deleteIfExists(file);
        }
    }
}
