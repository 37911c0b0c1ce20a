package io.synod.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.etcd.jetcd.api.RangeRequest;
import io.etcd.jetcd.api.RequestOp;
import io.etcd.jetcd.api.TxnRequest;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The expensive-request admission on its own: which requests count, permits, the queue, deadlines and ends. */
class ExpensiveRequestsTest {
    private static final long FAR = Long.MAX_VALUE / 4;

    private static RangeRequest range(String key, String end, long limit) {
        return RangeRequest.newBuilder().setKey(ByteString.copyFromUtf8(key)).setRangeEnd(ByteString.copyFromUtf8(end)).setLimit(limit).build();
    }

    private static Status.Code failure(CompletableFuture<Void> f) {
        assertThat(f).isCompletedExceptionally();
        try {
            f.join();
            throw new AssertionError("not failed");
        } catch (CompletionException e) {
            return ((StatusRuntimeException) e.getCause()).getStatus().getCode();
        }
    }

    @Test
    void largeRangesAndTxnsContainingOneAreExpensive() {
        assertThat(ExpensiveRequests.expensive(range("\0", "\0", 0))).isTrue();
        assertThat(ExpensiveRequests.expensive(range("a", "b", 0))).isTrue();
        assertThat(ExpensiveRequests.expensive(range("a", "b", ExpensiveRequests.CHEAP_RANGE_LIMIT + 1))).isTrue();
        assertThat(ExpensiveRequests.expensive(range("a", "b", ExpensiveRequests.CHEAP_RANGE_LIMIT))).isFalse();
        assertThat(ExpensiveRequests.expensive(range("a", "", 0))).isFalse(); // one key
        var nested = TxnRequest.newBuilder().addFailure(RequestOp.newBuilder().setRequestRange(range("\0", "\0", 0))).build();
        var outer = TxnRequest.newBuilder().addSuccess(RequestOp.newBuilder().setRequestRange(range("k", "", 0)))
                .addSuccess(RequestOp.newBuilder().setRequestTxn(nested)).build();
        assertThat(ExpensiveRequests.expensive(outer)).isTrue();
        assertThat(ExpensiveRequests.expensive(TxnRequest.newBuilder().addSuccess(RequestOp.newBuilder().setRequestRange(range("k", "", 0)))
                .build())).isFalse();
    }

    @Test
    void permitsThenQueueThenRefusalAndEachEndFreesItsPlace() {
        var gate = new ExpensiveRequests(2, 1);
        var a = gate.ticket();
        var b = gate.ticket();
        var c = gate.ticket();
        var d = gate.ticket();
        assertThat(a.enter(System.nanoTime() + FAR)).isCompleted();
        assertThat(b.enter(System.nanoTime() + FAR)).isCompleted();
        CompletableFuture<Void> queued = c.enter(System.nanoTime() + FAR);
        assertThat(queued).isNotDone();
        assertThat(failure(d.enter(System.nanoTime() + FAR))).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
        assertThat(gate.stats()).isEqualTo(new ExpensiveRequests.Stats(2, 1, 2, 1));

        a.close();
        assertThat(queued).isCompleted(); // the freed permit went to the waiter
        a.close(); // idempotent: frees nothing twice
        assertThat(gate.stats().inUse()).isEqualTo(2);
        b.close();
        c.close();
        assertThat(gate.stats()).isEqualTo(new ExpensiveRequests.Stats(0, 0, 3, 1));
    }

    @Test
    void aWaiterLeavesTheQueueAtItsDeadlineOrWhenItsCallEnds() throws Exception {
        var gate = new ExpensiveRequests(1, 2);
        var holder = gate.ticket();
        holder.enter(System.nanoTime() + FAR).join();
        var soon = gate.ticket().enter(System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(50));
        var gone = gate.ticket();
        var goneFuture = gone.enter(System.nanoTime() + FAR);
        gone.close();
        assertThat(failure(goneFuture)).isEqualTo(Status.Code.CANCELLED);
        try {
            soon.get(30, TimeUnit.SECONDS);
        } catch (java.util.concurrent.ExecutionException expected) {
            // fails at its deadline
        }
        assertThat(failure(soon)).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
        assertThat(gate.stats().waiting()).isZero();
        holder.close();
        assertThat(gate.stats().inUse()).isZero();
        var after = gate.ticket();
        assertThat(after.enter(System.nanoTime() + FAR)).isCompleted();
    }

    @Test
    void aTicketWhoseCallEndedBeforeItAskedIsNotAdmitted() {
        var gate = new ExpensiveRequests(1, 1);
        var t = gate.ticket();
        t.close();
        assertThat(failure(t.enter(System.nanoTime() + FAR))).isEqualTo(Status.Code.CANCELLED);
        assertThat(gate.stats().inUse()).isZero();
    }
}
