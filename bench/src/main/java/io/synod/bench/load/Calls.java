package io.synod.bench.load;

import io.grpc.stub.StreamObserver;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.IntFunction;

/**
 * Small helpers for the setup phases of the coordination workloads (granting or revoking
 * thousands of leases): unary calls as futures, and many of them with a bounded number in flight
 * and an overall deadline, so setup neither floods a server nor hangs.
 */
final class Calls {
    private Calls() {}

    /** Requests in flight during setup and clean-up. */
    static final int SETUP_CONCURRENCY = 64;
    /** Deadline of a whole setup or clean-up phase. */
    static final long SETUP_TIMEOUT_SECONDS = 120;

    /** An observer completing {@code f} with the first response, or with the call's error. */
    static <T> StreamObserver<T> into(CompletableFuture<T> f) {
        return new StreamObserver<>() {
            @Override
            public void onNext(T value) {
                f.complete(value);
            }

            @Override
            public void onError(Throwable t) {
                f.completeExceptionally(t);
            }

            @Override
            public void onCompleted() {
                f.completeExceptionally(new IllegalStateException("call ended without a response"));
            }
        };
    }

    /** Runs calls 0..n-1 with at most {@link #SETUP_CONCURRENCY} in flight and returns their results in order; fails on the first error. */
    static <T> List<T> all(int n, IntFunction<CompletableFuture<T>> call) throws InterruptedException {
        var permits = new Semaphore(SETUP_CONCURRENCY);
        var futures = new ArrayList<CompletableFuture<T>>(n);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(SETUP_TIMEOUT_SECONDS);
        for (int i = 0; i < n; i++) {
            if (!permits.tryAcquire(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) {
                throw new IllegalStateException("setup calls did not finish within " + SETUP_TIMEOUT_SECONDS + " s");
            }
            CompletableFuture<T> f = call.apply(i);
            f.whenComplete((r, t) -> permits.release());
            futures.add(f);
        }
        var results = new ArrayList<T>(n);
        for (var f : futures) {
            try {
                results.add(f.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS));
            } catch (ExecutionException e) {
                throw new IllegalStateException("setup call failed: " + e.getCause(), e.getCause());
            } catch (TimeoutException e) {
                throw new IllegalStateException("setup calls did not finish within " + SETUP_TIMEOUT_SECONDS + " s");
            }
        }
        return results;
    }

    /** Like {@link #all} but only counts failures (clean-up is best effort). */
    static int bestEffort(int n, IntFunction<CompletableFuture<?>> call) throws InterruptedException {
        var permits = new Semaphore(SETUP_CONCURRENCY);
        var failed = new java.util.concurrent.atomic.AtomicInteger();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(SETUP_TIMEOUT_SECONDS);
        for (int i = 0; i < n; i++) {
            if (!permits.tryAcquire(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) return n - i + failed.get();
            call.apply(i).whenComplete((r, t) -> {
                if (t != null) failed.incrementAndGet();
                permits.release();
            });
        }
        if (!permits.tryAcquire(SETUP_CONCURRENCY, Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) {
            return failed.get() + 1;
        }
        return failed.get();
    }
}
