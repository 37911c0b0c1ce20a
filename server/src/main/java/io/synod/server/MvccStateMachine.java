package io.synod.server;

import io.synod.mvcc.CommandCodec;
import io.synod.mvcc.MvccStore;
import io.synod.replica.StateMachine;

/**
 * Connects the replica's apply step to the MVCC store: a committed entry's bytes are decoded with
 * {@link CommandCodec} and applied at the entry's index; the store keeps the applied index in the
 * same write as the change, which is what lets a restarted member skip what it already holds.
 * The {@link io.synod.mvcc.Result} becomes the proposal's outcome.
 */
public final class MvccStateMachine implements StateMachine {
    private final MvccStore store;
    private final CommandCodec codec;

    public MvccStateMachine(MvccStore store, CommandCodec codec) {
        this.store = store;
        this.codec = codec;
    }

    @Override
    public long appliedIndex() {
        return store.appliedIndex();
    }

    @Override
    public Object apply(long index, byte[] command) {
        return store.apply(index, codec.decode(command));
    }

    @Override
    public void markApplied(long index) {
        store.markApplied(index);
    }
}
