package io.synod.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.etcd.jetcd.api.KVGrpc;
import io.etcd.jetcd.api.PutRequest;
import io.etcd.jetcd.api.RangeRequest;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code synod cluster start} launches serving child processes; {@code synod cluster stop} ends exactly those. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ClusterCommandTest {
    @TempDir Path dir;

    /** A base port in [20000, 30000) with the {@code count} ports from it free on loopback. */
    static int freeBase(int count) throws IOException {
        var random = new SplittableRandom();
        for (int attempt = 0; attempt < 200; attempt++) {
            int base = random.nextInt(20000, 30000 - count);
            boolean free = true;
            for (int p = base; p < base + count && free; p++) {
                try (var s = new ServerSocket(p, 1, InetAddress.getLoopbackAddress())) {
                    // free
                } catch (IOException busy) {
                    free = false;
                }
            }
            if (free) return base;
        }
        throw new IOException("no " + count + " consecutive free ports in [20000, 30000)");
    }

    @Test
    void startsServesAndStops() throws Exception {
        int base = freeBase(6);
        int rc = new CommandLine(new ClusterCommand()).execute("start", "--size", "3", "--dir", dir.toString(), "--base-port",
                Integer.toString(base), "--member-heap", "192m");
        try {
            assertThat(rc).isZero();
            var members = ClusterCommand.readMembers(dir);
            assertThat(members).hasSize(3);
            for (var m : members) assertThat(ClusterCommand.isOurMember(m, dir)).isTrue();

            var ch = NettyChannelBuilder.forAddress("127.0.0.1", base + 2).usePlaintext().build();
            var ch2 = NettyChannelBuilder.forAddress("127.0.0.1", base + 4).usePlaintext().build();
            try {
                KVGrpc.newBlockingStub(ch).withDeadlineAfter(10, TimeUnit.SECONDS)
                        .put(PutRequest.newBuilder().setKey(ByteString.copyFromUtf8("foo")).setValue(ByteString.copyFromUtf8("bar")).build());
                var got = KVGrpc.newBlockingStub(ch2).withDeadlineAfter(10, TimeUnit.SECONDS)
                        .range(RangeRequest.newBuilder().setKey(ByteString.copyFromUtf8("foo")).build());
                assertThat(got.getKvs(0).getValue().toStringUtf8()).isEqualTo("bar");
            } finally {
                ch.shutdownNow();
                ch2.shutdownNow();
            }
        } finally {
            assertThat(new CommandLine(new ClusterCommand()).execute("stop", "--dir", dir.toString())).isZero();
        }
        for (var m : ClusterCommand.readMembers(dir)) {
            assertThat(ProcessHandle.of(m.pid()).map(ProcessHandle::isAlive).orElse(false)).as("pid %d", m.pid()).isFalse();
        }
    }
}
