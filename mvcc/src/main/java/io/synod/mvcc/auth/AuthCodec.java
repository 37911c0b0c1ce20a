package io.synod.mvcc.auth;

import io.synod.mvcc.Bytes;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;

/**
 * Binary forms of {@link AuthOp} (inside a replicated command) and of {@link AuthState} (one
 * record in the store's {@code auth} column family). Each starts with a version byte; strings are
 * modified UTF-8 ({@link DataOutputStream#writeUTF}, at most 65535 bytes, which request size
 * bounds anyway), byte strings an int length then the bytes. Decoding refuses trailing bytes.
 */
public final class AuthCodec {
    private static final int VERSION = 1;

    private AuthCodec() {}

    public static byte[] encode(AuthOp op) {
        return write(out -> {
            switch (op) {
                case AuthOp.Enable e -> out.writeByte(1);
                case AuthOp.Disable d -> out.writeByte(2);
                case AuthOp.UserAdd a -> {
                    out.writeByte(3);
                    out.writeUTF(a.name());
                    out.writeUTF(a.passwordHash());
                    out.writeBoolean(a.noPassword());
                }
                case AuthOp.UserDelete d -> {
                    out.writeByte(4);
                    out.writeUTF(d.name());
                }
                case AuthOp.UserChangePassword c -> {
                    out.writeByte(5);
                    out.writeUTF(c.name());
                    out.writeUTF(c.passwordHash());
                }
                case AuthOp.UserGrantRole g -> {
                    out.writeByte(6);
                    out.writeUTF(g.user());
                    out.writeUTF(g.role());
                }
                case AuthOp.UserRevokeRole g -> {
                    out.writeByte(7);
                    out.writeUTF(g.user());
                    out.writeUTF(g.role());
                }
                case AuthOp.RoleAdd a -> {
                    out.writeByte(8);
                    out.writeUTF(a.name());
                }
                case AuthOp.RoleDelete d -> {
                    out.writeByte(9);
                    out.writeUTF(d.name());
                }
                case AuthOp.RoleGrantPermission g -> {
                    out.writeByte(10);
                    out.writeUTF(g.role());
                    permission(out, g.permission());
                }
                case AuthOp.RoleRevokePermission g -> {
                    out.writeByte(11);
                    out.writeUTF(g.role());
                    bytes(out, g.key());
                    bytes(out, g.rangeEnd());
                }
            }
        });
    }

    public static AuthOp decodeOp(byte[] data) {
        return read(data, in -> {
            int tag = in.readUnsignedByte();
            return switch (tag) {
                case 1 -> new AuthOp.Enable();
                case 2 -> new AuthOp.Disable();
                case 3 -> new AuthOp.UserAdd(in.readUTF(), in.readUTF(), in.readBoolean());
                case 4 -> new AuthOp.UserDelete(in.readUTF());
                case 5 -> new AuthOp.UserChangePassword(in.readUTF(), in.readUTF());
                case 6 -> new AuthOp.UserGrantRole(in.readUTF(), in.readUTF());
                case 7 -> new AuthOp.UserRevokeRole(in.readUTF(), in.readUTF());
                case 8 -> new AuthOp.RoleAdd(in.readUTF());
                case 9 -> new AuthOp.RoleDelete(in.readUTF());
                case 10 -> new AuthOp.RoleGrantPermission(in.readUTF(), permission(in));
                case 11 -> new AuthOp.RoleRevokePermission(in.readUTF(), bytes(in), bytes(in));
                default -> throw new IllegalArgumentException("unknown auth op tag " + tag);
            };
        });
    }

    public static byte[] encode(AuthState s) {
        return write(out -> {
            out.writeBoolean(s.enabled());
            out.writeLong(s.revision());
            out.writeInt(s.users().size());
            for (AuthState.User u : s.users().values()) {
                out.writeUTF(u.name());
                out.writeUTF(u.passwordHash());
                out.writeBoolean(u.noPassword());
                out.writeInt(u.roles().size());
                for (String r : u.roles()) out.writeUTF(r);
            }
            out.writeInt(s.roles().size());
            for (AuthState.Role r : s.roles().values()) {
                out.writeUTF(r.name());
                out.writeInt(r.permissions().size());
                for (Permission p : r.permissions()) permission(out, p);
            }
        });
    }

    public static AuthState decodeState(byte[] data) {
        return read(data, in -> {
            boolean enabled = in.readBoolean();
            long revision = in.readLong();
            var users = new TreeMap<String, AuthState.User>();
            for (int i = count(in); i > 0; i--) {
                String name = in.readUTF();
                String hash = in.readUTF();
                boolean noPassword = in.readBoolean();
                List<String> roles = new ArrayList<>();
                for (int j = count(in); j > 0; j--) roles.add(in.readUTF());
                users.put(name, new AuthState.User(name, hash, roles, noPassword));
            }
            var roles = new TreeMap<String, AuthState.Role>();
            for (int i = count(in); i > 0; i--) {
                String name = in.readUTF();
                List<Permission> perms = new ArrayList<>();
                for (int j = count(in); j > 0; j--) perms.add(permission(in));
                roles.put(name, new AuthState.Role(name, perms));
            }
            return new AuthState(enabled, revision, users, roles);
        });
    }

    private static void permission(DataOutputStream out, Permission p) throws IOException {
        out.writeByte(p.type().ordinal());
        bytes(out, p.key());
        bytes(out, p.rangeEnd());
    }

    private static Permission permission(DataInputStream in) throws IOException {
        int type = in.readUnsignedByte();
        if (type >= Permission.Type.values().length) throw new IllegalArgumentException("unknown permission type " + type);
        return new Permission(Permission.Type.values()[type], bytes(in), bytes(in));
    }

    private static void bytes(DataOutputStream out, Bytes b) throws IOException {
        out.writeInt(b.size());
        out.write(b.toByteArray());
    }

    private static Bytes bytes(DataInputStream in) throws IOException {
        int n = count(in);
        if (n > in.available()) throw new IllegalArgumentException("byte string of " + n + " bytes beyond the record");
        return Bytes.copyOf(in.readNBytes(n));
    }

    private static int count(DataInputStream in) throws IOException {
        int n = in.readInt();
        if (n < 0 || n > in.available()) throw new IllegalArgumentException("bad count " + n);
        return n;
    }

    private interface Body {
        void write(DataOutputStream out) throws IOException;
    }

    private interface Parse<T> {
        T read(DataInputStream in) throws IOException;
    }

    private static byte[] write(Body body) {
        var bytes = new ByteArrayOutputStream(64);
        try (var out = new DataOutputStream(bytes)) {
            out.writeByte(VERSION);
            body.write(out);
        } catch (IOException e) {
            throw new UncheckedIOException(e); // a byte array does not fail
        }
        return bytes.toByteArray();
    }

    private static <T> T read(byte[] data, Parse<T> parse) {
        try (var in = new DataInputStream(new ByteArrayInputStream(data))) {
            int version = in.readUnsignedByte();
            if (version != VERSION) throw new IllegalArgumentException("unknown auth record version " + version);
            T t = parse.read(in);
            if (in.available() != 0) throw new IllegalArgumentException(in.available() + " trailing bytes in auth record");
            return t;
        } catch (IOException e) {
            throw new IllegalArgumentException("truncated auth record: " + e, e);
        }
    }
}
