package io.synod.mvcc.auth;

import io.synod.mvcc.Bytes;

/**
 * One change to the auth state, replicated through the Raft log inside an
 * {@link io.synod.mvcc.AuthCommand} so that every member holds the same users, roles and
 * enabled flag. Passwords never enter the log: {@link UserAdd} and {@link UserChangePassword}
 * carry the salted slow hash the proposing member computed.
 */
public sealed interface AuthOp {
    record Enable() implements AuthOp {}

    record Disable() implements AuthOp {}

    /** @param noPassword etcd's {@code --no-password} user: it cannot Authenticate, only present a client certificate */
    record UserAdd(String name, String passwordHash, boolean noPassword) implements AuthOp {}

    record UserDelete(String name) implements AuthOp {}

    record UserChangePassword(String name, String passwordHash) implements AuthOp {}

    record UserGrantRole(String user, String role) implements AuthOp {}

    record UserRevokeRole(String user, String role) implements AuthOp {}

    record RoleAdd(String name) implements AuthOp {}

    record RoleDelete(String name) implements AuthOp {}

    record RoleGrantPermission(String role, Permission permission) implements AuthOp {}

    record RoleRevokePermission(String role, Bytes key, Bytes rangeEnd) implements AuthOp {}
}
