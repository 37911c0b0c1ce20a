package io.synod.common;

import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class AssertTest {
    @Test
    void failingInvariantNamesTheValues() {
        assertThatThrownBy(() -> Assert.that(7 <= 5, "commit %d > last %d", 7, 5))
                .isInstanceOf(Assert.InvariantViolation.class)
                .hasMessage("commit 7 > last 5");
    }

    @Test
    void holdingInvariantDoesNothing() {
        assertThatCode(() -> Assert.that(true, "never %d", 1)).doesNotThrowAnyException();
    }
}
