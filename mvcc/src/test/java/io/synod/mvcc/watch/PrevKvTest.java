package io.synod.mvcc.watch;

import static org.assertj.core.api.Assertions.assertThat;

import io.synod.mvcc.Bytes;
import io.synod.mvcc.ChangeListener;
import io.synod.mvcc.CompactRequest;
import io.synod.mvcc.DeleteRangeRequest;
import io.synod.mvcc.Event;
import io.synod.mvcc.KeyValue;
import io.synod.mvcc.MvccOptions;
import io.synod.mvcc.MvccStore;
import io.synod.mvcc.PutRequest;
import io.synod.mvcc.PutResponse;
import io.synod.mvcc.Result;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Writes read the value they replace only when someone wants it with the event; a watcher of
 * previous values that the write did not know about still gets them, read from history (as etcd
 * reads them when it sends), or none once compaction removed them.
 */
class PrevKvTest {
    @TempDir Path dir;

    static Bytes b(String s) {
        return Bytes.utf8(s);
    }

    /** Records what the store tells it and, like the hub without watchers of previous values, declines them. */
    static final class Declining implements ChangeListener {
        final List<List<Event>> heard = new ArrayList<>();

        @Override
        public void onChanges(long revision, List<Event> events) {
            heard.add(events);
        }

        @Override
        public boolean wantsPrevKv(Bytes key) {
            return false;
        }
    }

    @Test
    void aWriteNobodyAsksForPreviousValuesLeavesThemUnreadUnlessItsOwnRequestWantsThem() throws Exception {
        try (MvccStore store = MvccStore.open(dir, MvccOptions.defaults())) {
            var l = new Declining();
            store.addListener(l);
            store.apply(1, PutRequest.of(b("a"), b("1")));
            store.apply(2, PutRequest.of(b("a"), b("2")));
            Result withPrev = store.apply(3, new PutRequest(b("a"), b("3"), 0, true, false, false));
            store.apply(4, DeleteRangeRequest.single(b("a")));

            assertThat(l.heard.get(0).get(0).prevKvUnread()).as("a creation replaces nothing").isFalse();
            Event second = l.heard.get(1).get(0);
            assertThat(second.prevKvUnread()).isTrue();
            assertThat(second.prevKv()).isEmpty();
            assertThat(((PutResponse) ((Result.Applied) withPrev).response()).prevKv()).map(KeyValue::value).contains(b("2"));
            assertThat(l.heard.get(2).get(0).prevKv()).map(KeyValue::value).contains(b("2"));
            assertThat(l.heard.get(3).get(0).prevKvUnread()).as("a delete too").isTrue();

            // Read from history on demand: the same value the write would have read.
            assertThat(store.withPrevKv(second).prevKv()).map(KeyValue::value).contains(b("1"));
            assertThat(store.withPrevKv(l.heard.get(3).get(0)).prevKv()).map(KeyValue::value).contains(b("3"));

            // Once compaction removed the replaced version, the event goes without it (as etcd's would).
            store.apply(5, new CompactRequest(store.currentRevision()));
            while (store.runCompactionStep()) { }
            Event compacted = store.withPrevKv(second);
            assertThat(compacted.prevKvUnread()).isFalse();
            assertThat(compacted.prevKv()).isEmpty();
        }
    }

    @Test
    void aWatcherOfPreviousValuesGetsThemEvenForAWriteThatLeftThemUnread() throws Exception {
        try (MvccStore store = MvccStore.open(dir, MvccOptions.defaults())) {
            var l = new Declining();
            store.addListener(l);
            store.apply(1, PutRequest.of(b("k"), b("old")));
            var hub = new WatchHub(EventHistory.of(store), WatchOptions.defaults()); // fed by hand below
            assertThat(hub.wantsPrevKv(b("k"))).isFalse();
            var s = hub.openStream(() -> {});
            long withPrev = s.watch(WatchSpec.key(b("k")).withPrevKv(true));
            long without = s.watch(WatchSpec.key(b("k")));
            assertThat(hub.wantsPrevKv(b("k"))).isTrue();
            // The write asked only the declining listener (the hub joined the feed late, as a racing watcher would).
            store.apply(2, PutRequest.of(b("k"), b("new")));
            List<Event> events = l.heard.get(1);
            assertThat(events.get(0).prevKvUnread()).isTrue();
            hub.onChanges(store.currentRevision(), events);

            var got = new ArrayList<WatchUpdate.Events>();
            for (Optional<WatchUpdate> u = s.poll(); u.isPresent(); u = s.poll()) {
                if (u.get() instanceof WatchUpdate.Events e) got.add(e);
            }
            assertThat(got).hasSize(2);
            for (WatchUpdate.Events e : got) {
                Event ev = e.events().get(0);
                assertThat(ev.kv().value()).isEqualTo(b("new"));
                if (e.watchId() == withPrev) assertThat(ev.prevKv()).map(KeyValue::value).contains(b("old"));
                if (e.watchId() == without) assertThat(ev.prevKv()).isEmpty();
            }
            s.cancel(withPrev);
            assertThat(hub.wantsPrevKv(b("k"))).as("no watcher of previous values left").isFalse();
            hub.close();
        }
    }

    @Test
    void aPreviousValueThatCannotBeReadLeavesTheEventWithoutItInsteadOfStoppingTheFeed() throws Exception {
        try (MvccStore store = MvccStore.open(dir, MvccOptions.defaults())) {
            var l = new Declining();
            store.addListener(l);
            store.apply(1, PutRequest.of(b("k"), b("old")));
            EventHistory failing = new EventHistory() {
                @Override
                public long currentRevision() {
                    return store.currentRevision();
                }

                @Override
                public long compactRevision() {
                    return store.compactRevision();
                }

                @Override
                public io.synod.mvcc.Changes changesSince(long fromRevision) {
                    return store.changesSince(fromRevision);
                }

                @Override
                public Event withPrevKv(Event e) {
                    throw new IllegalStateException("test: the store failed");
                }
            };
            var hub = new WatchHub(failing, WatchOptions.defaults());
            var s = hub.openStream(() -> {});
            long id = s.watch(WatchSpec.key(b("k")).withPrevKv(true));
            store.apply(2, PutRequest.of(b("k"), b("new")));
            hub.onChanges(store.currentRevision(), l.heard.get(1)); // must not throw into the apply thread

            var got = new ArrayList<Event>();
            for (Optional<WatchUpdate> u = s.poll(); u.isPresent(); u = s.poll()) {
                if (u.get() instanceof WatchUpdate.Events e && e.watchId() == id) got.addAll(e.events());
            }
            assertThat(got).hasSize(1);
            assertThat(got.get(0).kv().value()).isEqualTo(b("new"));
            assertThat(got.get(0).prevKv()).isEmpty();
            assertThat(hub.prevKvReadFailures()).isEqualTo(1);
            hub.close();
        }
    }
}
