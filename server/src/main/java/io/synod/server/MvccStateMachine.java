package io.synod.server;

import io.synod.consensus.ConfChange;
import io.synod.consensus.ConfState;
import io.synod.consensus.Snapshot;
import io.synod.mvcc.CommandCodec;
import io.synod.replica.StateMachine;
import io.synod.server.transport.SnapshotInbox;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.function.Consumer;

/**
 * Connects the replica's apply step to the MVCC store: a committed entry's bytes are decoded with
 * {@link CommandCodec} and applied at the entry's index; the store keeps the applied index in the
 * same write as the change, which is what lets a restarted member skip what it already holds.
 * The {@link io.synod.mvcc.Result} becomes the proposal's outcome. A snapshot from the leader is
 * installed from the state the {@link SnapshotInbox} received and verified, by switching the
 * store's directory ({@link StoreHolder#install}). A membership change's context (a
 * {@link MemberChange}) is applied to the store's member table with the applied index, then the
 * membership listener hears the new configuration (the peer transport and the removed-member check
 * follow it).
 */
public final class MvccStateMachine implements StateMachine {
    private final StoreHolder store;
    private final SnapshotInbox inbox;
    private final CommandCodec codec;
    private final Consumer<ConfState> membership;

    public MvccStateMachine(StoreHolder store, SnapshotInbox inbox, CommandCodec codec) {
        this(store, inbox, codec, conf -> {});
    }

    /** @param membership told (on the Raft loop's thread) the configuration after each applied membership change */
    public MvccStateMachine(StoreHolder store, SnapshotInbox inbox, CommandCodec codec, Consumer<ConfState> membership) {
        this.store = store;
        this.inbox = inbox;
        this.codec = codec;
        this.membership = membership;
    }

    @Override
    public long appliedIndex() {
        return store.current().appliedIndex();
    }

    @Override
    public Object apply(long index, byte[] command) {
        return store.current().apply(index, codec.decode(command));
    }

    /** The run of commands as one write to the store ({@link io.synod.mvcc.MvccStore#apply(long[], java.util.List)}). */
    @Override
    public Object[] applyBatch(long[] indexes, byte[][] commands) {
        var decoded = new java.util.ArrayList<io.synod.mvcc.Command>(commands.length);
        for (byte[] c : commands) decoded.add(codec.decode(c));
        return store.current().apply(indexes, decoded).toArray();
    }

    @Override
    public void markApplied(long index) {
        store.current().markApplied(index);
    }

    @Override
    public void applyConfChange(long index, ConfChange change, ConfState conf) {
        byte[] context = change.context();
        if (context.length == 0) {
            store.current().markApplied(index); // the core's own leave-joint entry, or a log from before member metadata
        } else {
            MemberChange mc = MemberChange.decode(context);
            store.current().applyMembers(index, mc.upserts(), mc.removals());
        }
        membership.accept(conf);
    }

    @Override
    public long flush() {
        return store.current().flush();
    }

    @Override
    public long restore(Snapshot snapshot) {
        long index = snapshot.meta().index();
        long held = store.current().appliedIndex();
        if (held >= index) {
            // Already holds everything the snapshot covers (e.g. a crash after an earlier switch, before the log recorded it).
            inbox.discardUpTo(held);
            return held;
        }
        var staged = inbox.take(index).orElseThrow(() -> new IllegalStateException(
                "the Raft member accepted snapshot " + index + " but no received state holds it"));
        try {
            return store.install(staged.dir());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot install snapshot state " + staged.dir() + "; stopping this member", e);
        }
    }
}
