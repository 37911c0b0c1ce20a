package io.synod.mvcc.auth;

import io.synod.mvcc.MvccError;
import io.synod.mvcc.MvccError.Code;

/**
 * etcd's auth errors (its {@code rpctypes}), with the codes and texts etcd clients match on.
 * Those the state machine produces are {@link MvccError}s so a rejected {@link AuthOp} travels
 * like any other rejected command; permission and token failures are produced by the server
 * and carry gRPC codes {@link MvccError.Code} does not have, so only their texts live here.
 */
public final class AuthErrors {
    private AuthErrors() {}

    public static final MvccError ROOT_USER_NOT_EXIST = new MvccError(Code.FAILED_PRECONDITION, "etcdserver: root user does not exist");
    public static final MvccError ROOT_ROLE_NOT_EXIST =
            new MvccError(Code.FAILED_PRECONDITION, "etcdserver: root user does not have root role");
    public static final MvccError USER_ALREADY_EXIST = new MvccError(Code.FAILED_PRECONDITION, "etcdserver: user name already exists");
    public static final MvccError USER_EMPTY = new MvccError(Code.INVALID_ARGUMENT, "etcdserver: user name is empty");
    public static final MvccError USER_NOT_FOUND = new MvccError(Code.FAILED_PRECONDITION, "etcdserver: user name not found");
    public static final MvccError ROLE_ALREADY_EXIST = new MvccError(Code.FAILED_PRECONDITION, "etcdserver: role name already exists");
    public static final MvccError ROLE_NOT_FOUND = new MvccError(Code.FAILED_PRECONDITION, "etcdserver: role name not found");
    public static final MvccError ROLE_EMPTY = new MvccError(Code.INVALID_ARGUMENT, "etcdserver: role name is empty");
    public static final MvccError AUTH_FAILED =
            new MvccError(Code.INVALID_ARGUMENT, "etcdserver: authentication failed, invalid user ID or password");
    public static final MvccError ROLE_NOT_GRANTED = new MvccError(Code.FAILED_PRECONDITION, "etcdserver: role is not granted to the user");
    public static final MvccError PERMISSION_NOT_GRANTED =
            new MvccError(Code.FAILED_PRECONDITION, "etcdserver: permission is not granted to the role");
    public static final MvccError AUTH_NOT_ENABLED = new MvccError(Code.FAILED_PRECONDITION, "etcdserver: authentication is not enabled");
    public static final MvccError INVALID_AUTH_MGMT = new MvccError(Code.INVALID_ARGUMENT, "etcdserver: invalid auth management");

    /** gRPC PERMISSION_DENIED. */
    public static final String PERMISSION_DENIED = "etcdserver: permission denied";
    /** gRPC UNAUTHENTICATED. */
    public static final String INVALID_AUTH_TOKEN = "etcdserver: invalid auth token";
    /** gRPC INVALID_ARGUMENT: a token issued at an auth revision older than the member's (JWT tokens after any auth change). */
    public static final String AUTH_OLD_REVISION = "etcdserver: revision of auth store is old";
}
