package io.synod.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class ServerConfigTest {
    static final String CLUSTER = "a=http://127.0.0.1:21380,b=http://127.0.0.1:22380,c=http://127.0.0.1:23380";

    @Test
    void parsesEtcdStyleFlags() {
        var cfg = ServerConfig.fromArgs(new String[] {"--name", "b", "--data-dir=/tmp/x", "--listen-client-urls",
                "http://127.0.0.1:22379,http://127.0.0.1:22390", "--listen-peer-urls=http://127.0.0.1:22380", "--initial-cluster", CLUSTER,
                "--initial-cluster-state", "new", "--synod-tick-ms", "50"});
        assertThat(cfg.name()).isEqualTo("b");
        assertThat(cfg.dataDir()).isEqualTo(Path.of("/tmp/x"));
        assertThat(ServerConfig.address(cfg.clientUrl())).isEqualTo(new InetSocketAddress("127.0.0.1", 22379));
        assertThat(cfg.tickMillis()).isEqualTo(50);
        assertThat(cfg.peerAddresses()).containsOnlyKeys(ServerConfig.memberId("a"), ServerConfig.memberId("c"));
        assertThat(cfg.memberId()).isEqualTo(ServerConfig.memberId("b")).isPositive();
    }

    @Test
    void idsAreDeterministicAndTheClusterIdIsSharedByAllMembers() {
        var a = ServerConfig.fromArgs(new String[] {"--name=a", "--initial-cluster=" + CLUSTER});
        var c = ServerConfig.fromArgs(new String[] {"--name=c", "--initial-cluster=" + CLUSTER});
        assertThat(a.clusterId()).isEqualTo(c.clusterId());
        assertThat(a.memberId()).isNotEqualTo(c.memberId());
        assertThat(ServerConfig.memberId("a")).isEqualTo(ServerConfig.memberId("a"));
    }

    @Test
    void refusesWhatItCannotServe() {
        assertThatThrownBy(() -> ServerConfig.fromArgs(new String[] {"--name=z", "--initial-cluster=" + CLUSTER}))
                .hasMessageContaining("must contain this member's name 'z'");
        assertThatThrownBy(() -> ServerConfig.fromArgs(new String[] {"--name=a", "--initial-cluster=" + CLUSTER, "--bogus=1"}))
                .hasMessageContaining("unknown flag --bogus");
        assertThatThrownBy(() -> ServerConfig.fromArgs(new String[] {"--name=a", "--initial-cluster=" + CLUSTER,
                "--listen-client-urls=https://127.0.0.1:1"})).hasMessageContaining("--cert-file, --key-file");
        assertThatThrownBy(() -> ServerConfig.fromArgs(new String[] {"--name=a", "--initial-cluster=" + CLUSTER,
                "--listen-client-urls=unix://127.0.0.1:1"})).hasMessageContaining("only http:// and https://");
        assertThatThrownBy(() -> ServerConfig.fromArgs(new String[] {"--name=a", "--initial-cluster=" + CLUSTER, "--client-cert-auth"}))
                .hasMessageContaining("--trusted-ca-file");
        assertThatThrownBy(() -> ServerConfig.fromArgs(new String[] {"--name=a", "--initial-cluster=a=http://h:1,a=http://h:2"}))
                .hasMessageContaining("names 'a' twice");
    }
}
