package io.synod.server.auth;

import java.util.Optional;

/**
 * What Authenticate hands out and {@link AuthGate} reads back: etcd's token providers. The
 * {@code simple} provider ({@link TokenStore}) keeps random tokens in the issuing member's memory;
 * the {@code jwt} provider ({@link JwtTokens}) signs self-contained tokens that any member holding
 * the key verifies. Either way a token names a user and the auth revision it speaks for; the gate
 * refuses a token whose revision is older than the member's auth state (etcd's "revision of auth
 * store is old"), which only JWT tokens can be, since a simple token always speaks for the
 * current state. Implementations are thread-safe.
 */
public interface AuthTokens {
    /** The user a token names and the auth revision it was issued at (for a simple token: the current one). */
    record Info(String user, long revision) {}

    /** A new token for {@code user}, issued at auth revision {@code authRevision}. */
    String issue(String user, long authRevision);

    /** Whether {@link #issue} works: false for a JWT provider that has only a public key. */
    default boolean canIssue() {
        return true;
    }

    /** What {@code token} says if it is valid now, given the member's current auth revision; empty for an invalid or expired token. */
    Optional<Info> info(String token, long currentAuthRevision);

    /** Auth was disabled: forget whatever tokens are held (JWT tokens are not held; the revision bump retires them). */
    void clear();
}
