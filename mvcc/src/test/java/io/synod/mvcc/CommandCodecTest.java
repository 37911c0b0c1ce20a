package io.synod.mvcc;

import static io.synod.mvcc.StoreFixture.b;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class CommandCodecTest {
    private final CommandCodec codec = new CommandCodec(CommandCodec.Limits.defaults());

    @Test
    void randomCommandsRoundTripAndEveryTruncationFails() {
        long seed = new SplittableRandom().nextLong();
        SplittableRandom rnd = new SplittableRandom(seed);
        RandomCommands gen = new RandomCommands(rnd);
        for (int i = 0; i < 2000; i++) {
            long current = 1 + rnd.nextInt(50);
            Command c = gen.command(current, rnd.nextLong(current));
            byte[] bytes = codec.encode(c);
            assertThat(codec.decode(bytes)).as("seed %d", seed).isEqualTo(c);
            int cut = rnd.nextInt(bytes.length);
            assertThatThrownBy(() -> codec.decode(Arrays.copyOf(bytes, cut)))
                    .as("seed %d cut %d", seed, cut).isInstanceOf(CommandCodec.CodecException.class);
        }
    }

    @Test
    void garbageFailsWithCodecExceptionOnly() {
        long seed = new SplittableRandom().nextLong();
        SplittableRandom rnd = new SplittableRandom(seed);
        for (int i = 0; i < 20_000; i++) {
            byte[] junk = new byte[rnd.nextInt(40)];
            rnd.nextBytes(junk);
            if (junk.length > 0 && rnd.nextBoolean()) junk[0] = CommandCodec.FORMAT;
            try {
                Command c = codec.decode(junk);
                assertThat(codec.encode(c)).as("seed %d: accepted garbage must be canonical", seed).isEqualTo(junk);
            } catch (CommandCodec.CodecException expected) {
                // fine: refused with a clear error
            }
        }
    }

    @Test
    void extremesRoundTrip() {
        List<Command> cs = List.of(
                new CompactRequest(Long.MAX_VALUE), new CompactRequest(-1),
                new PutRequest(b("k"), Bytes.copyOf(new byte[70_000]), Long.MIN_VALUE, true, true, true),
                new TxnRequest(List.of(new Compare(b("a"), Bytes.ZERO, Compare.Op.NOT_EQUAL, new Compare.Value(Bytes.EMPTY))),
                        List.of(new TxnRequest(List.of(), List.of(RangeRequest.all().withLimit(Long.MAX_VALUE)), List.of())),
                        List.of(DeleteRangeRequest.of(b("a"), b("b")).withPrevKv())));
        for (Command c : cs) assertThat(codec.decode(codec.encode(c))).isEqualTo(c);
    }

    @Test
    void leaseCommandsRoundTrip() {
        List<Command> cs = List.of(new LeaseCommand.Grant(Long.MIN_VALUE, Lease.MAX_TTL_SECONDS), new LeaseCommand.Grant(-1, 1),
                new LeaseCommand.Revoke(Long.MAX_VALUE), new LeaseCommand.Renew(7), new LeaseCommand.Expire(7, Long.MAX_VALUE),
                new LeaseCommand.Checkpoint(List.of()),
                new LeaseCommand.Checkpoint(List.of(new LeaseCommand.Remaining(1, 2, 0), new LeaseCommand.Remaining(-5, 9, 123_456))));
        for (Command c : cs) assertThat(codec.decode(codec.encode(c))).isEqualTo(c);
    }

    @Test
    void clearErrors() {
        assertThatThrownBy(() -> codec.decode(new byte[0])).hasMessageContaining("truncated reading format");
        assertThatThrownBy(() -> codec.decode(new byte[] {9, 1})).hasMessageContaining("unknown command format 9");
        assertThatThrownBy(() -> codec.decode(new byte[] {1, 77})).hasMessageContaining("unknown command tag 77");
        assertThatThrownBy(() -> codec.decode(new byte[] {1, 16})).hasMessageContaining("truncated reading grant lease id");
        assertThatThrownBy(() -> codec.decode(new byte[] {1, 16, 0, 2})).hasMessageContaining("grant of lease id 0");
        assertThatThrownBy(() -> codec.decode(new byte[] {1, 16, 2, 0})).hasMessageContaining("grant ttl 0 is not positive");
        assertThatThrownBy(() -> codec.decode(new byte[] {1, 20, 1, 2, 2, 1})).hasMessageContaining("checkpoint remaining -1 is negative");
        assertThatThrownBy(() -> codec.decode(new byte[] {1, 31})).hasMessageContaining("unknown command tag 31");
        byte[] ok = codec.encode(new CompactRequest(5));
        byte[] trailing = Arrays.copyOf(ok, ok.length + 1);
        assertThatThrownBy(() -> codec.decode(trailing)).hasMessageContaining("1 trailing bytes");
        assertThatThrownBy(() -> codec.decode(new byte[] {1, 4, (byte) 0x8a, 0})).hasMessageContaining("non-minimal varint");
        byte[] overflow = {1, 4, -1, -1, -1, -1, -1, -1, -1, -1, -1, 2};
        assertThatThrownBy(() -> codec.decode(overflow)).hasMessageContaining("overflows 64 bits");
        // A key length far beyond what is there, and beyond the limit.
        assertThatThrownBy(() -> codec.decode(new byte[] {1, 1, (byte) 0xff, (byte) 0xff, 0x7f}))
                .isInstanceOf(CommandCodec.CodecException.class).hasMessageContaining("exceeds limit");
        CommandCodec tight = new CommandCodec(new CommandCodec.Limits(4, 4, 2, 1));
        assertThatThrownBy(() -> tight.decode(codec.encode(PutRequest.of(b("toolong"), b("v")))))
                .hasMessageContaining("put key length 7 exceeds limit 4");
        TxnRequest nested = new TxnRequest(List.of(), List.of(new TxnRequest(List.of(), List.of(), List.of())), List.of());
        assertThatThrownBy(() -> tight.decode(codec.encode(nested))).hasMessageContaining("nesting deeper than 1");
        TxnRequest wide = new TxnRequest(List.of(), List.of(RangeRequest.all(), RangeRequest.all(), RangeRequest.all()), List.of());
        assertThatThrownBy(() -> tight.decode(codec.encode(wide))).hasMessageContaining("op count 3 exceeds limit 2");
    }
}
