package io.synod.server.auth;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** Simple tokens on a fake clock: expiry after the TTL unused, renewal on use, the bound on tokens held; and password hashes. */
class TokenStoreTest {
    long now;

    @Test
    void tokensExpireUnusedRenewOnUseAndAreBounded() {
        var tokens = new TokenStore(1000, 2, () -> now);
        String t = tokens.issue("alice");
        now += 900_000_000L;
        assertThat(tokens.user(t)).contains("alice"); // renewed to now + 1 s
        now += 900_000_000L;
        assertThat(tokens.user(t)).contains("alice");
        now += 1_000_000_000L;
        assertThat(tokens.user(t)).isEmpty();
        String a = tokens.issue("a");
        String b = tokens.issue("b");
        tokens.user(a);
        tokens.issue("c"); // evicts b, the least recently used
        assertThat(tokens.user(b)).isEmpty();
        assertThat(tokens.user(a)).contains("a");
        assertThat(tokens.size()).isEqualTo(2);
    }

    @Test
    void passwordsVerifyOnlyTheirOwnHash() {
        var p = new Passwords(1000);
        String h = p.hash("secret");
        assertThat(h).startsWith("pbkdf2-sha256$1000$");
        assertThat(Passwords.verify("secret", h)).isTrue();
        assertThat(Passwords.verify("Secret", h)).isFalse();
        assertThat(p.hash("secret")).isNotEqualTo(h); // salted
    }
}
