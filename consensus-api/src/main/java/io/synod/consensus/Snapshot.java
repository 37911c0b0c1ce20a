package io.synod.consensus;

/**
 * A state machine snapshot as the consensus core sees it: metadata plus opaque bytes produced
 * by the application. Large state is streamed by the transport in chunks; the core only ever
 * passes the object along.
 */
public record Snapshot(SnapshotMeta meta, byte[] data) {
    public static final Snapshot EMPTY = new Snapshot(SnapshotMeta.EMPTY, new byte[0]);

    public boolean isEmpty() {
        return meta.isEmpty();
    }

    @Override
    public String toString() {
        return "Snapshot[" + meta.index() + "/" + meta.term() + " " + data.length + "B]";
    }
}
