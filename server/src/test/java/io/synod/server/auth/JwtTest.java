package io.synod.server.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.synod.server.security.AuthTokenSpec;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.spec.ECGenParameterSpec;
import java.util.Base64;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * JWT signing and verification on their own: every sign method round-trips etcd's claims and
 * refuses tampered, foreign, expired and algorithm-swapped tokens; weak or mismatched keys are
 * refused when the provider is built; a verify-only provider verifies but does not sign; and
 * {@link JwtTokens} loads PEM key files and stamps the expiry from its clock.
 */
class JwtTest {
    static final long NOW = 1_700_000_000L;
    @TempDir Path dir;

    static KeyPair pair(Jwt.Method m) throws Exception {
        KeyPairGenerator g;
        switch (m.name().substring(0, 2)) {
            case "RS", "PS" -> {
                g = KeyPairGenerator.getInstance("RSA");
                g.initialize(2048);
            }
            case "ES" -> {
                g = KeyPairGenerator.getInstance("EC");
                g.initialize(new ECGenParameterSpec(switch (m) {
                    case ES256 -> "secp256r1";
                    case ES384 -> "secp384r1";
                    default -> "secp521r1";
                }));
            }
            default -> g = KeyPairGenerator.getInstance("Ed25519");
        }
        return g.generateKeyPair();
    }

    static Jwt jwt(Jwt.Method m) throws Exception {
        if (m.name().startsWith("HS")) {
            byte[] secret = new byte[64];
            new java.security.SecureRandom().nextBytes(secret);
            return Jwt.hmac(m, secret);
        }
        KeyPair p = pair(m);
        return Jwt.asymmetric(m, Optional.of(p.getPrivate()), Optional.of(p.getPublic()));
    }

    static String part(String token, int i) {
        return new String(Base64.getUrlDecoder().decode(token.split("\\.")[i]), StandardCharsets.UTF_8);
    }

    @ParameterizedTest
    @EnumSource(Jwt.Method.class)
    void everyMethodRoundTripsAndRefusesTamperingAndExpiry(Jwt.Method m) throws Exception {
        Jwt jwt = jwt(m);
        String token = jwt.sign(new Jwt.Claims("alice", 7, NOW + 60));
        assertThat(part(token, 0)).isEqualTo("{\"alg\":\"" + m.name() + "\",\"typ\":\"JWT\"}");
        assertThat(part(token, 1)).isEqualTo("{\"exp\":" + (NOW + 60) + ",\"revision\":7,\"username\":\"alice\"}");
        assertThat(jwt.verify(token, NOW)).contains(new Jwt.Claims("alice", 7, NOW + 60));
        // Expired at exp (not after it), as RFC 7519 4.1.4 says.
        assertThat(jwt.verify(token, NOW + 59)).isPresent();
        assertThat(jwt.verify(token, NOW + 60)).isEmpty();
        // Another user's claims under this token's signature.
        String[] parts = token.split("\\.");
        String forged = parts[0] + "." + Base64.getUrlEncoder().withoutPadding().encodeToString(
                ("{\"exp\":" + (NOW + 60) + ",\"revision\":7,\"username\":\"root\"}").getBytes(StandardCharsets.UTF_8)) + "." + parts[2];
        assertThat(jwt.verify(forged, NOW)).isEmpty();
        // A flipped signature bit.
        byte[] sig = Base64.getUrlDecoder().decode(parts[2]);
        sig[sig.length / 2] ^= 1;
        assertThat(jwt.verify(parts[0] + "." + parts[1] + "." + Base64.getUrlEncoder().withoutPadding().encodeToString(sig), NOW)).isEmpty();
        // The same claims signed with another key of the same method.
        assertThat(jwt.verify(jwt(m).sign(new Jwt.Claims("alice", 7, NOW + 60)), NOW)).isEmpty();
        // Junk.
        for (String junk : new String[] {"", "a.b", "a.b.c.d", "...", token + "x", "simple.1"}) assertThat(jwt.verify(junk, NOW)).isEmpty();
    }

    @Test
    void unsignedAndAlgorithmSwappedTokensAreRefused() throws Exception {
        KeyPair p = pair(Jwt.Method.RS256);
        Jwt rs = Jwt.asymmetric(Jwt.Method.RS256, Optional.of(p.getPrivate()), Optional.of(p.getPublic()));
        var enc = Base64.getUrlEncoder().withoutPadding();
        String claims = enc.encodeToString(("{\"exp\":" + (NOW + 60) + ",\"revision\":1,\"username\":\"root\"}").getBytes());
        // alg none with an empty signature.
        String none = enc.encodeToString("{\"alg\":\"none\",\"typ\":\"JWT\"}".getBytes()) + "." + claims + ".";
        assertThat(rs.verify(none, NOW)).isEmpty();
        // HS256 keyed with the RSA public key's bytes: the classic confusion attack.
        Jwt hs = Jwt.hmac(Jwt.Method.HS256, p.getPublic().getEncoded());
        assertThat(rs.verify(hs.sign(new Jwt.Claims("root", 1, NOW + 60)), NOW)).isEmpty();
        // A correctly signed token whose crit header names an extension this verifier does not know.
        byte[] secret = "0123456789abcdef0123456789abcdef".getBytes();
        String input = enc.encodeToString("{\"alg\":\"HS256\",\"crit\":\"x\"}".getBytes()) + "." + claims;
        var mac = javax.crypto.Mac.getInstance("HmacSHA256");
        mac.init(new javax.crypto.spec.SecretKeySpec(secret, "HmacSHA256"));
        String crit = input + "." + enc.encodeToString(mac.doFinal(input.getBytes()));
        Jwt hs256 = Jwt.hmac(Jwt.Method.HS256, secret);
        assertThat(hs256.verify(crit, NOW)).isEmpty();
        String plainInput = enc.encodeToString("{\"alg\":\"HS256\"}".getBytes()) + "." + claims;
        assertThat(hs256.verify(plainInput + "." + enc.encodeToString(mac.doFinal(plainInput.getBytes())), NOW)).isPresent();
    }

    @Test
    void claimsAreEscapedAndMissingOrOddClaimsRefused() throws Exception {
        Jwt jwt = jwt(Jwt.Method.HS256);
        String odd = "al\"ice\\\n\u00e9\u0001";
        assertThat(jwt.verify(jwt.sign(new Jwt.Claims(odd, 3, NOW + 5)), NOW)).contains(new Jwt.Claims(odd, 3, NOW + 5));
        assertThat(Jwt.Json.object("{ \"a\" : \"x\\u0041\" , \"b\": -1.5e3, \"c\": true, \"d\": null }"))
                .containsEntry("a", "xA").containsEntry("c", true).containsEntry("d", null);
        for (String bad : new String[] {"{\"a\":1,\"a\":2}", "{\"a\":[1]}", "{\"a\":{}}", "{\"a\":1} x", "{\"a\":01x}", "{\"a\"", "[]"}) {
            assertThatThrownBy(() -> Jwt.Json.object(bad)).as(bad).isInstanceOf(IllegalArgumentException.class);
        }
    }

    @Test
    void weakMismatchedAndWrongKeysAreRefusedAtConstruction() throws Exception {
        assertThatThrownBy(() -> Jwt.hmac(Jwt.Method.HS512, new byte[63])).hasMessageContaining("HS512 needs a key of at least 64 bytes");
        var small = KeyPairGenerator.getInstance("RSA");
        small.initialize(1024);
        KeyPair weak = small.generateKeyPair();
        assertThatThrownBy(() -> Jwt.asymmetric(Jwt.Method.RS256, Optional.of(weak.getPrivate()), Optional.empty()))
                .hasMessageContaining("at least 2048 bits").hasMessageContaining("1024");
        KeyPair p256 = pair(Jwt.Method.ES256);
        assertThatThrownBy(() -> Jwt.asymmetric(Jwt.Method.ES384, Optional.of(p256.getPrivate()), Optional.of(p256.getPublic())))
                .hasMessageContaining("ES384 needs a key on the 384-bit curve").hasMessageContaining("256-bit");
        assertThatThrownBy(() -> Jwt.asymmetric(Jwt.Method.RS256, Optional.of(p256.getPrivate()), Optional.empty()))
                .hasMessageContaining("RS256 needs a RSA priv-key, got EC");
        KeyPair other = pair(Jwt.Method.ES256);
        assertThatThrownBy(() -> Jwt.asymmetric(Jwt.Method.ES256, Optional.of(p256.getPrivate()), Optional.of(other.getPublic())))
                .hasMessageContaining("not one key pair");
        assertThatThrownBy(() -> Jwt.asymmetric(Jwt.Method.ES256, Optional.of(p256.getPrivate()), Optional.empty()))
                .hasMessageContaining("needs pub-key too");
        assertThatThrownBy(() -> Jwt.asymmetric(Jwt.Method.ES256, Optional.empty(), Optional.empty())).hasMessageContaining("needs priv-key");
    }

    @Test
    void verifyOnlyVerifiesButDoesNotSign() throws Exception {
        KeyPair p = pair(Jwt.Method.ES256);
        Jwt signer = Jwt.asymmetric(Jwt.Method.ES256, Optional.of(p.getPrivate()), Optional.of(p.getPublic()));
        Jwt verifier = Jwt.asymmetric(Jwt.Method.ES256, Optional.empty(), Optional.of(p.getPublic()));
        assertThat(verifier.canSign()).isFalse();
        assertThat(verifier.verify(signer.sign(new Jwt.Claims("bob", 2, NOW + 1)), NOW)).isPresent();
        assertThatThrownBy(() -> verifier.sign(new Jwt.Claims("bob", 2, NOW + 1))).hasMessage("auth: token signing attempted with verify-only key");
        // An RSA private key alone verifies with its own public half.
        KeyPair r = pair(Jwt.Method.RS256);
        Jwt rsa = Jwt.asymmetric(Jwt.Method.RS256, Optional.of(r.getPrivate()), Optional.empty());
        assertThat(rsa.verify(rsa.sign(new Jwt.Claims("bob", 2, NOW + 1)), NOW)).isPresent();
    }

    static String pem(String label, byte[] der) {
        return "-----BEGIN " + label + "-----\n" + Base64.getMimeEncoder(64, "\n".getBytes()).encodeToString(der) + "\n-----END " + label
                + "-----\n";
    }

    @Test
    void jwtTokensLoadPemKeysAndStampExpiryFromTheirClock() throws Exception {
        KeyPair p = pair(Jwt.Method.ES256);
        Path priv = Files.writeString(dir.resolve("priv.pem"), pem("PRIVATE KEY", p.getPrivate().getEncoded()));
        Path pub = Files.writeString(dir.resolve("pub.pem"), pem("PUBLIC KEY", p.getPublic().getEncoded()));
        long[] now = {NOW * 1000};
        var tokens = JwtTokens.load(new AuthTokenSpec.Jwt("ES256", Optional.of(pub), Optional.of(priv), 2500), () -> now[0]);
        String t = tokens.issue("carol", 9);
        assertThat(part(t, 1)).contains("\"exp\":" + (NOW + 2));
        assertThat(tokens.info(t, 12)).contains(new AuthTokens.Info("carol", 9)); // the stale check is the gate's
        now[0] += 1999;
        assertThat(tokens.info(t, 9)).isPresent();
        now[0] += 1;
        assertThat(tokens.info(t, 9)).isEmpty();
        // A verify-only provider built from the public key accepts the token but cannot issue.
        now[0] = NOW * 1000;
        var verifyOnly = JwtTokens.load(new AuthTokenSpec.Jwt("ES256", Optional.of(pub), Optional.empty(), 60_000), () -> now[0]);
        assertThat(verifyOnly.canIssue()).isFalse();
        assertThat(verifyOnly.info(t, 9)).isPresent();
        // HMAC secrets are the priv-key file's bytes.
        Path secret = Files.writeString(dir.resolve("secret"), "s".repeat(40));
        var hs = JwtTokens.load(new AuthTokenSpec.Jwt("HS256", Optional.empty(), Optional.of(secret), 60_000), () -> now[0]);
        assertThat(hs.info(hs.issue("dave", 1), 1)).contains(new AuthTokens.Info("dave", 1));
        assertThatThrownBy(() -> JwtTokens.load(new AuthTokenSpec.Jwt("HS256", Optional.of(pub), Optional.empty(), 60_000), () -> 0))
                .hasMessageContaining("HS256 needs priv-key");
        assertThatThrownBy(() -> JwtTokens.load(new AuthTokenSpec.Jwt("RS256", Optional.of(pub), Optional.of(priv), 60_000), () -> 0))
                .hasMessageContaining("--auth-token jwt: RS256 needs a RSA priv-key, got EC");
        Path garbage = Files.writeString(dir.resolve("garbage.pem"), "not a key");
        assertThatThrownBy(() -> JwtTokens.load(new AuthTokenSpec.Jwt("ES256", Optional.empty(), Optional.of(garbage), 60_000), () -> 0))
                .hasMessageContaining("priv-key " + garbage + ": no PEM block");
    }
}
