package io.synod.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.etcd.jetcd.api.KVGrpc;
import io.etcd.jetcd.api.PutRequest;
import io.etcd.jetcd.api.RangeRequest;
import io.etcd.jetcd.api.PutResponse;
import io.grpc.ManagedChannel;
import io.grpc.stub.StreamObserver;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A member serves hundreds of client connections at once: 300 separate connections to one
 * follower each put a key at the same time (all forwarded to the leader) and then read them all
 * back through the same connections.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ManyConnectionsTest {
    static final int CONNECTIONS = 300;
    @TempDir Path dir;

    @Test
    void threeHundredConnectionsWriteAndReadAtOnce() throws Exception {
        try (var cluster = new TestCluster(dir, 3)) {
            int leader = cluster.awaitLeader(10_000);
            List<ManagedChannel> channels = new ArrayList<>();
            try {
                for (int i = 0; i < CONNECTIONS; i++) channels.add(LeaseTest.channel(cluster, (leader + 1) % 3));
                List<CompletableFuture<PutResponse>> puts = new ArrayList<>();
                for (int i = 0; i < CONNECTIONS; i++) {
                    var f = new CompletableFuture<PutResponse>();
                    KVGrpc.newStub(channels.get(i)).withDeadlineAfter(60, TimeUnit.SECONDS).put(PutRequest.newBuilder()
                            .setKey(ByteString.copyFromUtf8("conn/" + i)).setValue(ByteString.copyFromUtf8("v" + i)).build(), observer(f));
                    puts.add(f);
                }
                for (var f : puts) f.get(60, TimeUnit.SECONDS);
                for (int i = 0; i < CONNECTIONS; i++) {
                    var r = KVGrpc.newBlockingStub(channels.get(i)).withDeadlineAfter(30, TimeUnit.SECONDS)
                            .range(RangeRequest.newBuilder().setKey(ByteString.copyFromUtf8("conn/" + i)).build());
                    assertThat(r.getKvs(0).getValue().toStringUtf8()).isEqualTo("v" + i);
                }
                var all = KVGrpc.newBlockingStub(channels.get(0)).range(RangeRequest.newBuilder().setKey(ByteString.copyFromUtf8("conn/"))
                        .setRangeEnd(ByteString.copyFromUtf8("conn0")).setCountOnly(true).build());
                assertThat(all.getCount()).isEqualTo(CONNECTIONS);
            } finally {
                for (ManagedChannel c : channels) c.shutdownNow();
            }
        }
    }

    private static <T> StreamObserver<T> observer(CompletableFuture<T> f) {
        return new StreamObserver<>() {
            @Override
            public void onNext(T v) {
                f.complete(v);
            }

            @Override
            public void onError(Throwable t) {
                f.completeExceptionally(t);
            }

            @Override
            public void onCompleted() {}
        };
    }
}
