package io.synod.chaos.checkers;

import static org.assertj.core.api.Assertions.assertThat;

import io.synod.chaos.checkers.LockChecker.FencedWrite;
import io.synod.chaos.checkers.LockChecker.KeyLife;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The lock check reports overlapping holders, writes out of token order, dead tokens and lost fenced writes. */
class LockCheckerTest {
    static FencedWrite w(long rev, long token) {
        return new FencedWrite(rev, token, token + ":x:" + rev);
    }

    @Test
    void orderlyHoldersPass() {
        var keys = List.of(new KeyLife("l/1", 10, 14), new KeyLife("l/2", 12, 20));
        var writes = List.of(w(11, 10), w(13, 10), w(15, 12), w(16, 12));
        assertThat(LockChecker.check(keys, writes, writes)).isEmpty();
    }

    @Test
    void overlappingHoldersAreReported() {
        // Holder 12 writes at 13 while holder 10's key lives until 14: two holders at once.
        var keys = List.of(new KeyLife("l/1", 10, 14), new KeyLife("l/2", 12, 20));
        var writes = List.of(w(11, 10), w(13, 12));
        var v = LockChecker.check(keys, writes, writes);
        assertThat(v).extracting(Violation::kind).containsExactly("overlapping-holders");
        assertThat(v.get(0).detail()).contains("token 12").contains("l/1");
    }

    @Test
    void interleavedWritesAreReportedAsFencingOrder() {
        // Holder 10 writes again after holder 12 has written: an unfenced late write.
        var keys = List.of(new KeyLife("l/1", 10, 40), new KeyLife("l/2", 12, 40));
        var writes = List.of(w(15, 12), w(16, 10));
        var v = LockChecker.check(keys, writes, List.of());
        assertThat(v).extracting(Violation::kind).contains("fencing-order");
    }

    @Test
    void writeByAHolderWhoseKeyIsGoneIsReported() {
        var keys = List.of(new KeyLife("l/1", 10, 12));
        var writes = List.of(w(13, 10));
        assertThat(LockChecker.check(keys, writes, List.of())).extracting(Violation::kind).containsExactly("dead-token");
    }

    @Test
    void lostFencedWriteIsReported() {
        var keys = List.of(new KeyLife("l/1", 10, 20));
        assertThat(LockChecker.check(keys, List.of(w(11, 10)), List.of(w(11, 10), w(12, 10))))
                .extracting(Violation::kind).containsExactly("lost-fenced-write");
    }
}
