package io.synod.server.security;

import io.synod.common.Assert;

/**
 * A member's security settings: TLS for the client and the peer listener and how often their
 * files are checked for a new certificate, which auth tokens Authenticate hands out
 * ({@code --auth-token}: etcd's simple tokens, whose lifetime and count are bounded here, or JWT),
 * and the cost of password hashing.
 *
 * @param client              TLS of the client listener ({@code --cert-file} etc.)
 * @param peer                TLS of the peer listener and of the connections to other members ({@code --peer-cert-file} etc.)
 * @param authTokenTtlMillis  how long a simple token stays valid after its last use ({@code --synod-auth-token-ttl-ms})
 * @param authTokensMax       simple tokens held at once; the oldest is dropped beyond it ({@code --synod-auth-tokens-max})
 * @param passwordHashIterations PBKDF2-HMAC-SHA256 rounds for new password hashes ({@code --synod-auth-pbkdf2-iterations})
 * @param authToken           the token provider ({@code --auth-token simple} or {@code jwt,...})
 * @param tlsReloadIntervalMillis longest a changed certificate, key or CA file goes unnoticed: a handshake re-reads the
 *                            files when this long has passed since the last check; 0 checks at every handshake, as etcd
 *                            does ({@code --synod-tls-reload-interval-ms})
 */
public record SecurityConfig(TlsFiles client, TlsFiles peer, long authTokenTtlMillis, int authTokensMax, int passwordHashIterations,
        AuthTokenSpec authToken, long tlsReloadIntervalMillis) {
    /** etcd's simple-token TTL. */
    public static final long DEFAULT_AUTH_TOKEN_TTL_MILLIS = 300_000;
    public static final int DEFAULT_AUTH_TOKENS_MAX = 100_000;
    /** OWASP's 2023 recommendation for PBKDF2-HMAC-SHA256. */
    public static final int DEFAULT_PASSWORD_HASH_ITERATIONS = 210_000;
    /** A rotated certificate is served within a second; the check is a read of two or three small files. */
    public static final long DEFAULT_TLS_RELOAD_INTERVAL_MILLIS = 1000;
    public static final SecurityConfig NONE = new SecurityConfig(TlsFiles.NONE, TlsFiles.NONE, DEFAULT_AUTH_TOKEN_TTL_MILLIS,
            DEFAULT_AUTH_TOKENS_MAX, DEFAULT_PASSWORD_HASH_ITERATIONS, AuthTokenSpec.SIMPLE, DEFAULT_TLS_RELOAD_INTERVAL_MILLIS);

    public SecurityConfig {
        java.util.Objects.requireNonNull(client, "client");
        java.util.Objects.requireNonNull(peer, "peer");
        java.util.Objects.requireNonNull(authToken, "authToken");
        Assert.that(passwordHashIterations >= 1, "pbkdf2 iterations must be positive: %d", passwordHashIterations);
        Assert.that(authTokenTtlMillis >= 1 && authTokensMax >= 1, "auth token ttl and count must be positive: %d ms, %d",
                authTokenTtlMillis, authTokensMax);
        Assert.that(tlsReloadIntervalMillis >= 0, "tls reload interval must not be negative: %d ms", tlsReloadIntervalMillis);
    }

    /** The settings of the releases before JWT tokens and certificate reload: simple tokens, the default reload interval. */
    public SecurityConfig(TlsFiles client, TlsFiles peer, long authTokenTtlMillis, int authTokensMax, int passwordHashIterations) {
        this(client, peer, authTokenTtlMillis, authTokensMax, passwordHashIterations, AuthTokenSpec.SIMPLE,
                DEFAULT_TLS_RELOAD_INTERVAL_MILLIS);
    }

    public SecurityConfig withClient(TlsFiles files) {
        return new SecurityConfig(files, peer, authTokenTtlMillis, authTokensMax, passwordHashIterations, authToken, tlsReloadIntervalMillis);
    }

    public SecurityConfig withPeer(TlsFiles files) {
        return new SecurityConfig(client, files, authTokenTtlMillis, authTokensMax, passwordHashIterations, authToken, tlsReloadIntervalMillis);
    }

    public SecurityConfig withAuthTokenTtlMillis(long millis) {
        return new SecurityConfig(client, peer, millis, authTokensMax, passwordHashIterations, authToken, tlsReloadIntervalMillis);
    }

    public SecurityConfig withPasswordHashIterations(int iterations) {
        return new SecurityConfig(client, peer, authTokenTtlMillis, authTokensMax, iterations, authToken, tlsReloadIntervalMillis);
    }

    public SecurityConfig withAuthToken(AuthTokenSpec spec) {
        return new SecurityConfig(client, peer, authTokenTtlMillis, authTokensMax, passwordHashIterations, spec, tlsReloadIntervalMillis);
    }

    public SecurityConfig withTlsReloadIntervalMillis(long millis) {
        return new SecurityConfig(client, peer, authTokenTtlMillis, authTokensMax, passwordHashIterations, authToken, millis);
    }
}
