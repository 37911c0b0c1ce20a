package io.synod.mvcc;

import io.synod.mvcc.auth.AuthState;

/** The outcome of an applied {@link AuthCommand}: the key-value revision (unchanged) and the auth state afterwards. */
public record AuthResponse(long revision, AuthState auth) implements Response {}
