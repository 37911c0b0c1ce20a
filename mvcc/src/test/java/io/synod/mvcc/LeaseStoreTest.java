package io.synod.mvcc;

import static io.synod.mvcc.StoreFixture.b;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The lease state machine inside the store: grants, attachment of keys, revocation, epochs, restart. */
class LeaseStoreTest {
    @TempDir Path tmp;
    StoreFixture f;
    final List<String> heard = new ArrayList<>();

    @BeforeEach
    void open() throws IOException {
        f = new StoreFixture(tmp.resolve("s"), MvccOptions.defaults());
        listen();
    }

    private void listen() {
        f.store.addLeaseListener((change, id, lease) -> heard.add(change + " " + id + lease.map(l -> " epoch " + l.epoch()).orElse("")));
    }

    @AfterEach
    void close() {
        f.close();
    }

    private PutResponse putWithLease(String k, String v, long lease) {
        return (PutResponse) f.ok(new PutRequest(b(k), b(v), lease, false, false, false));
    }

    @Test
    void putWithUnknownLeaseIsRejectedInPutAndTxn() {
        assertThat(f.rejected(new PutRequest(b("k"), b("v"), 42, false, false, false))).isEqualTo(MvccError.LEASE_NOT_FOUND);
        var txn = new TxnRequest(List.of(), List.of(new PutRequest(b("k"), b("v"), 42, false, false, false)), List.of());
        assertThat(f.rejected(txn)).isEqualTo(MvccError.LEASE_NOT_FOUND);
        assertThat(f.store.currentRevision()).isEqualTo(MvccStore.INITIAL_REVISION);
    }

    @Test
    void revokeDeletesAttachedKeysAtOneRevisionWithEvents() {
        f.ok(new LeaseCommand.Grant(7, 60));
        putWithLease("a", "1", 7);
        putWithLease("b", "2", 7);
        f.put("c", "3");
        putWithLease("d", "4", 7);
        f.ok(DeleteRangeRequest.single(b("d"))); // deleting detaches
        assertThat(f.store.leaseKeys(7)).containsExactly(b("a"), b("b"));
        long before = f.store.currentRevision();

        Result r = f.apply(new LeaseCommand.Revoke(7));
        assertThat(r).isInstanceOf(Result.Applied.class);
        var applied = (Result.Applied) r;
        assertThat(applied.response()).isEqualTo(new LeaseResponse(before + 1, 7, 60, true));
        assertThat(applied.events()).extracting(e -> e.kv().key()).containsExactly(b("a"), b("b"));
        assertThat(applied.events()).allMatch(e -> e.type() == Event.Type.DELETE && e.revision().main() == before + 1);
        assertThat(f.store.range(RangeRequest.all()).kvs()).extracting(KeyValue::key).containsExactly(b("c"));
        assertThat(f.store.lease(7)).isEmpty();
        assertThat(f.rejected(new LeaseCommand.Revoke(7))).isEqualTo(MvccError.LEASE_NOT_FOUND);
        assertThat(heard).containsExactly("GRANTED 7 epoch 1", "REVOKED 7");
    }

    @Test
    void reattachingMovesAKeyBetweenLeasesAndIgnoreLeaseKeepsIt() {
        f.ok(new LeaseCommand.Grant(1, 60));
        f.ok(new LeaseCommand.Grant(2, 60));
        putWithLease("k", "v", 1);
        putWithLease("k", "w", 2);
        assertThat(f.store.leaseKeys(1)).isEmpty();
        assertThat(f.store.leaseKeys(2)).containsExactly(b("k"));
        f.ok(new PutRequest(b("k"), b("x"), 0, false, false, true));
        assertThat(f.store.leaseKeys(2)).containsExactly(b("k"));
        assertThat(f.get("k").lease()).isEqualTo(2);
        f.put("k", "plain"); // lease 0 detaches
        assertThat(f.store.leaseKeys(2)).isEmpty();
        f.ok(new LeaseCommand.Revoke(2));
        assertThat(f.get("k").value()).isEqualTo(b("plain"));
    }

    @Test
    void duplicateGrantIsRefused() {
        f.ok(new LeaseCommand.Grant(5, 10));
        assertThat(f.rejected(new LeaseCommand.Grant(5, 20))).isEqualTo(MvccError.LEASE_EXISTS);
        assertThat(f.store.lease(5)).contains(new Lease(5, 10, 10_000, 1));
    }

    @Test
    void renewalMovesTheEpochSoStaleExpiriesAndCheckpointsAreIgnored() {
        f.ok(new LeaseCommand.Grant(9, 30)); // index 1
        putWithLease("k", "v", 9); // index 2
        f.ok(new LeaseCommand.Checkpoint(List.of(new LeaseCommand.Remaining(9, 1, 12_000)))); // index 3
        assertThat(f.store.lease(9)).contains(new Lease(9, 30, 12_000, 1));
        assertThat(f.ok(new LeaseCommand.Renew(9))).isEqualTo(new LeaseResponse(f.store.currentRevision(), 9, 30, true)); // index 4
        assertThat(f.store.lease(9)).contains(new Lease(9, 30, 30_000, 4));

        // Decided before the renewal was applied: both must be no-ops.
        assertThat(f.ok(new LeaseCommand.Checkpoint(List.of(new LeaseCommand.Remaining(9, 1, 1))))).extracting(r -> ((LeaseResponse) r).found())
                .isEqualTo(false);
        assertThat(f.ok(new LeaseCommand.Expire(9, 1))).extracting(r -> ((LeaseResponse) r).found()).isEqualTo(false);
        assertThat(f.get("k").value()).isEqualTo(b("v"));
        assertThat(f.store.lease(9)).contains(new Lease(9, 30, 30_000, 4));

        // A checkpoint never claims more than the TTL; a current expiry revokes.
        f.ok(new LeaseCommand.Checkpoint(List.of(new LeaseCommand.Remaining(9, 4, 99_000_000))));
        assertThat(f.store.lease(9).orElseThrow().remainingMillis()).isEqualTo(30_000);
        assertThat(f.ok(new LeaseCommand.Expire(9, 4))).extracting(r -> ((LeaseResponse) r).found()).isEqualTo(true);
        assertThat(f.store.range(RangeRequest.single(b("k"))).kvs()).isEmpty();
        assertThat(f.ok(new LeaseCommand.Renew(9))).isEqualTo(new LeaseResponse(f.store.currentRevision(), 9, 0, false));
    }

    @Test
    void aLeaseWithManyKeysIsRevokedInBoundedSteps() throws IOException {
        f.close();
        f = new StoreFixture(tmp.resolve("small"), MvccOptions.defaults().withLeaseRevokeKeysMax(2));
        listen();
        f.ok(new LeaseCommand.Grant(1, 60));
        for (String k : List.of("a", "b", "c", "d", "e")) putWithLease(k, "v", 1);
        long rev = f.store.currentRevision();
        assertThat(f.ok(new LeaseCommand.Revoke(1))).isEqualTo(new LeaseResponse(rev + 1, 1, 60, true, false));
        // Dead to clients from the first step: no new keys, no renewal, not listed.
        assertThat(f.rejected(new PutRequest(b("z"), b("v"), 1, false, false, false))).isEqualTo(MvccError.LEASE_NOT_FOUND);
        assertThat(f.ok(new LeaseCommand.Renew(1))).isEqualTo(new LeaseResponse(rev + 1, 1, 0, false));
        assertThat(f.store.leases()).isEmpty();
        assertThat(f.store.revokingLeases()).extracting(Lease::id).containsExactly(1L);
        f.reopen(); // the revoking mark is durable
        assertThat(f.store.revokingLeases()).extracting(Lease::id).containsExactly(1L);
        assertThat(f.store.leaseKeys(1)).containsExactly(b("c"), b("d"), b("e"));
        assertThat(f.ok(new LeaseCommand.Revoke(1))).isEqualTo(new LeaseResponse(rev + 2, 1, 60, true, false));
        assertThat(f.ok(new LeaseCommand.Revoke(1))).isEqualTo(new LeaseResponse(rev + 3, 1, 60, true, true));
        assertThat(f.store.range(RangeRequest.all()).kvs()).isEmpty();
        assertThat(f.store.lease(1)).isEmpty();
        assertThat(f.rejected(new LeaseCommand.Revoke(1))).isEqualTo(MvccError.LEASE_NOT_FOUND);
    }

    @Test
    void leasesAndAttachmentsSurviveRestart() throws IOException {
        f.ok(new LeaseCommand.Grant(3, 100));
        f.ok(new LeaseCommand.Grant(-4, 5));
        putWithLease("x", "1", 3);
        putWithLease("y", "1", -4);
        putWithLease("z", "1", 3);
        f.ok(new LeaseCommand.Checkpoint(List.of(new LeaseCommand.Remaining(3, 1, 40_000))));
        List<Lease> before = f.store.leases();
        f.reopen();
        heard.clear();
        listen();
        assertThat(f.store.leases()).isEqualTo(before).extracting(Lease::id).containsExactly(-4L, 3L);
        assertThat(f.store.lease(3)).contains(new Lease(3, 100, 40_000, 1));
        assertThat(f.store.leaseKeys(3)).containsExactly(b("x"), b("z"));
        assertThat(f.store.leaseKeys(-4)).containsExactly(b("y"));
        f.ok(new LeaseCommand.Revoke(3));
        assertThat(f.store.range(RangeRequest.all()).kvs()).extracting(KeyValue::key).containsExactly(b("y"));
        assertThat(heard).containsExactly("REVOKED 3");
        assertThat(f.store.lease(77)).isEqualTo(Optional.empty());
    }
}
