package io.synod.sim;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.TreeMap;

/**
 * The simulated replicated state machine: a map of registers supporting put and compare-and-set.
 * Deterministic, so every member that applies the same log ends in the same state, and
 * serializable into snapshot bytes.
 */
final class KvMachine {
    /** A key never written reads as the checker model's ABSENT, so histories compare directly. */
    static final long ABSENT = io.synod.check.kv.KvModel.ABSENT;
    private final TreeMap<String, Long> values = new TreeMap<>();

    /** Applies a command; returns 1 for a successful put/CAS, 0 for a failed CAS. */
    long apply(KvCommand c) {
        return switch (c.kind()) {
            case PUT -> {
                values.put(c.key(), c.a());
                yield 1;
            }
            case CAS -> {
                long cur = values.getOrDefault(c.key(), ABSENT);
                if (cur != c.a()) yield 0;
                values.put(c.key(), c.b());
                yield 1;
            }
            case MARKER -> 1;
        };
    }

    long get(String key) {
        return values.getOrDefault(key, ABSENT);
    }

    byte[] serialize() {
        int size = 4;
        for (String k : values.keySet()) size += 4 + k.getBytes(StandardCharsets.UTF_8).length + 8;
        var buf = ByteBuffer.allocate(size).putInt(values.size());
        for (Map.Entry<String, Long> e : values.entrySet()) {
            byte[] k = e.getKey().getBytes(StandardCharsets.UTF_8);
            buf.putInt(k.length).put(k).putLong(e.getValue());
        }
        return buf.array();
    }

    static KvMachine restore(byte[] data) {
        var m = new KvMachine();
        if (data.length == 0) return m;
        var buf = ByteBuffer.wrap(data);
        int n = buf.getInt();
        for (int i = 0; i < n; i++) {
            byte[] k = new byte[buf.getInt()];
            buf.get(k);
            m.values.put(new String(k, StandardCharsets.UTF_8), buf.getLong());
        }
        return m;
    }
}
