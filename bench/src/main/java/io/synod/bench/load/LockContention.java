package io.synod.bench.load;

import com.google.protobuf.ByteString;
import io.etcd.jetcd.api.lock.LockGrpc;
import io.etcd.jetcd.api.lock.LockRequest;
import io.etcd.jetcd.api.lock.LockResponse;
import io.etcd.jetcd.api.lock.UnlockRequest;
import io.grpc.Channel;
import io.grpc.stub.StreamObserver;
import java.io.PrintStream;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * The {@code lock-contention} workload: every client takes one lock (etcd's v3lock service,
 * {@code v3lockpb.Lock/Lock}, which etcd 3.4 serves too) with a lease of its own, then releases it
 * ({@code Unlock}); one operation is one acquisition plus release, so operations per second are
 * acquisitions per second and the latency includes the wait in line. Lock calls carry a deadline
 * past the run's end, so a lost release cannot hang the run.
 */
final class LockContention implements Session {
    /** Deadline margin past the run's end for one Lock call. */
    static final long LOCK_DEADLINE_MARGIN_SECONDS = 30;

    private final List<Channel> channels;
    private final List<LockGrpc.LockStub> stubs;
    private final long[] leases;
    private final ByteString name;
    private final long runEndNanos;

    private LockContention(List<Channel> channels, long[] leases, ByteString name, long runEndNanos) {
        this.channels = channels;
        this.stubs = channels.stream().map(LockGrpc::newStub).toList();
        this.leases = leases;
        this.name = name;
        this.runEndNanos = runEndNanos;
    }

    static LockContention open(List<Channel> channels, LoadOptions o, PrintStream log) throws InterruptedException {
        long runSeconds = (long) Math.ceil(o.warmupSeconds() + o.durationSeconds());
        long[] leases = LeaseKeepAlive.grant(channels, o.clients(), runSeconds + LeaseKeepAlive.TTL_MARGIN_SECONDS);
        log.printf("granted %d lock-holder leases%n", leases.length);
        return new LockContention(channels, leases, ByteString.copyFromUtf8(o.scenario().lockName()),
                System.nanoTime() + TimeUnit.SECONDS.toNanos(runSeconds));
    }

    @Override
    public void issue(int client, SplittableRandom rnd, Workload.Callback done) {
        LockGrpc.LockStub stub = stubs.get(client % stubs.size());
        long deadline = Math.max(1, runEndNanos - System.nanoTime()) + TimeUnit.SECONDS.toNanos(LOCK_DEADLINE_MARGIN_SECONDS);
        stub.withDeadlineAfter(deadline, TimeUnit.NANOSECONDS).lock(LockRequest.newBuilder().setName(name).setLease(leases[client]).build(),
                new StreamObserver<>() {
                    private ByteString key;

                    @Override
                    public void onNext(LockResponse r) {
                        key = r.getKey();
                    }

                    @Override
                    public void onError(Throwable t) {
                        done.completed(false);
                    }

                    @Override
                    public void onCompleted() {
                        stub.unlock(UnlockRequest.newBuilder().setKey(key).build(), Workload.observer(done));
                    }
                });
    }

    @Override
    public void close() throws InterruptedException {
        LeaseKeepAlive.revoke(channels, leases);
    }
}
