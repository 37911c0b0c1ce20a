package io.synod.mvcc;

import java.util.Optional;

/**
 * One change to one key, as a watcher receives it: a PUT carries the new version, a DELETE a
 * tombstone key-value (key and modRevision only). {@code prevKv} is the version the change
 * replaced when that version is still retained (absent for a creation, or when compacted away).
 * {@code revision} orders events store-wide; all events of one write share its main revision.
 */
public record Event(Type type, KeyValue kv, Optional<KeyValue> prevKv, Revision revision) {
    public enum Type { PUT, DELETE }
}
