package io.synod.mvcc;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Path;

/** Test helpers: a store in a temp dir fed with increasing log indices, and short spellings. */
class StoreFixture implements AutoCloseable {
    final Path dir;
    final MvccOptions options;
    MvccStore store;
    long nextIndex;

    StoreFixture(Path dir, MvccOptions options) throws IOException {
        this.dir = dir;
        this.options = options;
        this.store = MvccStore.open(dir, options);
        this.nextIndex = store.appliedIndex() + 1;
    }

    static Bytes b(String s) {
        return Bytes.utf8(s);
    }

    Result apply(Command c) {
        return store.apply(nextIndex++, c);
    }

    Response ok(Command c) {
        Result r = apply(c);
        assertThat(r).isInstanceOf(Result.Applied.class);
        return ((Result.Applied) r).response();
    }

    MvccError rejected(Command c) {
        Result r = apply(c);
        assertThat(r).isInstanceOf(Result.Rejected.class);
        return ((Result.Rejected) r).error();
    }

    PutResponse put(String k, String v) {
        return (PutResponse) ok(PutRequest.of(b(k), b(v)));
    }

    DeleteRangeResponse del(String k) {
        return (DeleteRangeResponse) ok(DeleteRangeRequest.single(b(k)));
    }

    KeyValue get(String k) {
        RangeResponse r = store.range(RangeRequest.single(b(k)));
        assertThat(r.kvs()).hasSize(1);
        return r.kvs().get(0);
    }

    void reopen() throws IOException {
        store.close();
        store = MvccStore.open(dir, options);
        nextIndex = store.appliedIndex() + 1;
    }

    void finishCompaction() {
        for (int steps = 0; store.runCompactionStep(); steps++) {
            if (steps > 100_000) throw new AssertionError("compaction makes no progress");
        }
    }

    @Override
    public void close() {
        store.close();
    }
}
