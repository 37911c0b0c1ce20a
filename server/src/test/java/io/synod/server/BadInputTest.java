package io.synod.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import io.etcd.jetcd.api.Compare;
import io.etcd.jetcd.api.DeleteRangeRequest;
import io.etcd.jetcd.api.KVGrpc;
import io.etcd.jetcd.api.LeaseGrantRequest;
import io.etcd.jetcd.api.LeaseGrpc;
import io.etcd.jetcd.api.PutRequest;
import io.etcd.jetcd.api.RangeRequest;
import io.etcd.jetcd.api.RequestOp;
import io.etcd.jetcd.api.TxnRequest;
import io.etcd.jetcd.api.lock.LockGrpc;
import io.etcd.jetcd.api.lock.LockRequest;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

/**
 * Malformed and over-limit requests, sent through a follower (so forwarding is on the path too),
 * must get etcd's status code and message, change nothing, and leave the cluster healthy: after
 * the barrage, a write still commits and every member reports the same revision.
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class BadInputTest {
    @TempDir Path dir;

    private static ByteString b(String s) {
        return ByteString.copyFromUtf8(s);
    }

    private static void refused(Status.Code code, String description, Executable call) {
        assertThatThrownBy(call::execute).isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
            assertThat(e.getStatus().getCode()).as("code of %s", e.getStatus()).isEqualTo(code);
            if (description != null) assertThat(e.getStatus().getDescription()).isEqualTo(description);
        });
    }

    private static RequestOp put(String k) {
        return RequestOp.newBuilder().setRequestPut(PutRequest.newBuilder().setKey(b(k)).setValue(b("v"))).build();
    }

    @Test
    void everyLimitAndMalformedRequestGetsEtcdsError() throws Exception {
        try (var cluster = new TestCluster(dir, 3)) {
            int leader = cluster.awaitLeader(10_000);
            ManagedChannel ch = LeaseTest.channel(cluster, (leader + 1) % 3);
            try {
                var kv = KVGrpc.newBlockingStub(ch).withDeadlineAfter(20, TimeUnit.SECONDS);
                long start = kv.put(PutRequest.newBuilder().setKey(b("k")).setValue(b("v")).build()).getHeader().getRevision();

                int max = cluster.configs.get(0).requestBytesMax();
                refused(Status.Code.INVALID_ARGUMENT, "etcdserver: request is too large",
                        () -> kv.put(PutRequest.newBuilder().setKey(b("big")).setValue(ByteString.copyFrom(new byte[max])).build()));
                refused(Status.Code.RESOURCE_EXHAUSTED, null,
                        () -> kv.put(PutRequest.newBuilder().setKey(b("huge")).setValue(ByteString.copyFrom(new byte[max + 600 * 1024])).build()));

                refused(Status.Code.INVALID_ARGUMENT, "etcdserver: key is not provided",
                        () -> kv.put(PutRequest.newBuilder().setValue(b("v")).build()));
                refused(Status.Code.INVALID_ARGUMENT, "etcdserver: key is not provided", () -> kv.range(RangeRequest.newBuilder().build()));
                refused(Status.Code.INVALID_ARGUMENT, "etcdserver: key is not provided",
                        () -> kv.deleteRange(DeleteRangeRequest.newBuilder().build()));

                var tooMany = TxnRequest.newBuilder();
                for (int i = 0; i < 129; i++) tooMany.addSuccess(put("op" + i));
                refused(Status.Code.INVALID_ARGUMENT, "etcdserver: too many operations in txn request", () -> kv.txn(tooMany.build()));
                refused(Status.Code.INVALID_ARGUMENT, "etcdserver: duplicate key given in txn request",
                        () -> kv.txn(TxnRequest.newBuilder().addSuccess(put("dup")).addSuccess(put("dup")).build()));

                refused(Status.Code.NOT_FOUND, "etcdserver: requested lease not found",
                        () -> kv.put(PutRequest.newBuilder().setKey(b("leased")).setValue(b("v")).setLease(12345).build()));
                refused(Status.Code.NOT_FOUND, "etcdserver: requested lease not found", () -> kv.txn(TxnRequest.newBuilder()
                        .addCompare(Compare.newBuilder().setKey(b("k")).setTarget(Compare.CompareTarget.VERSION).setVersion(1))
                        .addSuccess(RequestOp.newBuilder().setRequestPut(PutRequest.newBuilder().setKey(b("x")).setLease(99)))
                        .build()));
                refused(Status.Code.INVALID_ARGUMENT, "etcdserver: key not found",
                        () -> kv.put(PutRequest.newBuilder().setKey(b("absent")).setIgnoreValue(true).build()));
                refused(Status.Code.OUT_OF_RANGE, "etcdserver: mvcc: required revision is a future revision",
                        () -> kv.range(RangeRequest.newBuilder().setKey(b("k")).setRevision(start + 1000).build()));
                refused(Status.Code.INVALID_ARGUMENT, "etcdserver: invalid sort option",
                        () -> kv.range(RangeRequest.newBuilder().setKey(b("k")).setSortOrderValue(9).build()));
                refused(Status.Code.OUT_OF_RANGE, "etcdserver: too large lease TTL",
                        () -> LeaseGrpc.newBlockingStub(ch).leaseGrant(LeaseGrantRequest.newBuilder().setTTL(Long.MAX_VALUE).build()));
                refused(Status.Code.INVALID_ARGUMENT, "etcdserver: key is not provided",
                        () -> LockGrpc.newBlockingStub(ch).lock(LockRequest.newBuilder().setLease(1).build()));

                // Nothing above changed the store, and the cluster still works and agrees.
                var after = kv.put(PutRequest.newBuilder().setKey(b("k")).setValue(b("w")).build());
                assertThat(after.getHeader().getRevision()).isEqualTo(start + 1);
                for (int i = 0; i < 3; i++) {
                    ManagedChannel c = LeaseTest.channel(cluster, i);
                    try {
                        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                        long rev;
                        do {
                            rev = KVGrpc.newBlockingStub(c).range(RangeRequest.newBuilder().setKey(b("k")).setSerializable(true).build())
                                    .getHeader().getRevision();
                        } while (rev != start + 1 && System.nanoTime() < deadline);
                        assertThat(rev).as("revision on member %d", i).isEqualTo(start + 1);
                    } finally {
                        c.shutdownNow();
                    }
                }
            } finally {
                ch.shutdownNow();
            }
        }
    }
}
