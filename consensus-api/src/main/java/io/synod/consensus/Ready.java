package io.synod.consensus;

import java.util.List;

/**
 * Everything the core wants done, collected since the last {@link ConsensusNode#advance}.
 * The driver handles a Ready in this order:
 * <ol>
 *   <li>{@code earlyMessages} may be sent at once, in parallel with the disk write: they are a
 *       leader's replication traffic and promise nothing about its own disk;</li>
 *   <li>persist {@code snapshot} (if not empty), {@code entries} and {@code hardState} (if not
 *       empty) — durably when {@code mustSync};</li>
 *   <li>then send {@code messages} (votes and acknowledgements must never leave before what they
 *       promise is durable);</li>
 *   <li>apply {@code committedEntries} in order and serve {@code readStates} once applied. A
 *       prefix of {@code committedEntries} that the driver's log already held durably before this
 *       Ready (below the first of this Ready's {@code entries}) may be applied before step 2: it is
 *       committed and on this member's disk, so nothing in step 2 can change it;</li>
 *   <li>call {@link ConsensusNode#advance(Ready)}.</li>
 * </ol>
 *
 * @param softState     the role and leader now, if changed since the last Ready (else the same value)
 * @param readsAborted  request contexts of reads that will never get a {@link ReadState} (leader lost)
 */
public record Ready(
        SoftState softState,
        HardState hardState,
        List<Entry> entries,
        Snapshot snapshot,
        List<Message> earlyMessages,
        List<Message> messages,
        List<Entry> committedEntries,
        List<ReadState> readStates,
        List<byte[]> readsAborted,
        boolean mustSync) {

    public boolean isEmpty() {
        return hardState.isEmpty() && entries.isEmpty() && snapshot.isEmpty() && earlyMessages.isEmpty() && messages.isEmpty()
                && committedEntries.isEmpty() && readStates.isEmpty() && readsAborted.isEmpty();
    }
}
