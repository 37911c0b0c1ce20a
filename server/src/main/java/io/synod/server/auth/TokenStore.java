package io.synod.server.auth;

import io.synod.common.Assert;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.function.LongSupplier;

/**
 * etcd's simple tokens: Authenticate hands out a random token naming the user, and a token stays
 * valid until it has gone unused for {@code ttlMillis} (each use renews it, as etcd's simple
 * token keeper does). Tokens live in this member's memory only, so a client must present a token
 * to the member that issued it (jetcd and etcdctl re-authenticate after "invalid auth token").
 * At most {@code tokensMax} are held; beyond that the least recently used goes first, so a client
 * that authenticates in a loop cannot exhaust memory. A simple token always speaks for the member's
 * current auth revision (as in etcd), so it never goes stale; it dies with its user. Thread-safe.
 */
public final class TokenStore implements AuthTokens {
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final int TOKEN_BYTES = 16;

    private record Entry(String user, long expiresNanos) {}

    private final long ttlNanos;
    private final int tokensMax;
    private final LongSupplier clockNanos;
    // Access order: the eldest entry is the least recently used token.
    private final LinkedHashMap<String, Entry> tokens = new LinkedHashMap<>(16, 0.75f, true);
    private long issued;

    public TokenStore(long ttlMillis, int tokensMax, LongSupplier clockNanos) {
        Assert.that(ttlMillis >= 1 && tokensMax >= 1, "token ttl %d ms and limit %d must be positive", ttlMillis, tokensMax);
        this.ttlNanos = ttlMillis * 1_000_000;
        this.tokensMax = tokensMax;
        this.clockNanos = clockNanos;
    }

    /** A new token for {@code user}, in etcd's simple token shape ({@code <random>.<counter>}). */
    public synchronized String issue(String user) {
        String token = HexFormat.of().formatHex(randomBytes()) + "." + (++issued);
        tokens.put(token, new Entry(user, clockNanos.getAsLong() + ttlNanos));
        while (tokens.size() > tokensMax) {
            Iterator<Map.Entry<String, Entry>> eldest = tokens.entrySet().iterator();
            eldest.next();
            eldest.remove();
        }
        return token;
    }

    @Override
    public String issue(String user, long authRevision) {
        return issue(user);
    }

    @Override
    public Optional<Info> info(String token, long currentAuthRevision) {
        return user(token).map(u -> new Info(u, currentAuthRevision));
    }

    /** The user a live token names, renewing it; empty for an unknown or expired token (which is dropped). */
    public synchronized Optional<String> user(String token) {
        Entry e = tokens.get(token);
        if (e == null) return Optional.empty();
        long now = clockNanos.getAsLong();
        if (now - e.expiresNanos() >= 0) {
            tokens.remove(token);
            return Optional.empty();
        }
        tokens.put(token, new Entry(e.user(), now + ttlNanos));
        return Optional.of(e.user());
    }

    /** Drops every token; auth was disabled, so they must not come back to life if it is enabled again. */
    @Override
    public synchronized void clear() {
        tokens.clear();
    }

    public synchronized int size() {
        return tokens.size();
    }

    private static byte[] randomBytes() {
        byte[] b = new byte[TOKEN_BYTES];
        RANDOM.nextBytes(b);
        return b;
    }
}
