package io.synod.mvcc.auth;

import static org.assertj.core.api.Assertions.assertThat;

import io.synod.mvcc.Bytes;
import io.synod.mvcc.CommandCodec;
import io.synod.mvcc.AuthCommand;
import org.junit.jupiter.api.Test;

/** The auth state machine's rules (root, errors) and etcd's range-permission coverage, and the codecs' round trips. */
class AuthStateTest {
    static Bytes b(String s) {
        return Bytes.utf8(s);
    }

    static AuthState apply(AuthState s, AuthOp op) {
        var o = s.apply(op);
        assertThat(o.error()).as("%s", op).isEmpty();
        return o.state();
    }

    @Test
    void rootRulesAndErrors() {
        AuthState s = AuthState.EMPTY;
        assertThat(s.apply(new AuthOp.Enable()).error()).contains(AuthErrors.ROOT_USER_NOT_EXIST);
        s = apply(s, new AuthOp.UserAdd("root", "h", false));
        assertThat(s.apply(new AuthOp.Enable()).error()).contains(AuthErrors.ROOT_ROLE_NOT_EXIST);
        s = apply(s, new AuthOp.UserGrantRole("root", "root"));
        s = apply(s, new AuthOp.Enable());
        assertThat(s.enabled()).isTrue();
        assertThat(s.apply(new AuthOp.UserDelete("root")).error()).contains(AuthErrors.INVALID_AUTH_MGMT);
        assertThat(s.apply(new AuthOp.UserRevokeRole("root", "root")).error()).contains(AuthErrors.INVALID_AUTH_MGMT);
        assertThat(s.apply(new AuthOp.UserAdd("root", "h", false)).error()).contains(AuthErrors.USER_ALREADY_EXIST);
        assertThat(s.apply(new AuthOp.UserAdd("", "h", false)).error()).contains(AuthErrors.USER_EMPTY);
        assertThat(s.apply(new AuthOp.UserGrantRole("root", "nope")).error()).contains(AuthErrors.ROLE_NOT_FOUND);
        assertThat(s.apply(new AuthOp.RoleRevokePermission("nope", b("k"), Bytes.EMPTY)).error()).contains(AuthErrors.ROLE_NOT_FOUND);
        s = apply(s, new AuthOp.RoleAdd("r"));
        assertThat(s.apply(new AuthOp.RoleRevokePermission("r", b("k"), Bytes.EMPTY)).error()).contains(AuthErrors.PERMISSION_NOT_GRANTED);
        long before = s.revision();
        assertThat(s.apply(new AuthOp.RoleAdd("r")).state().revision()).isEqualTo(before); // a refusal changes nothing
    }

    @Test
    void permissionsCoverRangesAsEtcd() {
        AuthState s = AuthState.EMPTY;
        s = apply(s, new AuthOp.UserAdd("u", "h", false));
        s = apply(s, new AuthOp.RoleAdd("r"));
        s = apply(s, new AuthOp.RoleGrantPermission("r", new Permission(Permission.Type.READWRITE, b("a/"), b("a0"))));
        s = apply(s, new AuthOp.RoleGrantPermission("r", new Permission(Permission.Type.READ, b("a0"), b("a5"))));
        s = apply(s, new AuthOp.RoleGrantPermission("r", new Permission(Permission.Type.WRITE, b("single"), Bytes.EMPTY)));
        s = apply(s, new AuthOp.UserGrantRole("u", "r"));
        assertThat(s.permitted("u", b("a/x"), Bytes.EMPTY, true)).isTrue();
        assertThat(s.permitted("u", b("a/"), b("a0"), false)).isTrue();
        assertThat(s.permitted("u", b("a/"), b("a5"), false)).isTrue(); // two adjacent ranges, merged
        assertThat(s.permitted("u", b("a/"), b("a6"), false)).isFalse();
        assertThat(s.permitted("u", b("a/"), b("a5"), true)).isFalse(); // [a0, a5) is read-only
        assertThat(s.permitted("u", b("single"), Bytes.EMPTY, true)).isTrue();
        assertThat(s.permitted("u", b("single"), Bytes.EMPTY, false)).isFalse();
        assertThat(s.permitted("u", b("singlex"), Bytes.EMPTY, true)).isFalse();
        assertThat(s.permitted("u", Bytes.ZERO, Bytes.ZERO, false)).isFalse(); // every key
        s = apply(s, new AuthOp.RoleGrantPermission("r", new Permission(Permission.Type.READ, Bytes.ZERO, Bytes.ZERO)));
        assertThat(s.permitted("u", Bytes.ZERO, Bytes.ZERO, false)).isTrue();
        assertThat(s.permitted("nobody", b("a/x"), Bytes.EMPTY, false)).isFalse();
        // Deleting the role revokes it from its users.
        s = apply(s, new AuthOp.RoleDelete("r"));
        assertThat(s.user("u").orElseThrow().roles()).isEmpty();
        assertThat(s.permitted("u", b("a/x"), Bytes.EMPTY, false)).isFalse();
    }

    @Test
    void codecsRoundTrip() {
        AuthState s = AuthState.EMPTY;
        s = apply(s, new AuthOp.UserAdd("u", "pbkdf2-sha256$1$c2FsdA==$aGFzaA==", false));
        s = apply(s, new AuthOp.RoleAdd("r"));
        s = apply(s, new AuthOp.RoleGrantPermission("r", new Permission(Permission.Type.WRITE, b("k"), Bytes.ZERO)));
        s = apply(s, new AuthOp.UserGrantRole("u", "r"));
        assertThat(AuthCodec.decodeState(AuthCodec.encode(s))).isEqualTo(s);
        var codec = new CommandCodec(CommandCodec.Limits.defaults());
        for (AuthOp op : java.util.List.of(new AuthOp.Enable(), new AuthOp.Disable(), new AuthOp.UserAdd("a", "h", true),
                new AuthOp.UserDelete("a"), new AuthOp.UserChangePassword("a", "h2"), new AuthOp.UserGrantRole("a", "r"),
                new AuthOp.UserRevokeRole("a", "r"), new AuthOp.RoleAdd("r"), new AuthOp.RoleDelete("r"),
                new AuthOp.RoleGrantPermission("r", new Permission(Permission.Type.READ, b("x"), b("y"))),
                new AuthOp.RoleRevokePermission("r", b("x"), b("y")))) {
            assertThat(codec.decode(codec.encode(new AuthCommand(op)))).isEqualTo(new AuthCommand(op));
        }
    }
}
