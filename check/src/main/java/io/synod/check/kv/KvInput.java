package io.synod.check.kv;

import java.util.Objects;

/**
 * A request against the key-value register model: put, get or compare-and-set on one string key
 * holding a long. {@link KvModel#ABSENT} is reserved to mean "never written", so it cannot be
 * written.
 */
public sealed interface KvInput {
    String key();

    /** Unconditionally sets {@code key} to {@code value}. */
    record Put(String key, long value) implements KvInput {
        public Put {
            Objects.requireNonNull(key, "key");
            if (value == KvModel.ABSENT) throw new IllegalArgumentException("cannot put the reserved ABSENT value to " + key);
        }
    }

    /** Reads {@code key}. */
    record Get(String key) implements KvInput {
        public Get {
            Objects.requireNonNull(key, "key");
        }
    }

    /** Sets {@code key} to {@code next} iff it currently holds {@code expected} (ABSENT: never written). */
    record Cas(String key, long expected, long next) implements KvInput {
        public Cas {
            Objects.requireNonNull(key, "key");
            if (next == KvModel.ABSENT) throw new IllegalArgumentException("cannot CAS the reserved ABSENT value into " + key);
        }
    }
}
