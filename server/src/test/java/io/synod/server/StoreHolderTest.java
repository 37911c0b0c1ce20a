package io.synod.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.synod.mvcc.Bytes;
import io.synod.mvcc.KeyValue;
import io.synod.mvcc.MvccOptions;
import io.synod.mvcc.MvccSnapshot;
import io.synod.mvcc.MvccStore;
import io.synod.mvcc.PutRequest;
import io.synod.mvcc.RangeRequest;
import io.synod.mvcc.SnapshotReceiver;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The store switch of a snapshot install: the new state replaces the old one while readers keep
 * reading (none of them sees a closed store), and every on-disk layout a crash can leave behind
 * (before the first rename, between the two renames, after the second) opens as one whole state,
 * the old or the new one. {@link StoreHolderCrashTest} does the same with real SIGKILLs.
 */
class StoreHolderTest {
    static final int KEYS = 50;
    @TempDir Path tmp;

    /** A store in {@code dir} where every key holds {@code generation}, at applied index {@code applied}. */
    static void fill(Path dir, String generation, long applied) throws IOException {
        try (MvccStore s = MvccStore.open(dir, MvccOptions.defaults())) {
            for (int i = 0; i < KEYS; i++) {
                s.apply(applied - KEYS + 1 + i, PutRequest.of(Bytes.utf8("key" + i), Bytes.utf8(generation)));
            }
        }
    }

    /** Streams {@code sourceDir}'s state through the snapshot chunk path into a fresh directory under {@code staging}. */
    static Path stage(Path sourceDir, Path staging, String name) throws IOException {
        Path target = staging.resolve(name);
        try (MvccStore s = MvccStore.open(sourceDir, MvccOptions.defaults());
                MvccSnapshot snap = s.snapshot(4096);
                SnapshotReceiver r = new SnapshotReceiver(staging, SnapshotReceiver.Limits.defaults())) {
            while (!snap.finished()) r.accept(snap.nextChunk());
            r.installInto(target);
        }
        return target;
    }

    /** The single generation every key holds; fails on a mix or a missing key. */
    static String generation(StoreHolder h) {
        List<KeyValue> kvs = h.read(s -> s.range(RangeRequest.all())).kvs();
        assertThat(kvs).hasSize(KEYS);
        List<String> gens = kvs.stream().map(kv -> new String(kv.value().toByteArray(), java.nio.charset.StandardCharsets.UTF_8)).distinct().toList();
        assertThat(gens).hasSize(1);
        return gens.get(0);
    }

    @Test
    void installReplacesTheStoreWhileReadersKeepReading() throws Exception {
        Path data = tmp.resolve("data");
        fill(data.resolve(StoreHolder.LIVE), "old", 100);
        fill(tmp.resolve("src"), "new", 300);
        Path staged = stage(tmp.resolve("src"), data.resolve("snap"), "staged");
        try (StoreHolder h = StoreHolder.open(data, MvccOptions.defaults())) {
            var swapped = new AtomicReference<MvccStore>();
            h.addSwapListener(swapped::set);
            var stop = new AtomicBoolean();
            var failure = new AtomicReference<Throwable>();
            var reads = new AtomicLong();
            Thread reader = new Thread(() -> {
                while (!stop.get()) {
                    try {
                        String g = generation(h);
                        if (!g.equals("old") && !g.equals("new")) throw new AssertionError("mixed state " + g);
                        reads.incrementAndGet();
                    } catch (Throwable t) {
                        failure.compareAndSet(null, t);
                        return;
                    }
                }
            });
            reader.start();
            while (reads.get() < 10 && failure.get() == null) Thread.sleep(1);
            assertThat(h.install(staged)).isEqualTo(300);
            long after = reads.get();
            while (reads.get() < after + 10 && failure.get() == null) Thread.sleep(1);
            stop.set(true);
            reader.join();
            assertThat(failure.get()).isNull();
            assertThat(generation(h)).isEqualTo("new");
            assertThat(swapped.get()).isSameAs(h.current());
            assertThat(Files.exists(data.resolve(StoreHolder.OLD))).isFalse();
            assertThat(Files.exists(staged)).isFalse();
        }
        try (StoreHolder h = StoreHolder.open(data, MvccOptions.defaults())) {
            assertThat(generation(h)).isEqualTo("new");
            assertThat(h.current().appliedIndex()).isEqualTo(300);
        }
    }

    @Test
    void crashBetweenTheRenamesKeepsTheOldState() throws Exception {
        Path data = tmp.resolve("data");
        fill(data.resolve(StoreHolder.OLD), "old", 100); // mvcc moved aside, the new state not yet in place
        fill(tmp.resolve("src"), "new", 300);
        stage(tmp.resolve("src"), data.resolve("snap"), "staged");
        try (StoreHolder h = StoreHolder.open(data, MvccOptions.defaults())) {
            assertThat(generation(h)).isEqualTo("old");
            assertThat(h.current().appliedIndex()).isEqualTo(100);
        }
        assertThat(Files.exists(data.resolve(StoreHolder.OLD))).isFalse();
    }

    @Test
    void crashAfterTheSwitchKeepsTheNewState() throws Exception {
        Path data = tmp.resolve("data");
        fill(data.resolve(StoreHolder.OLD), "old", 100);
        fill(data.resolve(StoreHolder.LIVE), "new", 300); // the second rename happened, the old one was not deleted yet
        try (StoreHolder h = StoreHolder.open(data, MvccOptions.defaults())) {
            assertThat(generation(h)).isEqualTo("new");
        }
        assertThat(Files.exists(data.resolve(StoreHolder.OLD))).isFalse();
    }

    @Test
    void crashBeforeTheSwitchKeepsTheOldState() throws Exception {
        Path data = tmp.resolve("data");
        fill(data.resolve(StoreHolder.LIVE), "old", 100);
        fill(tmp.resolve("src"), "new", 300);
        stage(tmp.resolve("src"), data.resolve("snap"), "staged"); // received, never switched
        try (StoreHolder h = StoreHolder.open(data, MvccOptions.defaults())) {
            assertThat(generation(h)).isEqualTo("old");
        }
    }
}
