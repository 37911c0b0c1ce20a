package io.synod.mvcc.auth;

import io.synod.common.Assert;
import io.synod.mvcc.Bytes;
import io.synod.mvcc.MvccError;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The replicated auth store, as etcd's: whether auth is enabled, the users (each with a password
 * hash and roles) and the roles (each with key permissions), and a revision that every applied
 * change increments. Immutable: {@link #apply} returns the next state or etcd's error, so every
 * member applying the same log reaches the same state.
 *
 * <p>The {@code root} user and role follow etcd's rules: auth can only be enabled once a
 * {@code root} user holding the {@code root} role exists; while enabled neither can be taken away;
 * the {@code root} role may be granted without having been added and allows everything.
 */
public record AuthState(boolean enabled, long revision, SortedMap<String, User> users, SortedMap<String, Role> roles) {
    public static final String ROOT = "root";
    public static final AuthState EMPTY = new AuthState(false, 0, new TreeMap<>(), new TreeMap<>());

    /** @param roles sorted role names */
    public record User(String name, String passwordHash, List<String> roles, boolean noPassword) {
        public User {
            roles = List.copyOf(new TreeSet<>(roles));
        }

        boolean has(String role) {
            return roles.contains(role);
        }
    }

    /** @param permissions sorted by key then range end, one per range */
    public record Role(String name, List<Permission> permissions) {
        public Role {
            permissions = List.copyOf(permissions);
        }
    }

    public AuthState {
        Assert.that(revision >= 0, "auth revision %d", revision);
        users = java.util.Collections.unmodifiableSortedMap(new TreeMap<>(users));
        roles = java.util.Collections.unmodifiableSortedMap(new TreeMap<>(roles));
    }

    /** What applying an {@link AuthOp} gave: the next state, or etcd's error and the state unchanged. */
    public record Outcome(AuthState state, Optional<MvccError> error) {}

    public Optional<User> user(String name) {
        return Optional.ofNullable(users.get(name));
    }

    public Optional<Role> role(String name) {
        return Optional.ofNullable(roles.get(name));
    }

    /** True when {@code user} exists and holds the root role. */
    public boolean isRoot(String user) {
        User u = users.get(user);
        return u != null && u.has(ROOT);
    }

    public Outcome apply(AuthOp op) {
        return switch (op) {
            case AuthOp.Enable e -> {
                if (enabled) yield ok(this); // etcd: enabling twice is not an error
                User root = users.get(ROOT);
                if (root == null) yield fail(AuthErrors.ROOT_USER_NOT_EXIST);
                if (!root.has(ROOT)) yield fail(AuthErrors.ROOT_ROLE_NOT_EXIST);
                yield next(true, users, roles);
            }
            case AuthOp.Disable d -> next(false, users, roles);
            case AuthOp.UserAdd a -> {
                if (a.name().isEmpty()) yield fail(AuthErrors.USER_EMPTY);
                if (users.containsKey(a.name())) yield fail(AuthErrors.USER_ALREADY_EXIST);
                var u = new TreeMap<>(users);
                u.put(a.name(), new User(a.name(), a.passwordHash(), List.of(), a.noPassword()));
                yield next(enabled, u, roles);
            }
            case AuthOp.UserDelete d -> {
                if (enabled && d.name().equals(ROOT)) yield fail(AuthErrors.INVALID_AUTH_MGMT);
                if (!users.containsKey(d.name())) yield fail(AuthErrors.USER_NOT_FOUND);
                var u = new TreeMap<>(users);
                u.remove(d.name());
                yield next(enabled, u, roles);
            }
            case AuthOp.UserChangePassword c -> {
                User old = users.get(c.name());
                if (old == null) yield fail(AuthErrors.USER_NOT_FOUND);
                yield withUser(new User(old.name(), c.passwordHash(), old.roles(), false));
            }
            case AuthOp.UserGrantRole g -> {
                User old = users.get(g.user());
                if (old == null) yield fail(AuthErrors.USER_NOT_FOUND);
                if (!g.role().equals(ROOT) && !roles.containsKey(g.role())) yield fail(AuthErrors.ROLE_NOT_FOUND);
                if (old.has(g.role())) yield ok(this);
                var r = new ArrayList<>(old.roles());
                r.add(g.role());
                yield withUser(new User(old.name(), old.passwordHash(), r, old.noPassword()));
            }
            case AuthOp.UserRevokeRole g -> {
                User old = users.get(g.user());
                if (old == null) yield fail(AuthErrors.USER_NOT_FOUND);
                if (enabled && g.user().equals(ROOT) && g.role().equals(ROOT)) yield fail(AuthErrors.INVALID_AUTH_MGMT);
                if (!old.has(g.role())) yield fail(AuthErrors.ROLE_NOT_GRANTED);
                var r = new ArrayList<>(old.roles());
                r.remove(g.role());
                yield withUser(new User(old.name(), old.passwordHash(), r, old.noPassword()));
            }
            case AuthOp.RoleAdd a -> {
                if (a.name().isEmpty()) yield fail(AuthErrors.ROLE_EMPTY);
                if (roles.containsKey(a.name())) yield fail(AuthErrors.ROLE_ALREADY_EXIST);
                var r = new TreeMap<>(roles);
                r.put(a.name(), new Role(a.name(), List.of()));
                yield next(enabled, users, r);
            }
            case AuthOp.RoleDelete d -> {
                if (enabled && d.name().equals(ROOT)) yield fail(AuthErrors.INVALID_AUTH_MGMT);
                if (!roles.containsKey(d.name())) yield fail(AuthErrors.ROLE_NOT_FOUND);
                var r = new TreeMap<>(roles);
                r.remove(d.name());
                // As etcd: the role is also revoked from every user that held it.
                var u = new TreeMap<String, User>();
                for (User x : users.values()) {
                    var held = new ArrayList<>(x.roles());
                    held.remove(d.name());
                    u.put(x.name(), new User(x.name(), x.passwordHash(), held, x.noPassword()));
                }
                yield next(enabled, u, r);
            }
            case AuthOp.RoleGrantPermission g -> {
                Role old = roles.get(g.role());
                if (old == null) yield fail(AuthErrors.ROLE_NOT_FOUND);
                Permission p = g.permission();
                if (!p.rangeEnd().isEmpty() && !p.rangeEnd().equals(Bytes.ZERO) && p.key().compareTo(p.rangeEnd()) >= 0) {
                    yield fail(AuthErrors.INVALID_AUTH_MGMT); // an empty range, as etcd refuses it
                }
                var perms = new ArrayList<Permission>();
                for (Permission q : old.permissions()) if (!q.sameRange(p.key(), p.rangeEnd())) perms.add(q);
                perms.add(p); // granting over an existing range replaces its type, as etcd
                perms.sort(Comparator.comparing(Permission::key).thenComparing(Permission::rangeEnd));
                yield withRole(new Role(old.name(), perms));
            }
            case AuthOp.RoleRevokePermission g -> {
                Role old = roles.get(g.role());
                if (old == null) yield fail(AuthErrors.ROLE_NOT_FOUND);
                var perms = new ArrayList<Permission>();
                for (Permission q : old.permissions()) if (!q.sameRange(g.key(), g.rangeEnd())) perms.add(q);
                if (perms.size() == old.permissions().size()) yield fail(AuthErrors.PERMISSION_NOT_GRANTED);
                yield withRole(new Role(old.name(), perms));
            }
        };
    }

    private Outcome ok(AuthState s) {
        return new Outcome(s, Optional.empty());
    }

    private Outcome fail(MvccError e) {
        return new Outcome(this, Optional.of(e));
    }

    private Outcome next(boolean nextEnabled, SortedMap<String, User> nextUsers, SortedMap<String, Role> nextRoles) {
        return ok(new AuthState(nextEnabled, revision + 1, nextUsers, nextRoles));
    }

    private Outcome withUser(User u) {
        var m = new TreeMap<>(users);
        m.put(u.name(), u);
        return next(enabled, m, roles);
    }

    private Outcome withRole(Role r) {
        var m = new TreeMap<>(roles);
        m.put(r.name(), r);
        return next(enabled, users, m);
    }

    /**
     * True when {@code user} may read (or write) every key of {@code [key, rangeEnd)} (a single key
     * when {@code rangeEnd} is empty): the root role may do anything; otherwise the ranges of the
     * user's permissions of that kind, merged, must cover the requested range, as etcd's range
     * permission cache decides.
     */
    public boolean permitted(String user, Bytes key, Bytes rangeEnd, boolean write) {
        User u = users.get(user);
        if (u == null) return false;
        if (u.has(ROOT)) return true;
        var ranges = new ArrayList<Bytes[]>();
        for (String roleName : u.roles()) {
            Role r = roles.get(roleName);
            if (r == null) continue;
            for (Permission p : r.permissions()) {
                if (write ? p.type().allowsWrite() : p.type().allowsRead()) ranges.add(new Bytes[] {p.key(), end(p.key(), p.rangeEnd())});
            }
        }
        return covered(ranges, key, end(key, rangeEnd));
    }

    /** The exclusive end of a key or range; {@code null} stands for "no end" (etcd's "\0" range end). */
    private static Bytes end(Bytes key, Bytes rangeEnd) {
        if (rangeEnd.isEmpty()) return Bytes.copyOf(appendZero(key.toByteArray())); // the single key: [key, key+"\0")
        if (rangeEnd.equals(Bytes.ZERO)) return null;
        return rangeEnd;
    }

    private static byte[] appendZero(byte[] k) {
        return java.util.Arrays.copyOf(k, k.length + 1);
    }

    private static boolean covered(List<Bytes[]> ranges, Bytes from, Bytes to) {
        ranges.sort((a, b) -> a[0].compareTo(b[0]));
        Bytes reached = from; // every key in [from, reached) is covered so far
        for (Bytes[] r : ranges) {
            if (r[0].compareTo(reached) > 0) break; // a gap before this range
            if (r[1] == null) return true;
            if (r[1].compareTo(reached) > 0) reached = r[1];
            if (to != null && reached.compareTo(to) >= 0) return true;
        }
        return to != null && reached.compareTo(to) >= 0;
    }
}
