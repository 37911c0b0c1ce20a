package io.synod.server.auth;

import io.synod.common.Assert;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;
import javax.crypto.SecretKeyFactory;
import javax.crypto.spec.PBEKeySpec;

/**
 * Salted slow password hashes: PBKDF2 with HMAC-SHA-256 from the JDK, a 16-byte random salt per
 * password and {@code iterations} rounds (210,000 by default, OWASP's 2023 figure for this PRF;
 * {@code --synod-auth-pbkdf2-iterations}), stored as
 * {@code pbkdf2-sha256$<iterations>$<salt>$<hash>} in base64, so a stored hash keeps verifying
 * after the setting changes. Only the hash is replicated; the member that takes the request hashes.
 */
public final class Passwords {
    private static final String PREFIX = "pbkdf2-sha256";
    private static final int SALT_BYTES = 16;
    private static final int HASH_BITS = 256;
    private static final SecureRandom RANDOM = new SecureRandom();

    private final int iterations;

    public Passwords(int iterations) {
        Assert.that(iterations >= 1, "pbkdf2 iterations must be positive: %d", iterations);
        this.iterations = iterations;
    }

    public String hash(String password) {
        byte[] salt = new byte[SALT_BYTES];
        RANDOM.nextBytes(salt);
        var b64 = Base64.getEncoder();
        return PREFIX + "$" + iterations + "$" + b64.encodeToString(salt) + "$" + b64.encodeToString(derive(password, salt, iterations));
    }

    /** True when {@code password} matches {@code stored}; compares in constant time. */
    public static boolean verify(String password, String stored) {
        String[] parts = stored.split("\\$");
        if (parts.length != 4 || !parts[0].equals(PREFIX)) return false;
        int rounds = Integer.parseInt(parts[1]);
        var b64 = Base64.getDecoder();
        return MessageDigest.isEqual(derive(password, b64.decode(parts[2]), rounds), b64.decode(parts[3]));
    }

    private static byte[] derive(String password, byte[] salt, int rounds) {
        var spec = new PBEKeySpec(password.toCharArray(), salt, rounds, HASH_BITS);
        try {
            return SecretKeyFactory.getInstance("PBKDF2WithHmacSHA256").generateSecret(spec).getEncoded();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("the JDK lacks PBKDF2WithHmacSHA256", e);
        } finally {
            spec.clearPassword();
        }
    }
}
