package io.synod.mvcc;

import static io.synod.mvcc.StoreFixture.b;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Readers on other threads see a frozen past and a current revision that only moves forward. */
class ConcurrentReadTest {
    @TempDir Path dir;

    @Test
    @Timeout(60)
    void readersSeeStableHistoryWhileApplyAndCompactionRun() throws Exception {
        try (StoreFixture f = new StoreFixture(dir, MvccOptions.defaults().withCompaction(16, 1))) {
            for (int i = 0; i < 50; i++) f.put("k" + i, "v0");
            long frozen = f.store.currentRevision();
            RangeResponse expected = f.store.range(RangeRequest.all().atRevision(frozen));
            AtomicBoolean stop = new AtomicBoolean();
            ConcurrentLinkedQueue<Throwable> problems = new ConcurrentLinkedQueue<>();
            List<Thread> readers = new ArrayList<>();
            for (int t = 0; t < 2; t++) {
                readers.add(Thread.ofPlatform().start(() -> {
                    long lastRevision = 0;
                    while (!stop.get()) {
                        try {
                            RangeResponse past = f.store.range(RangeRequest.all().atRevision(frozen));
                            if (!past.kvs().equals(expected.kvs())) throw new AssertionError("history changed at " + frozen);
                            RangeResponse now = f.store.range(RangeRequest.prefix(b("k")));
                            if (now.revision() < lastRevision) throw new AssertionError("revision went back");
                            if (now.count() != 50) throw new AssertionError("count " + now.count());
                            lastRevision = now.revision();
                        } catch (Throwable e) {
                            problems.add(e);
                            return;
                        }
                    }
                }));
            }
            for (int i = 0; i < 3000; i++) {
                f.put("k" + (i % 50), "v" + i);
                // Compacting at the frozen revision removes older history while readers keep reading at it.
                if (i == 499) f.ok(new CompactRequest(frozen));
            }
            stop.set(true);
            for (Thread t : readers) t.join();
            assertThat(problems).isEmpty();
        }
    }
}
