package io.synod.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.synod.storage.wal.PowerCutEmulation;
import org.junit.jupiter.api.Test;

/** The test-only {@code --synod-unsafe-power-cut-emulation} flag reaches the WAL options, and is off unless given. */
class PowerCutFlagTest {
    private static PowerCutEmulation parsed(String... extra) {
        var args = new java.util.ArrayList<>(java.util.List.of("--name", "m1", "--data-dir", "/tmp/unused"));
        args.addAll(java.util.List.of(extra));
        return ServerConfig.fromArgs(args.toArray(String[]::new)).raftLogOptions().wal().powerCut();
    }

    @Test
    void offByDefaultOnAloneOrWithAValue() {
        assertThat(parsed()).isEqualTo(PowerCutEmulation.OFF);
        assertThat(parsed("--synod-unsafe-power-cut-emulation")).isEqualTo(PowerCutEmulation.ON);
        assertThat(parsed("--synod-unsafe-power-cut-emulation", "--synod-tick-ms", "50")).isEqualTo(PowerCutEmulation.ON);
        assertThat(parsed("--synod-unsafe-power-cut-emulation=false")).isEqualTo(PowerCutEmulation.OFF);
        assertThat(parsed("--synod-unsafe-power-cut-emulation=ack-before-fsync")).isEqualTo(PowerCutEmulation.ACK_BEFORE_FSYNC);
        assertThatThrownBy(() -> parsed("--synod-unsafe-power-cut-emulation=maybe")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("ack-before-fsync");
    }
}
