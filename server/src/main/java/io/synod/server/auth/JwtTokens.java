package io.synod.server.auth;

import io.synod.common.Assert;
import io.synod.server.security.AuthTokenSpec;
import io.synod.server.security.Pem;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.function.LongSupplier;

/**
 * etcd's {@code --auth-token jwt} provider: Authenticate signs a {@link Jwt} carrying the user, the
 * auth revision and an expiry {@code ttl} after issue (not renewed by use, unlike simple tokens);
 * any member configured with the same key verifies it, so a client may move between members with
 * one token. A token stops working when it expires ("invalid auth token") or once any auth change
 * has raised the auth revision past the one it carries ("revision of auth store is old"; jetcd and
 * etcdctl then log in again). Nothing is kept per token, so there is nothing to bound or clear.
 */
public final class JwtTokens implements AuthTokens {
    private final Jwt jwt;
    private final long ttlMillis;
    private final LongSupplier clockMillis;

    /** @param clockMillis wall-clock milliseconds since the epoch (expiry is absolute, so every member must agree on time) */
    public JwtTokens(Jwt jwt, long ttlMillis, LongSupplier clockMillis) {
        Assert.that(ttlMillis >= 1, "jwt ttl must be positive: %d ms", ttlMillis);
        this.jwt = jwt;
        this.ttlMillis = ttlMillis;
        this.clockMillis = clockMillis;
    }

    /**
     * Reads the keys {@code spec} names and builds the provider.
     *
     * @throws IllegalArgumentException naming the option and file when a key is missing, unreadable, of the wrong type or size
     */
    public static JwtTokens load(AuthTokenSpec.Jwt spec, LongSupplier clockMillis) {
        Jwt.Method method = Jwt.Method.of(spec.signMethod()).orElseThrow(() -> new IllegalArgumentException(
                "--auth-token jwt: unknown sign-method '" + spec.signMethod() + "'"));
        Jwt jwt;
        try {
            if (method.name().startsWith("HS")) {
                Path secret = spec.privateKey().orElseThrow(() -> new IllegalArgumentException(method + " needs priv-key (the shared secret)"));
                jwt = Jwt.hmac(method, read(secret));
            } else {
                jwt = Jwt.asymmetric(method, spec.privateKey().map(p -> Pem.privateKey(read(p), "priv-key " + p)),
                        spec.publicKey().map(p -> Pem.publicKey(read(p), "pub-key " + p)));
            }
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--auth-token jwt: " + e.getMessage(), e);
        }
        return new JwtTokens(jwt, spec.ttlMillis(), clockMillis);
    }

    private static byte[] read(Path p) {
        try {
            return Files.readAllBytes(p);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read key file " + p + ": " + e, e);
        }
    }

    @Override
    public String issue(String user, long authRevision) {
        long expires = Math.floorDiv(clockMillis.getAsLong() + ttlMillis, 1000);
        return jwt.sign(new Jwt.Claims(user, authRevision, expires));
    }

    @Override
    public boolean canIssue() {
        return jwt.canSign();
    }

    @Override
    public Optional<Info> info(String token, long currentAuthRevision) {
        return jwt.verify(token, Math.floorDiv(clockMillis.getAsLong(), 1000)).map(c -> new Info(c.username(), c.revision()));
    }

    @Override
    public void clear() {}

    public Jwt jwt() {
        return jwt;
    }
}
