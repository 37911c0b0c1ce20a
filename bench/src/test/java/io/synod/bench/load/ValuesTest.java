package io.synod.bench.load;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import java.util.HashSet;
import java.util.zip.Deflater;
import org.junit.jupiter.api.Test;

class ValuesTest {
    @Test
    void keysGetDistinctIncompressibleValuesTheSameInEveryRun() {
        Values a = Values.random(256), b = Values.random(256);
        var seen = new HashSet<ByteString>();
        var concatenated = ByteString.newOutput();
        for (int k = 0; k < Values.POOL; k++) {
            assertThat(a.of(k)).isEqualTo(b.of(k)).hasSize(256);
            seen.add(a.of(k));
            if (k < 64) concatenated.write(a.of(k).toByteArray(), 0, 256);
        }
        assertThat(seen).as("distinct values in the pool").hasSize(Values.POOL);
        assertThat(a.of(Values.POOL + 5)).isEqualTo(a.of(5));
        // 64 neighbouring values (a store block's worth and more) must not compress: no shared or shifted streams.
        byte[] raw = concatenated.toByteString().toByteArray();
        var d = new Deflater(Deflater.BEST_COMPRESSION);
        d.setInput(raw);
        d.finish();
        byte[] out = new byte[raw.length * 2];
        int n = d.deflate(out);
        assertThat(n).as("deflated size of %d random bytes", raw.length).isGreaterThan(raw.length * 95 / 100);
    }
}
