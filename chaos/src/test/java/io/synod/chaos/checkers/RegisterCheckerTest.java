package io.synod.chaos.checkers;

import static org.assertj.core.api.Assertions.assertThat;

import io.synod.check.Operation;
import io.synod.check.Verdict;
import io.synod.check.kv.KvInput;
import io.synod.check.kv.KvModel;
import io.synod.check.kv.KvOutput;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The register check reports a stale read and a lost write, and passes a correct history with indeterminate writes. */
class RegisterCheckerTest {
    static Operation<KvInput, KvOutput> put(int c, String k, long v, long from, long to) {
        return Operation.ok(c, new KvInput.Put(k, v), new KvOutput.PutOk(), from, to);
    }

    static Operation<KvInput, KvOutput> get(int c, String k, long v, long from, long to) {
        return Operation.ok(c, new KvInput.Get(k), new KvOutput.GetResult(v), from, to);
    }

    @Test
    void staleReadIsReported() {
        // put 1, then put 2 completes, then a read strictly later still sees 1.
        var h = List.of(put(0, "k", 1, 0, 10), put(0, "k", 2, 20, 30), get(1, "k", 1, 40, 50));
        var r = RegisterChecker.check(h, 10_000);
        assertThat(r.verdict()).isEqualTo(Verdict.NOT_LINEARIZABLE);
        var v = RegisterChecker.violation(r);
        assertThat(v).isPresent();
        assertThat(v.get().kind()).isEqualTo("not-linearizable");
        assertThat(v.get().window()).contains("get(k)");
    }

    @Test
    void lostWriteIsReported() {
        // An acknowledged put is never visible: a later read finds the key absent.
        var h = List.of(put(0, "k", 7, 0, 10), get(1, "k", KvModel.ABSENT, 20, 30));
        assertThat(RegisterChecker.violation(RegisterChecker.check(h, 10_000))).isPresent();
    }

    @Test
    void indeterminateWriteThatLandedLaterIsFine() {
        var h = List.of(put(0, "k", 1, 0, 10), Operation.<KvInput, KvOutput>unknown(1, new KvInput.Put("k", 2), 15),
                get(2, "k", 1, 20, 30), get(2, "k", 2, 40, 50));
        var r = RegisterChecker.check(h, 10_000);
        assertThat(r.verdict()).isEqualTo(Verdict.LINEARIZABLE);
        assertThat(RegisterChecker.violation(r)).isEmpty();
    }
}
