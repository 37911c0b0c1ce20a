package io.synod.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.etcd.jetcd.api.WatchCreateRequest;
import io.etcd.jetcd.api.WatchGrpc;
import io.etcd.jetcd.api.WatchRequest;
import io.etcd.jetcd.api.WatchResponse;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * etcd's require-leader watches: a watch opened with the {@code hasleader: true} metadata (as
 * {@code etcdctl watch} opens them) on a member that then loses its quorum ends with UNAVAILABLE
 * "etcdserver: no leader", so the client can move to a member that still sees writes; a watch
 * without it stays open.
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class WatchRequireLeaderTest {
    @TempDir Path dir;

    private static CompletableFuture<Status> watch(ManagedChannel ch, boolean requireLeader) {
        var ended = new CompletableFuture<Status>();
        var stub = WatchGrpc.newStub(ch);
        if (requireLeader) {
            var md = new Metadata();
            md.put(Metadata.Key.of("hasleader", Metadata.ASCII_STRING_MARSHALLER), "true");
            stub = stub.withInterceptors(MetadataUtils.newAttachHeadersInterceptor(md));
        }
        StreamObserver<WatchRequest> requests = stub.watch(new StreamObserver<>() {
            @Override
            public void onNext(WatchResponse r) {}

            @Override
            public void onError(Throwable t) {
                ended.complete(Status.fromThrowable(t));
            }

            @Override
            public void onCompleted() {
                ended.complete(Status.OK);
            }
        });
        requests.onNext(WatchRequest.newBuilder().setCreateRequest(WatchCreateRequest.newBuilder().setKey(ByteString.copyFromUtf8("w"))).build());
        return ended;
    }

    @Test
    void requireLeaderWatchesEndWhenTheMemberLosesItsLeader() throws Exception {
        try (var cluster = new TestCluster(dir, 3)) {
            int leader = cluster.awaitLeader(10_000);
            int lonely = (leader + 1) % 3;
            ManagedChannel ch = LeaseTest.channel(cluster, lonely);
            try {
                CompletableFuture<Status> strict = watch(ch, true);
                CompletableFuture<Status> relaxed = watch(ch, false);
                Thread.sleep(500);
                assertThat(strict).as("require-leader watch while there is a leader").isNotDone();
                for (int i = 0; i < 3; i++) if (i != lonely) cluster.stop(i);
                Status s = strict.get(30, TimeUnit.SECONDS);
                assertThat(s.getCode()).isEqualTo(Status.Code.UNAVAILABLE);
                assertThat(s.getDescription()).isEqualTo("etcdserver: no leader");
                assertThat(relaxed).as("a watch that did not ask for a leader").isNotDone();
            } finally {
                ch.shutdownNow();
            }
        }
    }
}
