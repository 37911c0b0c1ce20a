package io.synod.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.options.GetOption;
import java.nio.file.Path;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Keys and values are bytes, never strings: keys with zero bytes, 0xff, and invalid UTF-8, and
 * random binary values, round-trip through a follower, order as unsigned bytes, and are found by
 * a binary prefix (including the all-0xff prefix, whose range end is "to the end").
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class BinaryKeysTest {
    @TempDir Path dir;

    static ByteSequence bytes(int... b) {
        byte[] out = new byte[b.length];
        for (int i = 0; i < b.length; i++) out[i] = (byte) b[i];
        return ByteSequence.from(out);
    }

    @Test
    void binaryKeysAndValuesRoundTripAndOrderAsUnsignedBytes() throws Exception {
        try (var cluster = new TestCluster(dir, 3)) {
            int leader = cluster.awaitLeader(10_000);
            try (Client c = ClusterTest.client(cluster, (leader + 1) % 3)) {
                var kv = c.getKVClient();
                byte[] value = new byte[4096];
                new SplittableRandom(7).nextBytes(value);
                ByteSequence v = ByteSequence.from(value);
                ByteSequence[] keys = {bytes(0x00), bytes(0x00, 0x00), bytes(0x7f), bytes(0x80, 0xc3, 0x28), bytes(0xff), bytes(0xff, 0x00),
                    bytes(0xff, 0xff)};
                for (ByteSequence k : keys) kv.put(k, v).get(10, TimeUnit.SECONDS);
                for (ByteSequence k : keys) assertThat(kv.get(k).get(10, TimeUnit.SECONDS).getKvs().get(0).getValue()).isEqualTo(v);

                var all = kv.get(bytes(0x00), GetOption.builder().withRange(bytes(0x00)).withKeysOnly(true).build()).get(10, TimeUnit.SECONDS);
                assertThat(all.getKvs()).extracting(k -> k.getKey()).containsExactly(keys); // unsigned byte order
                var ff = kv.get(bytes(0xff), GetOption.builder().isPrefix(true).withKeysOnly(true).build()).get(10, TimeUnit.SECONDS);
                assertThat(ff.getKvs()).extracting(k -> k.getKey()).containsExactly(bytes(0xff), bytes(0xff, 0x00), bytes(0xff, 0xff));
                assertThat(kv.delete(bytes(0x80, 0xc3, 0x28)).get(10, TimeUnit.SECONDS).getDeleted()).isEqualTo(1);
            }
        }
    }
}
