package io.synod.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** etcd's configuration file, etcd's timeout flags and the quota and lease limits, as {@link ServerConfig} reads them. */
class ConfigFileTest {
    @TempDir Path dir;

    private Path file(String yaml) throws Exception {
        Path f = dir.resolve("synod.yaml");
        Files.writeString(f, yaml);
        return f;
    }

    @Test
    void readsAnEtcdStyleConfigFile() throws Exception {
        Path f = file("""
                # a member of a three-member cluster
                name: 'b'
                data-dir: /tmp/synod-b
                listen-client-urls: http://127.0.0.1:22379   # the first URL is served
                listen-peer-urls: "http://127.0.0.1:22380"
                initial-cluster: a=http://127.0.0.1:21380,b=http://127.0.0.1:22380,c=http://127.0.0.1:23380
                initial-cluster-state: new
                heartbeat-interval: 50
                election-timeout: 500
                quota-backend-bytes: 1048576
                synod-lease-checkpoint-interval-ms: 1000
                advertise-client-urls:
                  - http://127.0.0.1:22379
                  - http://localhost:22379
                """);
        var cfg = ServerConfig.fromArgs(new String[] {"--config-file=" + f});
        assertThat(cfg.name()).isEqualTo("b");
        assertThat(cfg.dataDir()).isEqualTo(Path.of("/tmp/synod-b"));
        assertThat(cfg.clientUrl().getPort()).isEqualTo(22379);
        assertThat(cfg.initialCluster()).containsOnlyKeys("a", "b", "c");
        assertThat(cfg.tickMillis()).isEqualTo(50);
        assertThat(cfg.heartbeatTicks()).isEqualTo(1);
        assertThat(cfg.electionTicks()).isEqualTo(10);
        assertThat(cfg.limits().quotaBackendBytes()).isEqualTo(1 << 20);
        assertThat(cfg.limits().lease().checkpointIntervalMillis()).isEqualTo(1000);
        assertThat(cfg.advertiseClientUrls()).containsExactly("http://127.0.0.1:22379", "http://localhost:22379");
    }

    @Test
    void refusesWhatItCannotReadWithTheLine() throws Exception {
        Path nested = file("name: a\nclient-transport-security:\n  cert-file: /x\n");
        assertThatThrownBy(() -> ServerConfig.fromArgs(new String[] {"--config-file", nested.toString()}))
                .hasMessageContaining("synod.yaml:3: nested settings are not supported");
        Path unknown = file("name: a\nbogus-setting: 1\n");
        assertThatThrownBy(() -> ServerConfig.fromArgs(new String[] {"--config-file", unknown.toString()}))
                .hasMessageContaining("unknown setting 'bogus-setting'");
        Path twice = file("name: a\nname: b\n");
        assertThatThrownBy(() -> ServerConfig.fromArgs(new String[] {"--config-file", twice.toString()}))
                .hasMessageContaining("synod.yaml:2: 'name' is set twice");
        Path ok = file("name: a\n");
        assertThatThrownBy(() -> ServerConfig.fromArgs(new String[] {"--config-file", ok.toString(), "--name=b"}))
                .hasMessageContaining("--config-file cannot be combined with other flags");
        assertThatThrownBy(() -> ServerConfig.fromArgs(new String[] {"--config-file", dir.resolve("missing.yaml").toString()}))
                .hasMessageContaining("cannot read --config-file");
    }

    @Test
    void etcdTimeoutFlagsFollowEtcdsRules() {
        var cfg = ServerConfig.fromArgs(new String[] {"--name=a", "--heartbeat-interval=200", "--election-timeout=2000"});
        assertThat(cfg.tickMillis()).isEqualTo(200);
        assertThat(cfg.electionTicks()).isEqualTo(10);
        assertThatThrownBy(() -> ServerConfig.fromArgs(new String[] {"--name=a", "--heartbeat-interval=100", "--election-timeout=400"}))
                .hasMessageContaining("--election-timeout[400ms] should be at least as 5 times as --heartbeat-interval[100ms]");
        assertThatThrownBy(() -> ServerConfig.fromArgs(new String[] {"--name=a", "--heartbeat-interval=100", "--synod-tick-ms=50"}))
                .hasMessageContaining("cannot be combined");
        assertThat(ServerConfig.fromArgs(new String[] {"--name=a", "--quota-backend-bytes=0"}).limits().quotaBackendBytes())
                .isEqualTo(ServerLimits.DEFAULT_QUOTA_BACKEND_BYTES);
        assertThatThrownBy(() -> ServerConfig.fromArgs(new String[] {"--name=a", "--quota-backend-bytes=-1"}))
                .hasMessageContaining("--quota-backend-bytes must not be negative");
        assertThatThrownBy(() -> ServerConfig.fromArgs(new String[] {"--name=a", "--synod-lease-checkpoint-batch=100000"}))
                .hasMessageContaining("--synod-lease-checkpoint-batch must be at most");
    }
}
