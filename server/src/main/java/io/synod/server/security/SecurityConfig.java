package io.synod.server.security;

import io.synod.common.Assert;

/**
 * A member's security settings: TLS for the client and the peer listener, and the lifetime of
 * the simple auth tokens ({@code --auth-token simple} in etcd, whose tokens live 300 s) and the
 * cost of password hashing.
 *
 * @param client              TLS of the client listener ({@code --cert-file} etc.)
 * @param peer                TLS of the peer listener and of the connections to other members ({@code --peer-cert-file} etc.)
 * @param authTokenTtlMillis  how long a simple token stays valid after its last use ({@code --synod-auth-token-ttl-ms})
 * @param authTokensMax       simple tokens held at once; the oldest is dropped beyond it ({@code --synod-auth-tokens-max})
 * @param passwordHashIterations PBKDF2-HMAC-SHA256 rounds for new password hashes ({@code --synod-auth-pbkdf2-iterations})
 */
public record SecurityConfig(TlsFiles client, TlsFiles peer, long authTokenTtlMillis, int authTokensMax, int passwordHashIterations) {
    /** etcd's simple-token TTL. */
    public static final long DEFAULT_AUTH_TOKEN_TTL_MILLIS = 300_000;
    public static final int DEFAULT_AUTH_TOKENS_MAX = 100_000;
    /** OWASP's 2023 recommendation for PBKDF2-HMAC-SHA256. */
    public static final int DEFAULT_PASSWORD_HASH_ITERATIONS = 210_000;
    public static final SecurityConfig NONE = new SecurityConfig(TlsFiles.NONE, TlsFiles.NONE, DEFAULT_AUTH_TOKEN_TTL_MILLIS,
            DEFAULT_AUTH_TOKENS_MAX, DEFAULT_PASSWORD_HASH_ITERATIONS);

    public SecurityConfig {
        java.util.Objects.requireNonNull(client, "client");
        java.util.Objects.requireNonNull(peer, "peer");
        Assert.that(passwordHashIterations >= 1, "pbkdf2 iterations must be positive: %d", passwordHashIterations);
        Assert.that(authTokenTtlMillis >= 1 && authTokensMax >= 1, "auth token ttl and count must be positive: %d ms, %d",
                authTokenTtlMillis, authTokensMax);
    }

    public SecurityConfig withClient(TlsFiles files) {
        return new SecurityConfig(files, peer, authTokenTtlMillis, authTokensMax, passwordHashIterations);
    }

    public SecurityConfig withPeer(TlsFiles files) {
        return new SecurityConfig(client, files, authTokenTtlMillis, authTokensMax, passwordHashIterations);
    }

    public SecurityConfig withAuthTokenTtlMillis(long millis) {
        return new SecurityConfig(client, peer, millis, authTokensMax, passwordHashIterations);
    }

    public SecurityConfig withPasswordHashIterations(int iterations) {
        return new SecurityConfig(client, peer, authTokenTtlMillis, authTokensMax, iterations);
    }
}
