package io.synod.server;

import io.grpc.Status;
import io.synod.mvcc.Bytes;
import io.synod.mvcc.ChangeListener;
import io.synod.mvcc.Event;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;

/**
 * Lets the lock and election services wait for changes in this member's applied state: "tell me
 * when this key is deleted" (a queue position opening up) and "tell me when anything under this
 * prefix changes" (a new leader to observe). Subscriptions are made before the caller reads the
 * state they depend on, so a change between the read and the wait is never missed; callers
 * re-read after every wake-up, so a spurious one costs only a read.
 *
 * <p>Bounded: at most {@code max} subscriptions at once; beyond that a new one is refused with
 * RESOURCE_EXHAUSTED rather than growing without limit.
 */
final class KeyWaiters implements ChangeListener {
    /** One subscription: which events wake it, and what to run. */
    private record Subscription(Predicate<Event> matches, Runnable wake) {}

    private final CopyOnWriteArrayList<Subscription> subscriptions = new CopyOnWriteArrayList<>();
    private final AtomicInteger count = new AtomicInteger();
    private final int max;

    KeyWaiters(int max) {
        this.max = max;
    }

    /** Runs {@code wake} (on the apply thread: it must be quick) after each applied write with an event in [from, end). */
    AutoCloseable subscribe(Bytes key, Bytes end, Runnable wake) {
        if (count.incrementAndGet() > max) {
            count.decrementAndGet();
            throw Status.RESOURCE_EXHAUSTED.withDescription("synod: too many lock and election waiters (limit " + max + ")")
                    .asRuntimeException();
        }
        var s = new Subscription(e -> inRange(e.kv().key(), key, end), wake);
        subscriptions.add(s);
        return () -> {
            if (subscriptions.remove(s)) count.decrementAndGet();
        };
    }

    /** A subscription to deletions of exactly {@code key}. */
    AutoCloseable onDelete(Bytes key, Runnable wake) {
        if (count.incrementAndGet() > max) {
            count.decrementAndGet();
            throw Status.RESOURCE_EXHAUSTED.withDescription("synod: too many lock and election waiters (limit " + max + ")")
                    .asRuntimeException();
        }
        var s = new Subscription(e -> e.type() == Event.Type.DELETE && e.kv().key().equals(key), wake);
        subscriptions.add(s);
        return () -> {
            if (subscriptions.remove(s)) count.decrementAndGet();
        };
    }

    /** Wakes every subscription, for when the state jumped without events (a snapshot was installed). */
    void wakeAll() {
        for (Subscription s : subscriptions) s.wake().run();
    }

    int size() {
        return count.get();
    }

    private static boolean inRange(Bytes k, Bytes key, Bytes end) {
        if (k.compareTo(key) < 0) return false;
        return end.equals(Bytes.ZERO) || k.compareTo(end) < 0;
    }

    /** Waiters look at keys and event types only: a write need not read the value it replaces for them. */
    @Override
    public boolean wantsPrevKv(Bytes key) {
        return false;
    }

    @Override
    public void onChanges(long revision, List<Event> events) {
        for (Subscription s : subscriptions) {
            for (Event e : events) {
                if (s.matches().test(e)) {
                    s.wake().run();
                    break;
                }
            }
        }
    }
}
