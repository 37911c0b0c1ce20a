package io.synod.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.etcd.jetcd.api.KVGrpc;
import io.etcd.jetcd.api.MaintenanceGrpc;
import io.etcd.jetcd.api.PutRequest;
import io.etcd.jetcd.api.RangeRequest;
import io.etcd.jetcd.api.RangeResponse;
import io.etcd.jetcd.api.StatusRequest;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three members as separate JVM processes on loopback: the leader is killed with SIGKILL (no
 * shutdown hook, unflushed MVCC state lost), the other two elect a new leader and keep serving,
 * and the killed member, restarted on the same data directory, recovers every acknowledged write
 * by replaying its log.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ProcessClusterTest {
    static final int SIZE = 3;
    @TempDir Path dir;
    final Process[] processes = new Process[SIZE];
    final List<ManagedChannel> channels = new ArrayList<>();
    int[] ports;

    String cluster() {
        var sb = new StringBuilder();
        for (int i = 0; i < SIZE; i++) sb.append(i == 0 ? "" : ",").append("p").append(i + 1).append("=http://127.0.0.1:").append(ports[2 * i + 1]);
        return sb.toString();
    }

    void startMember(int i) throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        var cmd = List.of(java, "-Xmx192m", "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"),
                ServerMain.class.getName(), "--name", "p" + (i + 1), "--data-dir", dir.resolve("p" + (i + 1)).toString(),
                "--listen-client-urls", "http://127.0.0.1:" + ports[2 * i], "--listen-peer-urls", "http://127.0.0.1:" + ports[2 * i + 1],
                "--initial-cluster", cluster(), "--synod-tick-ms", "50");
        processes[i] = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("p" + (i + 1) + ".log").toFile())).start();
    }

    ManagedChannel channel(int i) {
        var ch = NettyChannelBuilder.forAddress("127.0.0.1", ports[2 * i]).usePlaintext().build();
        channels.add(ch);
        return ch;
    }

    static <T> T retry(long timeoutMillis, Supplier<T> call) throws InterruptedException {
        long deadline = System.currentTimeMillis() + timeoutMillis;
        while (true) {
            try {
                return call.get();
            } catch (StatusRuntimeException e) {
                if (System.currentTimeMillis() > deadline) throw e;
                Thread.sleep(100);
            }
        }
    }

    static ByteString bs(String s) {
        return ByteString.copyFromUtf8(s);
    }

    @AfterEach
    void stop() throws InterruptedException {
        for (ManagedChannel ch : channels) ch.shutdownNow();
        for (Process p : processes) if (p != null) p.destroy();
        for (Process p : processes) if (p != null && !p.waitFor(10, TimeUnit.SECONDS)) p.destroyForcibly();
    }

    @Test
    void killedLeaderIsReplacedAndRecoversOnRestart() throws Exception {
        ports = TestCluster.freePorts(2 * SIZE);
        for (int i = 0; i < SIZE; i++) startMember(i);
        var kv = new KVGrpc.KVBlockingStub[SIZE];
        for (int i = 0; i < SIZE; i++) kv[i] = KVGrpc.newBlockingStub(channel(i));

        for (int n = 0; n < 10; n++) {
            int member = n % SIZE;
            var req = PutRequest.newBuilder().setKey(bs("key" + n)).setValue(bs("value" + n)).build();
            retry(30_000, () -> kv[member].withDeadlineAfter(5, TimeUnit.SECONDS).put(req));
        }
        long leaderId = MaintenanceGrpc.newBlockingStub(channel(0)).status(StatusRequest.getDefaultInstance()).getLeader();
        int leader = -1;
        for (int i = 0; i < SIZE; i++) if (ServerConfig.memberId("p" + (i + 1)) == leaderId) leader = i;
        assertThat(leader).as("leader id %x is a member", leaderId).isGreaterThanOrEqualTo(0);

        processes[leader].destroyForcibly().waitFor();
        int survivor = (leader + 1) % SIZE;
        var after = PutRequest.newBuilder().setKey(bs("after")).setValue(bs("kill")).build();
        retry(15_000, () -> kv[survivor].withDeadlineAfter(5, TimeUnit.SECONDS).put(after));
        long newLeader = MaintenanceGrpc.newBlockingStub(channel(survivor)).status(StatusRequest.getDefaultInstance()).getLeader();
        assertThat(newLeader).isNotIn(0L, leaderId);

        startMember(leader);
        int restarted = leader;
        RangeResponse all = retry(30_000, () -> kv[restarted].withDeadlineAfter(5, TimeUnit.SECONDS)
                .range(RangeRequest.newBuilder().setKey(bs("\0")).setRangeEnd(bs("\0")).build()));
        assertThat(all.getCount()).isEqualTo(11);
        assertThat(all.getHeader().getRevision()).isEqualTo(12);
    }
}
