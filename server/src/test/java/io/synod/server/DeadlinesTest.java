package io.synod.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;

class DeadlinesTest {
    private static final long MS = TimeUnit.MILLISECONDS.toNanos(1);

    @Test
    void anUnfinishedFutureFailsWithATimeoutNotBeforeItsDeadline() throws Exception {
        var wheel = new Deadlines(5 * MS, 64, "test-deadlines");
        var f = new CompletableFuture<String>();
        long deadline = System.nanoTime() + 50 * MS;
        assertThat(wheel.within(f, deadline)).isSameAs(f);
        assertThatThrownBy(() -> f.get(10, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class).hasCauseInstanceOf(TimeoutException.class);
        assertThat(System.nanoTime()).isGreaterThanOrEqualTo(deadline);
    }

    @Test
    void aFutureCompletedInTimeKeepsItsResultAndLeavesTheWheel() throws Exception {
        var wheel = new Deadlines(5 * MS, 64, "test-deadlines");
        var f = new CompletableFuture<String>();
        wheel.within(f, System.nanoTime() + 40 * MS);
        f.complete("done");
        var late = new CompletableFuture<String>();
        wheel.within(late, System.nanoTime() + 100 * MS); // fails after the first one's bucket was swept
        assertThatThrownBy(() -> late.get(10, TimeUnit.SECONDS)).hasCauseInstanceOf(TimeoutException.class);
        assertThat(f.get()).isEqualTo("done");
        assertThat(wheel.pending()).isZero();
    }

    @Test
    void aDeadlineBeyondOneTurnOfTheWheelWaitsForItsOwnTurn() throws Exception {
        // 8 buckets of 5 ms: one turn is 40 ms; a 130 ms deadline passes its bucket three times first.
        var wheel = new Deadlines(5 * MS, 8, "test-deadlines");
        var f = new CompletableFuture<String>();
        long deadline = System.nanoTime() + 130 * MS;
        wheel.within(f, deadline);
        assertThatThrownBy(() -> f.get(10, TimeUnit.SECONDS)).hasCauseInstanceOf(TimeoutException.class);
        assertThat(System.nanoTime()).isGreaterThanOrEqualTo(deadline);
    }

    @Test
    void aWheelThatEmptiedSleepsAndTheNextRegistrationWakesIt() throws Exception {
        var wheel = new Deadlines(5 * MS, 64, "test-deadlines");
        var first = new CompletableFuture<String>();
        wheel.within(first, System.nanoTime() + 10 * MS);
        assertThatThrownBy(() -> first.get(10, TimeUnit.SECONDS)).hasCauseInstanceOf(TimeoutException.class);
        Thread.sleep(200); // many ticks with nothing registered: the sweeper parks without a timeout
        assertThat(wheel.pending()).isZero();
        var second = new CompletableFuture<String>();
        long deadline = System.nanoTime() + 20 * MS;
        wheel.within(second, deadline);
        assertThatThrownBy(() -> second.get(10, TimeUnit.SECONDS)).hasCauseInstanceOf(TimeoutException.class);
        assertThat(System.nanoTime()).isGreaterThanOrEqualTo(deadline);
    }

    @Test
    void aDeadlineAlreadyPastFailsAtOnce() {
        var wheel = new Deadlines(5 * MS, 64, "test-deadlines");
        var f = new CompletableFuture<String>();
        wheel.within(f, System.nanoTime() - MS);
        assertThat(f.isCompletedExceptionally()).isTrue();
        assertThat(wheel.pending()).isZero();
    }

    @Test
    void manyDeadlinesFromManyThreadsEachFireNotEarly() throws Exception {
        var wheel = new Deadlines(2 * MS, 16, "test-deadlines");
        var futures = new java.util.concurrent.ConcurrentLinkedQueue<CompletableFuture<Long>>();
        var early = new java.util.concurrent.atomic.AtomicInteger();
        var threads = new ArrayList<Thread>();
        for (int t = 0; t < 4; t++) {
            int seed = t;
            threads.add(Thread.ofPlatform().start(() -> {
                var rnd = new java.util.SplittableRandom(seed);
                for (int i = 0; i < 250; i++) {
                    var f = new CompletableFuture<Long>();
                    long d = System.nanoTime() + rnd.nextLong(1, 80) * MS;
                    if (rnd.nextInt(3) == 0) f.complete(0L); // some finish first
                    wheel.within(f, d);
                    f.whenComplete((v, e) -> {
                        if (e != null && System.nanoTime() < d) early.incrementAndGet();
                    });
                    futures.add(f);
                }
            }));
        }
        for (Thread t : threads) t.join();
        CompletableFuture.allOf(futures.stream().map(f -> f.exceptionally(e -> {
            assertThat(e).isInstanceOf(TimeoutException.class);
            return -1L;
        })).toArray(CompletableFuture[]::new)).get(10, TimeUnit.SECONDS);
        assertThat(early.get()).as("deadlines that fired early").isZero();
        long timedOut = futures.stream().filter(CompletableFuture::isCompletedExceptionally).count();
        assertThat(timedOut).isBetween(500L, 1000L); // about two thirds were left to time out
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (wheel.pending() > 0 && System.nanoTime() < until) Thread.sleep(5);
        assertThat(wheel.pending()).as("timeouts still held once every deadline passed").isZero();
    }
}
