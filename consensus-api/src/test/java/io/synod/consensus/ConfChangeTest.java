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
}
