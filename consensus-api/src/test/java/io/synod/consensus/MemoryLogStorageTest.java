package io.synod.consensus;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class MemoryLogStorageTest {
    private static Entry e(long term, long index) {
        return Entry.normal(term, index, new byte[] {(byte) index});
    }

    @Test
    void appendOverwritesConflictingSuffix() {
        var s = new MemoryLogStorage(ConfState.ofVoters(Set.of(1L)));
        s.append(List.of(e(1, 1), e(1, 2), e(1, 3)));
        s.append(List.of(e(2, 2)));
        assertThat(s.lastIndex()).isEqualTo(2);
        assertThat(s.term(2)).isEqualTo(2);
        assertThatThrownBy(() -> s.append(List.of(e(2, 5)))).hasMessageContaining("gap");
    }

    @Test
    void snapshotCompactsAndTermOfSnapshotIndexStillAnswers() {
        var s = new MemoryLogStorage(ConfState.ofVoters(Set.of(1L)));
        s.append(List.of(e(1, 1), e(1, 2), e(2, 3), e(2, 4)));
        s.createSnapshot(3, ConfState.ofVoters(Set.of(1L)), new byte[0]);
        assertThat(s.firstIndex()).isEqualTo(4);
        assertThat(s.term(3)).isEqualTo(2);
        assertThat(s.entries(4, 5, Long.MAX_VALUE)).containsExactly(e(2, 4));
        assertThatThrownBy(() -> s.entries(2, 4, Long.MAX_VALUE)).isInstanceOf(LogStorage.CompactedException.class);
    }

    @Test
    void entriesRespectsByteLimitButReturnsAtLeastOne() {
        var s = new MemoryLogStorage(ConfState.ofVoters(Set.of(1L)));
        s.append(List.of(e(1, 1), e(1, 2), e(1, 3)));
        assertThat(s.entries(1, 4, 1)).hasSize(1);
        assertThat(s.entries(1, 4, 50)).hasSize(2);
    }
}
