package io.synod.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import org.junit.jupiter.api.Test;

/** The operations flags: off by default, etcd's --listen-metrics-urls parsed like the other URL lists, limits validated. */
class OpsConfigTest {
    static final String CLUSTER = ServerConfigTest.CLUSTER;

    @Test
    void noOperationsEndpointUnlessAsked() {
        var cfg = ServerConfig.fromArgs(new String[] {"--name=a", "--initial-cluster=" + CLUSTER});
        assertThat(cfg.ops()).isEqualTo(OpsConfig.DEFAULTS);
        assertThat(cfg.ops().metricsUrl()).isEmpty();
    }

    @Test
    void parsesTheOperationsFlags() {
        var cfg = ServerConfig.fromArgs(new String[] {"--name=a", "--initial-cluster=" + CLUSTER,
                "--listen-metrics-urls=http://127.0.0.1:21381,http://127.0.0.1:21382", "--synod-ops-threads=3", "--synod-ops-queue-max=9",
                "--synod-ops-backlog=7", "--synod-health-timeout-ms=500", "--synod-member-query-timeout-ms=250"});
        assertThat(cfg.ops()).isEqualTo(new OpsConfig(java.util.Optional.of(URI.create("http://127.0.0.1:21381")), 3, 9, 7, 500, 250));
    }

    @Test
    void refusesBadOperationsSettings() {
        assertThatThrownBy(() -> ServerConfig.fromArgs(new String[] {"--name=a", "--initial-cluster=" + CLUSTER,
                "--listen-metrics-urls=https://127.0.0.1:21381"})).hasMessageContaining("only http://");
        assertThatThrownBy(() -> ServerConfig.fromArgs(new String[] {"--name=a", "--initial-cluster=" + CLUSTER,
                "--listen-metrics-urls=http://127.0.0.1"})).hasMessageContaining("needs host and port");
        assertThatThrownBy(() -> ServerConfig.fromArgs(new String[] {"--name=a", "--initial-cluster=" + CLUSTER, "--synod-ops-threads=0"}))
                .hasMessageContaining("operations limits must be >= 1");
    }
}
