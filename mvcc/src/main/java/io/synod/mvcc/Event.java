package io.synod.mvcc;

import java.util.Optional;

/**
 * One change to one key, as a watcher receives it: a PUT carries the new version, a DELETE a
 * tombstone key-value (key and modRevision only). {@code prevKv} is the version the change
 * replaced when that version is still retained (absent for a creation, or when compacted away).
 * {@code revision} orders events store-wide; all events of one write share its main revision.
 *
 * <p>{@code prevKvUnread}: the change replaced a version, but nobody wanted its value when the
 * write was applied, so it was not read ({@code prevKv} is empty). A reader that wants it reads it
 * from history ({@link MvccStore#withPrevKv}), as etcd reads it when it sends the event.
 */
public record Event(Type type, KeyValue kv, Optional<KeyValue> prevKv, Revision revision, boolean prevKvUnread) {
    public enum Type { PUT, DELETE }

    public Event {
        if (prevKvUnread && prevKv.isPresent()) throw new IllegalArgumentException("event at " + revision + " both carries and lacks its previous value");
    }

    /** An event whose previous version, if any, is in {@code prevKv}. */
    public Event(Type type, KeyValue kv, Optional<KeyValue> prevKv, Revision revision) {
        this(type, kv, prevKv, revision, false);
    }
}
