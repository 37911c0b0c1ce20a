package io.synod.bench.load;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The pure parts of the bulk loader and of the /proc readers (no server is contacted). */
class BulkLoadTest {
    @Test
    void transactionsCoverEveryKeyOnce() {
        assertThat(BulkLoad.txnCount(1_000_000, 128)).isEqualTo(7813);
        assertThat(BulkLoad.txnCount(128, 128)).isEqualTo(1);
        assertThat(BulkLoad.txnCount(129, 128)).isEqualTo(2);
        assertThat(BulkLoad.txnCount(BulkLoad.KEYS_MAX, 1)).isEqualTo(BulkLoad.KEYS_MAX);
    }

    @Test
    void valuesDifferPerKeyAndAreReproducible() {
        assertThat(BulkLoad.value(7, 256).size()).isEqualTo(256);
        assertThat(BulkLoad.value(7, 256)).isEqualTo(BulkLoad.value(7, 256)).isNotEqualTo(BulkLoad.value(8, 256));
        assertThat(BulkLoad.key(42).toStringUtf8()).isEqualTo("key-00000042");
    }

    @Test
    void neighbouringValuesShareNoRunsACompressorCouldFind() {
        // Any 8-byte window of one value must not occur in its neighbours' (seeded streams that are shifted copies would).
        for (int k = 0; k < 50; k++) {
            String a = BulkLoad.value(k, 256).toString(java.nio.charset.StandardCharsets.ISO_8859_1);
            for (int j = k + 1; j <= k + 3; j++) {
                String b = BulkLoad.value(j, 256).toString(java.nio.charset.StandardCharsets.ISO_8859_1);
                for (int i = 0; i + 8 <= 256; i += 4) assertThat(a).as("keys %d and %d", k, j).doesNotContain(b.substring(i, i + 8));
            }
        }
    }

    @Test
    void limitsAreCheckedBeforeConnecting() {
        var eps = List.of("127.0.0.1:1");
        assertThatThrownBy(() -> BulkLoad.load(eps, 0, 256, 128, 8, 10, System.err)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> BulkLoad.load(eps, 10, 256, 129, 8, 10, System.err)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> BulkLoad.load(eps, 10, 256, 128, 65, 10, System.err)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> BulkLoad.load(List.of(), 10, 256, 128, 8, 10, System.err)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void procStatusFieldsAreReadInBytes() {
        String status = "Name:\tjava\nVmPeak:\t 5000 kB\nVmHWM:\t  2048 kB\nVmRSS:\t  1024 kB\n";
        assertThat(ProcStats.statusField(status, "VmRSS")).isEqualTo(1024 * 1024);
        assertThat(ProcStats.statusField(status, "VmHWM")).isEqualTo(2048 * 1024);
        assertThat(ProcStats.statusField(status, "VmSwap")).isEqualTo(-1);
        assertThat(ProcStats.rssBytes(ProcessHandle.current().pid())).isPositive();
        assertThat(ProcStats.peakRssBytes(ProcessHandle.current().pid())).isPositive();
    }
}
