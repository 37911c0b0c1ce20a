package io.synod.consensus;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

class ConfChangeTest {
    @Test
    void encodesAndDecodesEveryField() {
        var cc = new ConfChange(List.of(
                new ConfChange.Change(ConfChange.Type.ADD_VOTER, 4),
                new ConfChange.Change(ConfChange.Type.ADD_LEARNER, 5),
                new ConfChange.Change(ConfChange.Type.REMOVE, 1)), true);
        assertThat(ConfChange.decode(cc.encode())).isEqualTo(cc);
        assertThat(ConfChange.decode(ConfChange.LEAVE_JOINT.encode()).isLeaveJoint()).isTrue();
    }

    @Test
    void rejectsTruncatedOrCorruptBytes() {
        byte[] good = ConfChange.of(ConfChange.Type.ADD_VOTER, 2).encode();
        byte[] truncated = java.util.Arrays.copyOf(good, good.length - 1);
        assertThatThrownBy(() -> ConfChange.decode(truncated)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("does not match");
        byte[] badType = good.clone();
        badType[6] = 9;
        assertThatThrownBy(() -> ConfChange.decode(badType)).hasMessageContaining("unknown ConfChange type 9");
    }

    @Test
    void carriesAnOpaqueContextInVersion2AndStillWritesVersion1WithoutOne() {
        byte[] context = {7, 0, 42};
        var cc = ConfChange.of(ConfChange.Type.ADD_LEARNER, 4).withContext(context);
        byte[] wire = cc.encode();
        assertThat(wire[0]).isEqualTo((byte) 2);
        assertThat(ConfChange.decode(wire)).isEqualTo(cc);
        assertThat(ConfChange.decode(wire).context()).containsExactly(7, 0, 42);
        context[0] = 9; // the record copied it
        assertThat(cc.context()[0]).isEqualTo((byte) 7);
        // Without context the bytes are exactly version 1's: old logs decode, old members read new ones.
        byte[] v1 = ConfChange.of(ConfChange.Type.ADD_VOTER, 2).encode();
        assertThat(v1).hasSize(15);
        assertThat(v1[0]).isEqualTo((byte) 1);
        assertThat(ConfChange.decode(v1).context()).isEmpty();
        assertThat(ConfChange.decode(ConfChange.of(ConfChange.Type.UPDATE, 3).withContext(context).encode()).isUpdateOnly()).isTrue();
    }

    @Test
    void rejectsACorruptContextLength() {
        byte[] good = ConfChange.of(ConfChange.Type.ADD_VOTER, 2).withContext(new byte[] {1, 2}).encode();
        assertThatThrownBy(() -> ConfChange.decode(java.util.Arrays.copyOf(good, good.length - 1)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("context length");
        assertThatThrownBy(() -> ConfChange.LEAVE_JOINT.withContext(new byte[] {1})).hasMessageContaining("no context");
    }
}
