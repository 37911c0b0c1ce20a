package io.synod.server.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.Drainable;
import io.grpc.KnownLength;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import org.junit.jupiter.api.Test;

class WireBytesTest {
    /** Like gRPC's incoming message streams: says how many bytes are left. */
    private static final class Known extends ByteArrayInputStream implements KnownLength {
        private final int claimed;

        Known(byte[] b, int claimed) {
            super(b);
            this.claimed = claimed;
        }

        @Override
        public synchronized int available() {
            return Math.max(0, claimed - pos);
        }
    }

    @Test
    void anOutgoingArrayIsDrainedInOneWriteWithItsLengthKnown() throws IOException {
        byte[] b = {1, 2, 3, 4, 5};
        InputStream s = WireBytes.stream(b);
        assertThat(s).isInstanceOf(Drainable.class).isInstanceOf(KnownLength.class);
        assertThat(s.available()).isEqualTo(5);
        var out = new ByteArrayOutputStream() {
            int writes;

            @Override
            public synchronized void write(byte[] b, int off, int len) {
                writes++;
                super.write(b, off, len);
            }
        };
        assertThat(((Drainable) s).drainTo(out)).isEqualTo(5);
        assertThat(out.writes).isEqualTo(1);
        assertThat(out.toByteArray()).containsExactly(1, 2, 3, 4, 5);
        assertThat(s.read()).isEqualTo(-1);
    }

    @Test
    void aStreamOfKnownLengthIsReadWhole() throws IOException {
        assertThat(WireBytes.read(new Known(new byte[] {9, 8, 7}, 3))).containsExactly(9, 8, 7);
        assertThat(WireBytes.read(new Known(new byte[0], 0))).isEmpty();
    }

    @Test
    void aStreamLongerThanItSaidLosesNoByte() throws IOException {
        assertThat(WireBytes.read(new Known(new byte[] {1, 2, 3, 4}, 2))).containsExactly(1, 2, 3, 4);
    }

    @Test
    void aStreamShorterThanItSaidIsAnError() {
        assertThatThrownBy(() -> WireBytes.read(new Known(new byte[] {1, 2}, 5))).isInstanceOf(IOException.class)
                .hasMessageContaining("2 of its 5");
    }

    @Test
    void aPlainStreamIsReadToItsEnd() throws IOException {
        assertThat(WireBytes.read(new ByteArrayInputStream(new byte[] {4, 5, 6}))).containsExactly(4, 5, 6);
        assertThat(WireBytes.read(WireBytes.stream(new byte[] {7}))).containsExactly(7);
    }
}
