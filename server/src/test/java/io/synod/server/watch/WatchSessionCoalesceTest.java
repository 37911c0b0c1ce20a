package io.synod.server.watch;

import static org.assertj.core.api.Assertions.assertThat;

import io.synod.mvcc.Bytes;
import io.synod.mvcc.Event;
import io.synod.mvcc.KeyValue;
import io.synod.mvcc.Revision;
import io.synod.mvcc.watch.WatchUpdate;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * Coalescing a stream's backlog: each watcher's events merge into its first response and keep
 * their order, and no event crosses a control update (cancel, progress, created) of any watcher.
 */
class WatchSessionCoalesceTest {
    static WatchUpdate.Events events(long watch, long... revisions) {
        List<Event> es = new ArrayList<>();
        for (long r : revisions) {
            es.add(new Event(Event.Type.PUT, new KeyValue(Bytes.utf8("k"), 1, r, r, Bytes.utf8("v" + r), 0), Optional.empty(), new Revision(r, 0)));
        }
        return new WatchUpdate.Events(watch, es);
    }

    static List<Long> revisions(WatchUpdate u) {
        return ((WatchUpdate.Events) u).events().stream().map(e -> e.revision().main()).toList();
    }

    @Test
    void mergesEachWatchersBacklogAtItsFirstPlaceAndStopsAtBarriers() {
        var out = WatchSession.coalesce(List.of(events(1, 5), events(2, 5), events(1, 6), events(2, 6), events(1, 7),
                new WatchUpdate.Canceled(2, 7, 0, ""), events(1, 8), new WatchUpdate.Progress(1, 8), events(1, 9)));
        assertThat(out).hasSize(6);
        assertThat(out.get(0).watchId()).isEqualTo(1);
        assertThat(revisions(out.get(0))).containsExactly(5L, 6L, 7L);
        assertThat(revisions(out.get(1))).containsExactly(5L, 6L);
        assertThat(out.get(2)).isInstanceOf(WatchUpdate.Canceled.class);
        assertThat(revisions(out.get(3))).containsExactly(8L); // not merged across the cancel
        assertThat(out.get(4)).isInstanceOf(WatchUpdate.Progress.class);
        assertThat(revisions(out.get(5))).containsExactly(9L);
    }

    /** Random backlogs: per watcher, the events and controls come out exactly as they went in, in the same order. */
    @Test
    void keepsEveryWatchersSequence() {
        var random = new SplittableRandom(42);
        for (int round = 0; round < 500; round++) {
            List<WatchUpdate> in = new ArrayList<>();
            long rev = 1;
            for (int i = 0; i < 1 + random.nextInt(60); i++) {
                long w = random.nextInt(4);
                in.add(random.nextInt(8) == 0 ? new WatchUpdate.Progress(w, rev) : events(w, rev, rev + 1));
                rev += 2;
            }
            List<WatchUpdate> out = WatchSession.coalesce(in);
            assertThat(perWatcher(out)).isEqualTo(perWatcher(in));
            assertThat(out.size()).isLessThanOrEqualTo(in.size());
            // Nothing moves across a control update: the updates before each control stay before it.
            assertThat(controlsWithRevisionsBefore(out)).isEqualTo(controlsWithRevisionsBefore(in));
        }
    }

    static Map<Long, List<String>> perWatcher(List<WatchUpdate> us) {
        Map<Long, List<String>> m = new TreeMap<>();
        for (WatchUpdate u : us) {
            var l = m.computeIfAbsent(u.watchId(), k -> new ArrayList<>());
            if (u instanceof WatchUpdate.Events e) e.events().forEach(x -> l.add("e" + x.revision().main()));
            else l.add("c" + u.revision());
        }
        return m;
    }

    static List<String> controlsWithRevisionsBefore(List<WatchUpdate> us) {
        List<String> out = new ArrayList<>();
        long seen = 0;
        for (WatchUpdate u : us) {
            if (u instanceof WatchUpdate.Events e) seen += e.events().size();
            else out.add(u.watchId() + "@" + u.revision() + " after " + seen);
        }
        return out;
    }
}
