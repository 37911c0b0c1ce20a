package io.synod.sim;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * The simulated clients' commands, encoded as opaque log entry bytes. A command names the client
 * operation it belongs to, so the member that proposed it can match the applied entry to the
 * waiting client.
 */
record KvCommand(Kind kind, int clientId, long opId, String key, long a, long b) {
    enum Kind { PUT, CAS, MARKER }

    byte[] encode() {
        byte[] k = key.getBytes(StandardCharsets.UTF_8);
        return ByteBuffer.allocate(1 + 4 + 8 + 4 + k.length + 16)
                .put((byte) kind.ordinal()).putInt(clientId).putLong(opId).putInt(k.length).put(k).putLong(a).putLong(b)
                .array();
    }

    static KvCommand decode(byte[] data) {
        var buf = ByteBuffer.wrap(data);
        Kind kind = Kind.values()[buf.get()];
        int client = buf.getInt();
        long op = buf.getLong();
        byte[] k = new byte[buf.getInt()];
        buf.get(k);
        return new KvCommand(kind, client, op, new String(k, StandardCharsets.UTF_8), buf.getLong(), buf.getLong());
    }
}
