package io.synod.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.synod.replica.SnapshotPolicy;
import io.synod.server.transport.SnapshotLimits;
import org.junit.jupiter.api.Test;

/** The snapshot flags: etcd's names and defaults, Synod's transfer limits, and validation naming the flag. */
class SnapshotConfigTest {
    @Test
    void defaultsAreEtcds() {
        var c = ServerConfig.fromArgs(new String[] {"--name", "a"});
        assertThat(c.snapshotPolicy()).isEqualTo(SnapshotPolicy.DEFAULTS);
        assertThat(c.snapshotCount()).isEqualTo(100_000);
        assertThat(c.snapshotCatchupEntries()).isEqualTo(5_000);
        assertThat(c.snapshotLimits()).isEqualTo(SnapshotLimits.DEFAULTS);
    }

    @Test
    void flagsAreParsedAndValidated() {
        var c = ServerConfig.fromArgs(new String[] {"--name", "a", "--snapshot-count", "50", "--snapshot-catchup-entries=7",
                "--synod-snapshot-chunk-bytes", "4096", "--synod-snapshot-sends-max", "3"});
        assertThat(c.snapshotPolicy()).isEqualTo(new SnapshotPolicy(50, 7));
        assertThat(c.snapshotLimits().chunkBytes()).isEqualTo(4096);
        assertThat(c.snapshotLimits().sendsMax()).isEqualTo(3);
        assertThatThrownBy(() -> ServerConfig.fromArgs(new String[] {"--name", "a", "--snapshot-count", "0"}))
                .hasMessageContaining("--snapshot-count");
        assertThatThrownBy(() -> ServerConfig.fromArgs(new String[] {"--name", "a", "--synod-snapshot-chunk-bytes", "100"}))
                .hasMessageContaining("chunkBytes");
    }
}
