package io.synod.mvcc.watch;

import io.synod.mvcc.Event;
import io.synod.mvcc.KeyValue;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Test oracle for one {@link WatchStream}: records what its consumer receives and checks etcd's
 * watch guarantees as updates arrive (created before events, ordered, no revision split or
 * repeated, nothing at or below a progress bookmark after it, nothing after cancel), and at the
 * end that every watcher received exactly the history that matches it.
 */
final class WatchChecker {
    /** What one watch received. */
    static final class Watch {
        final WatchSpec spec;
        final long id;
        long start = -1;
        final List<Event> received = new ArrayList<>();
        long lastRevision;
        long bookmark;
        boolean canceled;
        long compactRevision;

        Watch(WatchSpec spec, long id) {
            this.spec = spec;
            this.id = id;
        }
    }

    final String name;
    final Map<Long, Watch> watches = new HashMap<>();
    final List<Watch> all = new ArrayList<>();
    long progressResponses;

    WatchChecker(String name) {
        this.name = name;
    }

    void registered(WatchSpec spec, long id) {
        check(id >= 0, "watch refused: %s", spec);
        check(!watches.containsKey(id) || watches.get(id).canceled, "id %d reused while active", id);
        var w = new Watch(spec, id);
        watches.put(id, w);
        all.add(w);
    }

    /** Consumes one update the stream handed out. */
    void accept(WatchUpdate u) {
        switch (u) {
            case WatchUpdate.Created c -> {
                Watch w = active(c.watchId());
                check(w.start == -1, "created twice: %d", c.watchId());
                w.start = w.spec.startRevision() == 0 ? c.revision() + 1 : w.spec.startRevision();
            }
            case WatchUpdate.Refused r -> fail("unexpected refusal: %s", r);
            case WatchUpdate.Events e -> {
                Watch w = active(e.watchId());
                check(w.start != -1, "events before created for %d", e.watchId());
                long prev = w.lastRevision;
                check(e.events().get(0).revision().main() > prev, "watch %d: revision %d after %d (repeat, reorder or split revision)",
                        w.id, e.events().get(0).revision().main(), prev);
                for (Event ev : e.events()) {
                    long rev = ev.revision().main();
                    check(rev >= prev, "watch %d: events out of order: %d after %d", w.id, rev, prev);
                    check(rev > w.bookmark, "watch %d: event at %d after progress bookmark %d", w.id, rev, w.bookmark);
                    check(rev >= w.start, "watch %d: event at %d before start %d", w.id, rev, w.start);
                    prev = rev;
                    w.received.add(ev);
                }
                w.lastRevision = prev;
            }
            case WatchUpdate.Canceled c -> {
                Watch w = active(c.watchId());
                w.canceled = true;
                w.compactRevision = c.compactRevision();
            }
            case WatchUpdate.Progress p -> {
                progressResponses++;
                if (p.watchId() == WatchHub.NO_WATCH_ID) {
                    for (Watch w : watches.values()) {
                        if (!w.canceled && w.start != -1) w.bookmark = Math.max(w.bookmark, p.revision());
                    }
                } else {
                    Watch w = active(p.watchId());
                    w.bookmark = Math.max(w.bookmark, p.revision());
                }
            }
        }
    }

    private Watch active(long id) {
        Watch w = watches.get(id);
        check(w != null && !w.canceled, "update for unknown or canceled watch %d", id);
        return w;
    }

    /**
     * Final check against the store's history: an active watch got exactly its matching events; a
     * canceled one a prefix of them; a compacted one a prefix, and only history at or below the
     * compaction was lost.
     */
    void verify(NavigableMap<Long, List<Event>> history, long compactRevision, boolean requireComplete) {
        for (Watch w : all) {
            check(w.start != -1, "watch %d never created", w.id);
            List<Event> expected = expected(w, history);
            List<Event> got = w.received;
            check(got.size() <= expected.size(), "watch %d (%s from %d): %d events, history has only %d: got %s",
                    w.id, w.spec, w.start, got.size(), expected.size(), got);
            for (int i = 0; i < got.size(); i++) {
                check(same(got.get(i), expected.get(i), compactRevision), "watch %d (%s from %d): event %d is %s, history says %s",
                        w.id, w.spec, w.start, i, got.get(i), expected.get(i));
            }
            if (w.canceled && w.compactRevision != 0) {
                check(w.compactRevision <= compactRevision + 1, "watch %d canceled with compact revision %d, store compacted only %d",
                        w.id, w.compactRevision, compactRevision);
                if (got.size() < expected.size()) {
                    // The client restarts from the reported revision; what it lost below that, compaction took.
                    long missed = expected.get(got.size()).revision().main();
                    check(missed >= w.compactRevision || missed <= compactRevision,
                            "watch %d canceled at %d but missed %s which was still available", w.id, w.compactRevision, expected.get(got.size()));
                }
            } else if (!w.canceled && requireComplete) {
                check(got.size() == expected.size(), "watch %d (%s from %d): %d events, history has %d; missing from %s",
                        w.id, w.spec, w.start, got.size(), expected.size(), expected.subList(got.size(), expected.size()));
            }
        }
    }

    static List<Event> expected(Watch w, NavigableMap<Long, List<Event>> history) {
        List<Event> out = new ArrayList<>();
        Watcher view = new Watcher(null, w.id, w.spec, w.start);
        for (var entry : history.tailMap(w.start, true).entrySet()) out.addAll(view.select(entry.getValue()));
        return out;
    }

    /** Equal, except that history may have lost a previous value that compaction removed. */
    private static boolean same(Event got, Event want, long compactRevision) {
        if (got.equals(want)) return true;
        if (!got.type().equals(want.type()) || !got.kv().equals(want.kv()) || !got.revision().equals(want.revision())) return false;
        Optional<KeyValue> prev = want.prevKv();
        return got.prevKv().isEmpty() && prev.isPresent() && prev.get().modRevision() <= compactRevision;
    }

    static TreeMap<Long, List<Event>> copy(NavigableMap<Long, List<Event>> h) {
        return new TreeMap<>(h);
    }

    private void check(boolean ok, String format, Object... args) {
        if (!ok) fail(format, args);
    }

    private void fail(String format, Object... args) {
        throw new AssertionError(name + ": " + String.format(format, args));
    }
}
