package io.synod.server.transport;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import io.synod.consensus.ConfState;
import io.synod.consensus.Snapshot;
import io.synod.consensus.SnapshotMeta;
import io.synod.mvcc.Bytes;
import io.synod.mvcc.MvccOptions;
import io.synod.mvcc.MvccSnapshot;
import io.synod.mvcc.MvccStore;
import io.synod.mvcc.PutRequest;
import io.synod.mvcc.RangeRequest;
import io.synod.mvcc.SnapshotChunk;
import io.synod.raft.RaftMessage;
import io.synod.raft.RaftMessage.SnapshotRequest;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The chunked snapshot transfer without a network: frames go straight into the receiving side's
 * stream observer. A complete stream is staged and handed to the Raft member; a corrupted chunk,
 * a chunk out of order, a stream without header or one cut short is refused and nothing reaches
 * the Raft member; the sender refuses (and reports) sends beyond its limit at once.
 */
class SnapshotTransferTest {
    static final long LOCAL = 2, LEADER = 1;
    static final SnapshotLimits LIMITS = SnapshotLimits.DEFAULTS.withChunkBytes(2048);

    @TempDir Path tmp;
    MvccStore source;
    final List<RaftMessage> delivered = new CopyOnWriteArrayList<>();

    /** What the receiving side answered. */
    static final class Answer implements StreamObserver<byte[]> {
        volatile boolean completed;
        volatile Status error;

        @Override public void onNext(byte[] value) {}
        @Override public void onError(Throwable t) { error = Status.fromThrowable(t); }
        @Override public void onCompleted() { completed = true; }
    }

    @BeforeEach
    void fill() throws IOException {
        source = MvccStore.open(tmp.resolve("source"), MvccOptions.defaults());
        for (int i = 1; i <= 200; i++) source.apply(i, PutRequest.of(Bytes.utf8("key" + i), Bytes.utf8("value-" + i + "-".repeat(40))));
    }

    SnapshotRequest request(long index) {
        return new SnapshotRequest(LEADER, LOCAL, 3, new Snapshot(new SnapshotMeta(index, 2, ConfState.ofVoters(Set.of(1L, 2L, 3L))), new byte[0]));
    }

    List<byte[]> frames(SnapshotRequest request) throws IOException {
        var out = new ArrayList<byte[]>();
        out.add(SnapshotFrames.header(request));
        try (MvccSnapshot s = source.snapshot(LIMITS.chunkBytes())) {
            while (!s.finished()) out.add(SnapshotFrames.chunk(s.nextChunk()));
        }
        return out;
    }

    SnapshotInbox inbox() throws IOException {
        return new SnapshotInbox(LOCAL, tmp.resolve("snap"), LIMITS, delivered::add);
    }

    static Answer play(SnapshotInbox inbox, List<byte[]> frames) {
        var answer = new Answer();
        StreamObserver<byte[]> in = inbox.receive(answer);
        for (byte[] f : frames) in.onNext(f);
        in.onCompleted();
        return answer;
    }

    @Test
    void completeStreamIsStagedThenHandedToTheRaftMember() throws IOException {
        SnapshotInbox inbox = inbox();
        List<byte[]> frames = frames(request(150));
        assertThat(frames.size()).isGreaterThan(3);
        Answer a = play(inbox, frames);
        assertThat(a.error).isNull();
        assertThat(a.completed).isTrue();
        assertThat(delivered).singleElement().isInstanceOfSatisfying(SnapshotRequest.class, s -> {
            assertThat(s.snapshot().meta().index()).isEqualTo(150);
            assertThat(s.from()).isEqualTo(LEADER);
        });
        assertThat(inbox.take(201)).isEmpty(); // the state holds 200, not more
        var staged = inbox.take(150).orElseThrow();
        assertThat(staged.appliedIndex()).isEqualTo(200);
        try (MvccStore copy = MvccStore.open(staged.dir(), MvccOptions.defaults())) {
            assertThat(copy.range(RangeRequest.all())).isEqualTo(source.range(RangeRequest.all()));
        }
        assertThat(inbox.take(150)).isEmpty(); // taken once
    }

    @Test
    void corruptedChunkIsRejected() throws IOException {
        SnapshotInbox inbox = inbox();
        List<byte[]> frames = frames(request(150));
        byte[] chunk = frames.get(2).clone();
        chunk[chunk.length - 5] ^= 0x40; // a data byte: the chunk's CRC no longer matches
        frames.set(2, chunk);
        Answer a = play(inbox, frames);
        assertThat(a.completed).isFalse();
        assertThat(a.error.getCode()).isEqualTo(Status.Code.DATA_LOSS);
        assertThat(a.error.getDescription()).contains("checksum");
        assertThat(delivered).isEmpty();
        assertThat(inbox.take(0)).isEmpty();
    }

    @Test
    void outOfOrderChunkIsRejected() throws IOException {
        SnapshotInbox inbox = inbox();
        List<byte[]> frames = frames(request(150));
        byte[] second = frames.get(2);
        frames.set(2, frames.get(3));
        frames.set(3, second);
        Answer a = play(inbox, frames);
        assertThat(a.error.getCode()).isEqualTo(Status.Code.DATA_LOSS);
        assertThat(a.error.getDescription()).contains("expected chunk 1");
        assertThat(delivered).isEmpty();
    }

    @Test
    void streamWithoutHeaderOrCutShortIsRejectedAndTheNextOneWorks() throws IOException {
        SnapshotInbox inbox = inbox();
        List<byte[]> frames = frames(request(150));
        Answer noHeader = play(inbox, frames.subList(1, frames.size()));
        assertThat(noHeader.error.getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
        Answer cut = play(inbox, frames.subList(0, frames.size() - 1));
        assertThat(cut.error.getCode()).isEqualTo(Status.Code.DATA_LOSS);
        assertThat(delivered).isEmpty();
        assertThat(inbox.rejectedCount()).isEqualTo(2);
        // Failed streams gave their receive slot back.
        assertThat(play(inbox, frames).completed).isTrue();
        assertThat(delivered).hasSize(1);
    }

    @Test
    void stateOlderThanTheRequestedIndexIsRejected() throws IOException {
        Answer a = play(inbox(), frames(request(250)));
        assertThat(a.error.getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
        assertThat(delivered).isEmpty();
    }

    @Test
    void receiveLimitRefusesASecondConcurrentStream() throws IOException {
        SnapshotInbox inbox = inbox();
        var first = new Answer();
        StreamObserver<byte[]> open = inbox.receive(first);
        open.onNext(frames(request(150)).get(0));
        var second = new Answer();
        inbox.receive(second);
        assertThat(second.error.getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
        open.onError(Status.CANCELLED.asRuntimeException());
        assertThat(first.error).isNull();
    }

    @Test
    void senderRefusesBeyondItsLimitAndReportsEveryRequest() throws Exception {
        var reports = new CopyOnWriteArrayList<String>();
        var started = new CountDownLatch(1);
        var release = new CountDownLatch(1);
        SnapshotSender.Source blocking = chunkBytes -> {
            started.countDown();
            try {
                release.await(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            throw new IOException("no state in this test");
        };
        try (var sender = new SnapshotSender(LIMITS.withSendsMax(1), peer -> {
            throw new AssertionError("no channel needed");
        }, blocking, (peer, ok) -> reports.add(peer + ":" + ok))) {
            sender.send(new SnapshotRequest(1, 2, 3, request(150).snapshot()));
            assertThat(started.await(30, TimeUnit.SECONDS)).isTrue();
            sender.send(new SnapshotRequest(1, 3, 3, request(150).snapshot())); // beyond the limit of one
            sender.send(new SnapshotRequest(1, 2, 3, request(150).snapshot())); // peer 2 already in progress
            assertThat(reports).containsExactly("3:false", "2:false");
            assertThat(sender.refusedCount()).isEqualTo(2);
            release.countDown();
            for (int i = 0; i < 3000 && reports.size() < 3; i++) Thread.sleep(10);
            assertThat(reports).containsExactly("3:false", "2:false", "2:false");
            assertThat(sender.sentCount()).isZero();
        }
    }

    @Test
    void framesRoundTripAndMalformedOnesAreRefused() {
        var chunk = new SnapshotChunk(7, 3, new byte[] {1, 2, 3}, 42, true);
        var decoded = (SnapshotFrames.Chunk) SnapshotFrames.decode(SnapshotFrames.chunk(chunk));
        assertThat(decoded.chunk().appliedIndex()).isEqualTo(7);
        assertThat(decoded.chunk().seq()).isEqualTo(3);
        assertThat(decoded.chunk().data()).containsExactly(1, 2, 3);
        assertThat(decoded.chunk().crc()).isEqualTo(42);
        assertThat(decoded.chunk().last()).isTrue();
        var header = (SnapshotFrames.Header) SnapshotFrames.decode(SnapshotFrames.header(request(9)));
        assertThat(header.request().snapshot().meta()).isEqualTo(request(9).snapshot().meta());
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> SnapshotFrames.decode(new byte[] {9}))
                .isInstanceOf(IllegalArgumentException.class);
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> SnapshotFrames.decode(new byte[] {SnapshotFrames.CHUNK, 0, 0}))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @org.junit.jupiter.api.AfterEach
    void close() {
        source.close();
    }
}
