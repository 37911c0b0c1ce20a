package io.synod.mvcc;

import io.synod.mvcc.auth.AuthOp;

/**
 * A change to the replicated auth store (users, roles, the enabled flag), carried through the
 * log like any write so every member applies it at the same index; the state and its rules live
 * in {@link io.synod.mvcc.auth.AuthState}. It does not advance the key-value revision.
 */
public record AuthCommand(AuthOp op) implements Command {
    public AuthCommand {
        java.util.Objects.requireNonNull(op, "op");
    }
}
