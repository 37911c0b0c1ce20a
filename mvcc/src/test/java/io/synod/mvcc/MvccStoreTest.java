package io.synod.mvcc;

import static io.synod.mvcc.StoreFixture.b;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.synod.mvcc.RangeRequest.SortOrder;
import io.synod.mvcc.RangeRequest.SortTarget;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Cases checked against etcd v3's documented behaviour, one rule per test. */
class MvccStoreTest {
    @TempDir Path dir;
    StoreFixture f;

    @BeforeEach
    void open() throws IOException {
        f = new StoreFixture(dir, MvccOptions.defaults().withCompaction(1000, 0));
    }

    @AfterEach
    void close() {
        f.close();
    }

    private static List<String> keys(RangeResponse r) {
        return r.kvs().stream().map(kv -> new String(kv.key().toByteArray())).toList();
    }

    @Test
    void emptyStoreIsAtRevisionOneAndFirstPutGetsTwo() {
        assertThat(f.store.currentRevision()).isEqualTo(1);
        assertThat(f.store.range(RangeRequest.all()).revision()).isEqualTo(1);
        assertThat(f.put("a", "1").revision()).isEqualTo(2);
        assertThat(f.put("b", "1").revision()).isEqualTo(3);
        assertThat(f.del("a").revision()).isEqualTo(4);
        assertThat(f.store.currentRevision()).isEqualTo(4);
    }

    @Test
    void versionsAndCreateModRevisions() {
        f.put("a", "1");
        f.put("a", "2");
        f.put("a", "2"); // unchanged value still makes a revision
        KeyValue kv = f.get("a");
        assertThat(kv).isEqualTo(new KeyValue(b("a"), 2, 4, 3, b("2"), 0));
        assertThat(f.store.currentRevision()).isEqualTo(4);
    }

    @Test
    void tombstoneThenRecreateResetsVersionAndCreateRevision() {
        f.put("a", "1");
        f.put("a", "2");
        DeleteRangeResponse d = f.del("a");
        assertThat(d.deleted()).isEqualTo(1);
        assertThat(f.store.range(RangeRequest.single(b("a"))).kvs()).isEmpty();
        f.put("a", "3");
        assertThat(f.get("a")).isEqualTo(new KeyValue(b("a"), 5, 5, 1, b("3"), 0));
    }

    @Test
    void deleteOfMissingKeyCreatesNoRevision() {
        f.put("a", "1");
        DeleteRangeResponse d = f.del("zzz");
        assertThat(d.deleted()).isZero();
        assertThat(d.revision()).isEqualTo(2);
        assertThat(f.store.currentRevision()).isEqualTo(2);
        f.del("a");
        DeleteRangeResponse again = f.del("a");
        assertThat(again.deleted()).isZero();
        assertThat(f.store.currentRevision()).isEqualTo(3);
    }

    @Test
    void deleteRangeWithPrevKvsOneRevisionManySubs() {
        f.put("a", "1");
        f.put("b", "2");
        f.put("c", "3");
        List<Event> seen = new ArrayList<>();
        f.store.addListener((rev, evs) -> seen.addAll(evs));
        DeleteRangeResponse d = (DeleteRangeResponse) f.ok(DeleteRangeRequest.of(b("a"), b("c")).withPrevKv());
        assertThat(d.deleted()).isEqualTo(2);
        assertThat(d.revision()).isEqualTo(5);
        assertThat(d.prevKvs()).extracting(KeyValue::value).containsExactly(b("1"), b("2"));
        assertThat(seen).extracting(Event::revision).containsExactly(new Revision(5, 0), new Revision(5, 1));
        assertThat(seen).allMatch(e -> e.type() == Event.Type.DELETE && e.kv().modRevision() == 5);
        assertThat(keys(f.store.range(RangeRequest.all()))).containsExactly("c");
    }

    @Test
    void putPrevKvAndLease() {
        f.ok(new LeaseCommand.Grant(7, 60));
        PutResponse first = (PutResponse) f.ok(PutRequest.of(b("a"), b("1")).withPrevKv().withLease(7));
        assertThat(first.prevKv()).isEmpty();
        PutResponse second = (PutResponse) f.ok(PutRequest.of(b("a"), b("2")).withPrevKv());
        assertThat(second.prevKv()).contains(new KeyValue(b("a"), 2, 2, 1, b("1"), 7));
        assertThat(f.get("a").lease()).isZero();
    }

    @Test
    void ignoreValueAndIgnoreLease() {
        f.ok(new LeaseCommand.Grant(5, 60));
        f.ok(new LeaseCommand.Grant(8, 60));
        assertThat(f.rejected(new PutRequest(b("a"), Bytes.EMPTY, 0, false, true, false))).isEqualTo(MvccError.KEY_NOT_FOUND);
        assertThat(f.rejected(new PutRequest(b("a"), Bytes.EMPTY, 0, false, false, true))).isEqualTo(MvccError.KEY_NOT_FOUND);
        assertThat(f.store.currentRevision()).isEqualTo(1);
        f.ok(PutRequest.of(b("a"), b("v")).withLease(5));
        assertThat(f.rejected(new PutRequest(b("a"), b("x"), 0, false, true, false))).isEqualTo(MvccError.VALUE_PROVIDED);
        assertThat(f.rejected(new PutRequest(b("a"), Bytes.EMPTY, 9, false, false, true))).isEqualTo(MvccError.LEASE_PROVIDED);
        f.ok(new PutRequest(b("a"), Bytes.EMPTY, 8, false, true, false));
        assertThat(f.get("a")).isEqualTo(new KeyValue(b("a"), 2, 3, 2, b("v"), 8));
        f.ok(new PutRequest(b("a"), b("w"), 0, false, false, true));
        assertThat(f.get("a")).isEqualTo(new KeyValue(b("a"), 2, 4, 3, b("w"), 8));
        assertThat(f.rejected(PutRequest.of(Bytes.EMPTY, b("x")))).isEqualTo(MvccError.EMPTY_KEY);
        assertThat(f.rejected(DeleteRangeRequest.single(Bytes.EMPTY))).isEqualTo(MvccError.EMPTY_KEY);
    }

    @Test
    void rejectedCommandsStillAdvanceAppliedIndex() {
        f.rejected(new PutRequest(b("a"), Bytes.EMPTY, 0, false, true, false));
        assertThat(f.store.appliedIndex()).isEqualTo(1);
        assertThat(f.store.currentRevision()).isEqualTo(1);
    }

    private void fill() {
        // a..e with distinct create / mod / version / value orders
        f.put("c", "3");
        f.put("a", "5");
        f.put("e", "1");
        f.put("b", "4");
        f.put("d", "2");
        f.put("a", "5b");
        f.put("d", "2b");
        f.put("d", "2c");
    }

    @Test
    void rangeForms() {
        fill();
        f.put("ab", "x");
        f.put("a\u00ff", "y");
        assertThat(keys(f.store.range(RangeRequest.all()))).containsExactly("a", "ab", "a\u00ff", "b", "c", "d", "e");
        assertThat(keys(f.store.range(RangeRequest.prefix(b("a"))))).containsExactly("a", "ab", "a\u00ff");
        assertThat(keys(f.store.range(RangeRequest.fromKey(b("c"))))).containsExactly("c", "d", "e");
        assertThat(keys(f.store.range(RangeRequest.of(b("b"), b("d"))))).containsExactly("b", "c");
        assertThat(keys(f.store.range(RangeRequest.of(b("d"), b("b"))))).isEmpty();
        assertThat(keys(f.store.range(RangeRequest.single(b("zz"))))).isEmpty();
        assertThatThrownBy(() -> f.store.range(RangeRequest.single(Bytes.EMPTY)))
                .isInstanceOf(MvccException.class).hasMessage("etcdserver: key is not provided");
    }

    @Test
    void aByteLimitRefusesRangesThatReadMoreAndServesTheRest() {
        String big = "v".repeat(1000);
        for (int i = 0; i < 600; i++) f.put(String.format("k%04d", i), big); // more than two read batches
        long all = 600 * (5 + 1000);
        assertThat(f.store.range(RangeRequest.all(), all).kvs()).hasSize(600);
        assertThat(f.store.range(RangeRequest.all().withLimit(10), 20_000).kvs()).hasSize(10);
        assertThat(f.store.range(RangeRequest.all().keysOnly(true), 600 * 5).kvs()).hasSize(600); // keys only: values are not read
        assertThat(f.store.range(RangeRequest.all().countOnly(true), 1).count()).isEqualTo(600);
        for (long max : new long[] {all - 1, 300_000, 100}) {
            assertThatThrownBy(() -> f.store.range(RangeRequest.all(), max)).isInstanceOfSatisfying(MvccException.class,
                    e -> assertThat(e.error()).isEqualTo(MvccError.rangeTooLarge(max)));
        }
        assertThat(MvccError.rangeTooLarge(100).code()).isEqualTo(MvccError.Code.RESOURCE_EXHAUSTED);
    }

    @Test
    void leaseCountIncludesEveryLeaseUntilItIsGone() {
        assertThat(f.store.leaseCount()).isZero();
        f.ok(new LeaseCommand.Grant(4, 60));
        f.ok(new LeaseCommand.Grant(5, 60));
        assertThat(f.store.leaseCount()).isEqualTo(2);
        f.ok(new LeaseCommand.Revoke(4));
        assertThat(f.store.leaseCount()).isEqualTo(1);
    }

    @Test
    void prefixEndOfAllOnesIsFromKey() {
        Bytes ff = Bytes.copyOf(new byte[] {(byte) 0xff, (byte) 0xff});
        assertThat(ff.prefixEnd()).isEqualTo(Bytes.ZERO);
        assertThat(Bytes.copyOf(new byte[] {1, (byte) 0xff}).prefixEnd()).isEqualTo(Bytes.copyOf(new byte[] {2}));
        assertThat(b("b").compareTo(Bytes.copyOf(new byte[] {(byte) 0x80}))).isNegative();
    }

    @Test
    void limitMoreAndCount() {
        fill();
        RangeResponse r = f.store.range(RangeRequest.all().withLimit(2));
        assertThat(keys(r)).containsExactly("a", "b");
        assertThat(r.more()).isTrue();
        assertThat(r.count()).isEqualTo(5);
        assertThat(f.store.range(RangeRequest.all().withLimit(Long.MAX_VALUE)).kvs()).hasSize(5);
        assertThat(f.store.range(RangeRequest.all().withLimit(-3)).kvs()).hasSize(5);
        RangeResponse exact = f.store.range(RangeRequest.all().withLimit(5));
        assertThat(exact.more()).isFalse();
        assertThat(exact.kvs()).hasSize(5);
        RangeResponse count = f.store.range(RangeRequest.all().countOnly(true).withLimit(1));
        assertThat(count.kvs()).isEmpty();
        assertThat(count.count()).isEqualTo(5);
        assertThat(count.more()).isFalse();
        RangeResponse keysOnly = f.store.range(RangeRequest.prefix(b("a")).keysOnly(true));
        assertThat(keysOnly.kvs()).containsExactly(new KeyValue(b("a"), 3, 7, 2, Bytes.EMPTY, 0));
    }

    @Test
    void sortOrdersAndTargets() {
        fill();
        assertThat(keys(f.store.range(RangeRequest.all().sorted(SortOrder.DESCEND, SortTarget.KEY))))
                .containsExactly("e", "d", "c", "b", "a");
        assertThat(keys(f.store.range(RangeRequest.all().sorted(SortOrder.ASCEND, SortTarget.CREATE))))
                .containsExactly("c", "a", "e", "b", "d");
        assertThat(keys(f.store.range(RangeRequest.all().sorted(SortOrder.DESCEND, SortTarget.MOD))))
                .containsExactly("d", "a", "b", "e", "c");
        // NONE with a non-key target sorts ascending, as etcd does.
        assertThat(keys(f.store.range(RangeRequest.all().sorted(SortOrder.NONE, SortTarget.VALUE))))
                .containsExactly("e", "d", "c", "b", "a");
        assertThat(keys(f.store.range(RangeRequest.all().sorted(SortOrder.DESCEND, SortTarget.VERSION))))
                .containsExactly("d", "a", "b", "c", "e");
        // Sort happens before the limit cut; keys_only still sorts by value.
        RangeResponse top = f.store.range(RangeRequest.all().sorted(SortOrder.DESCEND, SortTarget.VALUE)
                .withLimit(2).keysOnly(true));
        assertThat(keys(top)).containsExactly("a", "b");
        assertThat(top.more()).isTrue();
        assertThat(top.count()).isEqualTo(5);
        assertThat(top.kvs()).allMatch(kv -> kv.value().isEmpty());
    }

    @Test
    void revisionFilters() {
        fill(); // creates: c2 a3 e4 b5 d6; mods: c2 e4 b5 a7 d9
        assertThat(keys(f.store.range(RangeRequest.all().modRevisionBetween(5, 7)))).containsExactly("a", "b");
        assertThat(keys(f.store.range(RangeRequest.all().createRevisionBetween(0, 4)))).containsExactly("a", "c", "e");
        RangeResponse r = f.store.range(RangeRequest.all().createRevisionBetween(4, 0).withLimit(1));
        assertThat(keys(r)).containsExactly("b");
        assertThat(r.more()).isTrue();
        assertThat(r.count()).isEqualTo(5);
    }

    @Test
    void historicalReads() {
        f.put("a", "1"); // 2
        f.put("a", "2"); // 3
        f.del("a"); // 4
        f.put("a", "3"); // 5
        assertThat(f.store.range(RangeRequest.single(b("a")).atRevision(1)).kvs()).isEmpty();
        assertThat(f.store.range(RangeRequest.single(b("a")).atRevision(2)).kvs())
                .containsExactly(new KeyValue(b("a"), 2, 2, 1, b("1"), 0));
        RangeResponse at3 = f.store.range(RangeRequest.single(b("a")).atRevision(3));
        assertThat(at3.kvs()).containsExactly(new KeyValue(b("a"), 2, 3, 2, b("2"), 0));
        assertThat(at3.revision()).isEqualTo(5);
        assertThat(f.store.range(RangeRequest.single(b("a")).atRevision(4)).kvs()).isEmpty();
        assertThat(f.store.range(RangeRequest.single(b("a")).atRevision(5)).kvs().get(0).createRevision()).isEqualTo(5);
        assertThatThrownBy(() -> f.store.range(RangeRequest.all().atRevision(6)))
                .isInstanceOf(MvccException.class)
                .hasMessage("etcdserver: mvcc: required revision is a future revision")
                .extracting(e -> ((MvccException) e).error().code()).isEqualTo(MvccError.Code.OUT_OF_RANGE);
    }

    @Test
    void compactionRulesAndErrors() {
        f.put("a", "1"); // 2
        f.put("a", "2"); // 3
        f.put("b", "1"); // 4
        f.del("b"); // 5
        f.put("c", "1"); // 6
        assertThat(f.rejected(new CompactRequest(7))).isEqualTo(MvccError.FUTURE_REVISION);
        CompactResponse c = (CompactResponse) f.ok(new CompactRequest(5));
        assertThat(c.revision()).isEqualTo(6);
        assertThat(f.rejected(new CompactRequest(5))).isEqualTo(MvccError.COMPACTED);
        assertThat(f.rejected(new CompactRequest(3))).isEqualTo(MvccError.COMPACTED);
        assertThatThrownBy(() -> f.store.range(RangeRequest.all().atRevision(4)))
                .isInstanceOf(MvccException.class)
                .hasMessage("etcdserver: mvcc: required revision has been compacted");
        assertThat(f.store.compactionPending()).isTrue();
        f.finishCompaction();
        assertThat(f.store.compactionPending()).isFalse();
        // At the compaction revision itself everything visible there is still readable.
        assertThat(keys(f.store.range(RangeRequest.all().atRevision(5)))).containsExactly("a");
        assertThat(f.get("a").version()).isEqualTo(2);
        // b's tombstone (at 5) went with its older version: the key left the index entirely.
        assertThat(f.store.indexedKeys()).isEqualTo(2);
        assertThatThrownBy(() -> f.store.changesSince(5)).hasMessageContaining("compacted");
        assertThat(f.store.changesSince(6).events()).extracting(e -> e.kv().key()).containsExactly(b("c"));
    }

    @Test
    void txnCompareSuccessAndFailureBranches() {
        f.put("a", "1"); // 2
        TxnRequest t = new TxnRequest(
                List.of(Compare.of(b("a"), Compare.Op.EQUAL, new Compare.Value(b("1"))),
                        Compare.of(b("a"), Compare.Op.EQUAL, new Compare.Version(1))),
                List.of(PutRequest.of(b("a"), b("2")), PutRequest.of(b("b"), b("x")), RangeRequest.prefix(b("a"))),
                List.of(RangeRequest.single(b("a"))));
        TxnResponse r = (TxnResponse) f.ok(t);
        assertThat(r.succeeded()).isTrue();
        assertThat(r.revision()).isEqualTo(3);
        assertThat(r.responses()).hasSize(3);
        // Reads inside a txn see its own earlier writes.
        RangeResponse inner = (RangeResponse) r.responses().get(2);
        assertThat(inner.kvs()).containsExactly(new KeyValue(b("a"), 2, 3, 2, b("2"), 0));
        assertThat(inner.revision()).isEqualTo(3);
        // Same txn again fails its compares and only reads: no revision.
        TxnResponse again = (TxnResponse) f.ok(t);
        assertThat(again.succeeded()).isFalse();
        assertThat(again.revision()).isEqualTo(3);
        assertThat(((RangeResponse) again.responses().get(0)).kvs().get(0).value()).isEqualTo(b("2"));
        assertThat(f.store.currentRevision()).isEqualTo(3);
    }

    @Test
    void txnWritesShareOneMainRevisionWithIncreasingSubs() {
        f.put("x", "0");
        List<Event> seen = new ArrayList<>();
        List<Long> revs = new ArrayList<>();
        f.store.addListener((rev, evs) -> {
            revs.add(rev);
            seen.addAll(evs);
        });
        f.ok(new TxnRequest(List.of(), List.of(PutRequest.of(b("b"), b("1")), DeleteRangeRequest.single(b("x")),
                PutRequest.of(b("a"), b("1"))), List.of()));
        assertThat(revs).containsExactly(3L);
        assertThat(seen).extracting(Event::revision)
                .containsExactly(new Revision(3, 0), new Revision(3, 1), new Revision(3, 2));
        assertThat(seen).extracting(Event::type).containsExactly(Event.Type.PUT, Event.Type.DELETE, Event.Type.PUT);
        assertThat(seen.get(1).prevKv()).contains(new KeyValue(b("x"), 2, 2, 1, b("0"), 0));
        assertThat(f.store.changesSince(3).events()).isEqualTo(seen);
    }

    @Test
    void compareTargetsOnMissingKeysAndRanges() {
        f.ok(new LeaseCommand.Grant(4, 60));
        f.put("k1", "a");
        f.put("k2", "b");
        f.ok(PutRequest.of(b("k3"), b("c")).withLease(4));
        assertThat(cmp(Compare.of(b("nope"), Compare.Op.EQUAL, new Compare.Value(Bytes.EMPTY)))).isFalse();
        assertThat(cmp(Compare.of(b("nope"), Compare.Op.EQUAL, new Compare.Version(0)))).isTrue();
        assertThat(cmp(Compare.of(b("nope"), Compare.Op.EQUAL, new Compare.Create(0)))).isTrue();
        assertThat(cmp(Compare.of(b("nope"), Compare.Op.LESS, new Compare.Mod(1)))).isTrue();
        assertThat(cmp(Compare.of(b("k1"), Compare.Op.GREATER, new Compare.Mod(1)))).isTrue();
        assertThat(cmp(Compare.of(b("k1"), Compare.Op.NOT_EQUAL, new Compare.Value(b("a"))))).isFalse();
        assertThat(cmp(Compare.of(b("k3"), Compare.Op.EQUAL, new Compare.Lease(4)))).isTrue();
        // Range compares: every key in range must satisfy.
        Compare allLess = new Compare(b("k"), b("k").prefixEnd(), Compare.Op.LESS, new Compare.Value(b("d")));
        Compare allLessC = new Compare(b("k"), b("k").prefixEnd(), Compare.Op.LESS, new Compare.Value(b("c")));
        assertThat(cmp(allLess)).isTrue();
        assertThat(cmp(allLessC)).isFalse();
        assertThat(cmp(new Compare(b("k"), Bytes.ZERO, Compare.Op.GREATER, new Compare.Create(1)))).isTrue();
        assertThat(cmp(new Compare(b("x"), b("y"), Compare.Op.EQUAL, new Compare.Value(Bytes.EMPTY)))).isFalse();
        assertThat(cmp(new Compare(b("x"), b("y"), Compare.Op.EQUAL, new Compare.Version(0)))).isTrue();
    }

    private boolean cmp(Compare c) {
        return ((TxnResponse) f.ok(new TxnRequest(List.of(c), List.of(), List.of()))).succeeded();
    }

    @Test
    void txnErrors() {
        f.put("a", "1");
        Command dupPut = new TxnRequest(List.of(), List.of(PutRequest.of(b("a"), b("1")), PutRequest.of(b("a"), b("2"))), List.of());
        assertThat(f.rejected(dupPut)).isEqualTo(MvccError.DUPLICATE_KEY);
        Command putInDelete = new TxnRequest(List.of(), List.of(),
                List.of(DeleteRangeRequest.of(b("a"), b("c")), PutRequest.of(b("b"), b("2"))));
        assertThat(f.rejected(putInDelete)).isEqualTo(MvccError.DUPLICATE_KEY);
        TxnRequest nestedPut = new TxnRequest(List.of(), List.of(PutRequest.of(b("n"), b("1"))), List.of());
        Command nestedDup = new TxnRequest(List.of(), List.of(PutRequest.of(b("n"), b("0")), nestedPut), List.of());
        assertThat(f.rejected(nestedDup)).isEqualTo(MvccError.DUPLICATE_KEY);
        // Alternative branches of a nested txn may write the same key; overlapping deletes are fine.
        TxnRequest alt = new TxnRequest(List.of(), List.of(PutRequest.of(b("n"), b("1"))), List.of(PutRequest.of(b("n"), b("2"))));
        f.ok(new TxnRequest(List.of(), List.of(alt, DeleteRangeRequest.single(b("a")), DeleteRangeRequest.of(b("a"), b("b"))), List.of()));
        assertThat(f.store.currentRevision()).isEqualTo(3);
        // A nested txn's then-put and else-delete of one key are alternatives: allowed.
        TxnRequest putOrDelete = new TxnRequest(List.of(), List.of(PutRequest.of(b("p"), b("1"))), List.of(DeleteRangeRequest.single(b("p"))));
        f.ok(new TxnRequest(List.of(), List.of(putOrDelete), List.of()));
        assertThat(f.get("p").version()).isEqualTo(1);
        // etcd lets a later sibling delete what an earlier nested txn put: two changes in one revision.
        TxnRequest putQ = new TxnRequest(List.of(), List.of(PutRequest.of(b("q"), b("1"))), List.of());
        TxnRequest delQ = new TxnRequest(List.of(), List.of(DeleteRangeRequest.single(b("q"))), List.of());
        TxnResponse both = (TxnResponse) f.ok(new TxnRequest(List.of(), List.of(putQ, delQ), List.of()));
        assertThat(both.revision()).isEqualTo(5);
        assertThat(f.store.range(RangeRequest.single(b("q"))).kvs()).isEmpty();
        assertThat(f.store.changesSince(5).events()).extracting(Event::type).containsExactly(Event.Type.PUT, Event.Type.DELETE);
        // ...but not the other way round, nor a top-level put against a nested delete.
        assertThat(f.rejected(new TxnRequest(List.of(), List.of(delQ, putQ), List.of()))).isEqualTo(MvccError.DUPLICATE_KEY);
        assertThat(f.rejected(new TxnRequest(List.of(), List.of(PutRequest.of(b("q"), b("2")), delQ), List.of())))
                .isEqualTo(MvccError.DUPLICATE_KEY);

        List<RequestOp> many = IntStream.range(0, 129).<RequestOp>mapToObj(i -> RangeRequest.single(b("k" + i))).toList();
        assertThat(f.rejected(new TxnRequest(List.of(), many, List.of()))).isEqualTo(MvccError.TOO_MANY_OPS);
        assertThat(f.rejected(new TxnRequest(List.of(), List.of(), many))).isEqualTo(MvccError.TOO_MANY_OPS);
        f.ok(new TxnRequest(List.of(), many.subList(0, 128), List.of()));
        assertThat(f.rejected(new TxnRequest(List.of(), List.of(new PutRequest(b("zz"), Bytes.EMPTY, 0, false, true, false)), List.of())))
                .isEqualTo(MvccError.KEY_NOT_FOUND);
        assertThat(f.rejected(new TxnRequest(List.of(), List.of(RangeRequest.all().atRevision(99)), List.of())))
                .isEqualTo(MvccError.FUTURE_REVISION);
        // A failing op late in the branch leaves nothing behind.
        assertThat(f.rejected(new TxnRequest(List.of(), List.of(PutRequest.of(b("q"), b("1")),
                new PutRequest(b("zz"), Bytes.EMPTY, 0, false, false, true)), List.of()))).isEqualTo(MvccError.KEY_NOT_FOUND);
        assertThat(f.store.range(RangeRequest.single(b("q"))).kvs()).isEmpty();
        assertThat(f.store.currentRevision()).isEqualTo(5);
    }

    @Test
    void nestedTxnComparesSeeStateBeforeTheTxn() {
        TxnRequest nested = new TxnRequest(List.of(Compare.of(b("a"), Compare.Op.EQUAL, new Compare.Version(0))),
                List.of(PutRequest.of(b("saw-missing"), b("y"))), List.of(PutRequest.of(b("saw-present"), b("y"))));
        TxnResponse r = (TxnResponse) f.ok(new TxnRequest(List.of(), List.of(PutRequest.of(b("a"), b("1")), nested), List.of()));
        assertThat(((TxnResponse) r.responses().get(1)).succeeded()).isTrue();
        assertThat(f.store.range(RangeRequest.single(b("saw-missing"))).kvs()).hasSize(1);
        assertThat(f.get("saw-missing").modRevision()).isEqualTo(2);
    }

    @Test
    void changeFeedCatchUpAndListener() {
        List<Long> revs = new ArrayList<>();
        f.store.addListener((rev, evs) -> revs.add(rev));
        f.put("a", "1");
        f.put("a", "2");
        f.del("a");
        f.del("a"); // nothing
        assertThat(revs).containsExactly(2L, 3L, 4L);
        Changes all = f.store.changesSince(1);
        assertThat(all.events()).hasSize(3);
        assertThat(all.nextRevision()).isEqualTo(5);
        Event del = all.events().get(2);
        assertThat(del.type()).isEqualTo(Event.Type.DELETE);
        assertThat(del.kv()).isEqualTo(new KeyValue(b("a"), 0, 4, 0, Bytes.EMPTY, 0));
        assertThat(del.prevKv()).contains(new KeyValue(b("a"), 2, 3, 2, b("2"), 0));
        assertThat(all.events().get(0).prevKv()).isEmpty();
        assertThat(f.store.changesSince(5).events()).isEmpty();
        assertThat(f.store.changesSince(5).nextRevision()).isEqualTo(5);
    }

    @Test
    void catchUpIsPagedByWholeRevisions() throws IOException {
        f.close();
        f = new StoreFixture(dir, MvccOptions.defaults().withMaxEventsPerCatchUp(2));
        f.ok(new TxnRequest(List.of(), List.of(PutRequest.of(b("a"), b("1")), PutRequest.of(b("b"), b("1")),
                PutRequest.of(b("c"), b("1"))), List.of()));
        f.put("d", "1");
        Changes first = f.store.changesSince(2);
        assertThat(first.events()).hasSize(3);
        assertThat(first.nextRevision()).isEqualTo(3);
        Changes second = f.store.changesSince(first.nextRevision());
        assertThat(second.events()).extracting(e -> e.kv().key()).containsExactly(b("d"));
        assertThat(second.nextRevision()).isEqualTo(4);
    }

    @Test
    void restartKeepsEverythingAndReplaysAreNoOps() throws IOException {
        f.put("a", "1");
        f.put("b", "2");
        f.del("a");
        f.ok(new CompactRequest(3));
        long applied = f.store.appliedIndex();
        assertThat(applied).isEqualTo(4);
        RangeResponse before = f.store.range(RangeRequest.all());
        f.reopen();
        assertThat(f.store.appliedIndex()).isEqualTo(applied);
        assertThat(f.store.currentRevision()).isEqualTo(4);
        assertThat(f.store.compactRevision()).isEqualTo(3);
        assertThat(f.store.range(RangeRequest.all())).isEqualTo(before);
        assertThat(f.store.apply(2, PutRequest.of(b("b"), b("other")))).isEqualTo(new Result.AlreadyApplied(4));
        assertThat(f.store.apply(4, PutRequest.of(b("z"), b("z")))).isEqualTo(new Result.AlreadyApplied(4));
        assertThat(f.store.range(RangeRequest.all())).isEqualTo(before);
        assertThat(f.put("c", "3").revision()).isEqualTo(5);
    }

    @Test
    void revisionNeverGoesBackAfterCompactingAwayTheNewestRows() throws IOException {
        f.put("a", "1"); // 2
        f.del("a"); // 3: the newest row is a tombstone
        f.ok(new CompactRequest(3));
        f.finishCompaction();
        assertThat(f.store.indexedKeys()).isZero();
        f.reopen();
        assertThat(f.store.currentRevision()).isEqualTo(3);
        assertThat(f.put("b", "1").revision()).isEqualTo(4);
    }

    @Test
    void interruptedCompactionResumesAfterRestart() throws IOException {
        f.close();
        f = new StoreFixture(dir, MvccOptions.defaults().withCompaction(3, 0));
        for (int i = 0; i < 10; i++) {
            f.put("k" + i, "a");
            f.put("k" + i, "b");
        }
        f.ok(new CompactRequest(f.store.currentRevision()));
        assertThat(f.store.runCompactionStep()).isTrue();
        f.reopen();
        assertThat(f.store.compactionPending()).isTrue();
        f.finishCompaction();
        assertThat(f.store.changesSince(f.store.compactRevision() + 1).events()).isEmpty();
        RangeResponse all = f.store.range(RangeRequest.all());
        assertThat(all.kvs()).hasSize(10).allMatch(kv -> kv.version() == 2 && kv.value().equals(b("b")));
        assertThat(f.store.range(RangeRequest.all().atRevision(f.store.compactRevision())).kvs()).hasSize(10);
    }

    @Test
    void markAppliedAdvancesIndexOnly() throws IOException {
        f.store.markApplied(10);
        f.reopen();
        assertThat(f.store.appliedIndex()).isEqualTo(10);
        assertThat(f.store.currentRevision()).isEqualTo(1);
        assertThat(f.store.apply(11, PutRequest.of(b("a"), b("1")))).isInstanceOf(Result.Applied.class);
        assertThat(f.store.range(RangeRequest.single(b("a"))).kvs()).extracting(KeyValue::modRevision).containsExactly(2L);
        assertThat(Optional.of(f.store.appliedIndex())).contains(11L);
    }
}
