package io.synod.server.auth;

import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.Key;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.security.interfaces.ECKey;
import java.security.interfaces.EdECKey;
import java.security.interfaces.RSAKey;
import java.security.spec.MGF1ParameterSpec;
import java.security.spec.PSSParameterSpec;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Signs and verifies the JSON Web Tokens (RFC 7519, compact JWS) that {@code --auth-token jwt}
 * hands out, with the JDK's {@link Signature} and {@link Mac} only. A token is
 * {@code base64url(header).base64url(claims).base64url(signature)} with the header
 * {@code {"alg":"<method>","typ":"JWT"}} and etcd's claims {@code username}, {@code revision} (the
 * auth revision at login) and {@code exp} (seconds since the epoch). Verification refuses any
 * token whose {@code alg} is not the configured method (so neither {@code none} nor an HMAC made
 * with a public key passes), whose signature does not verify, which lacks one of those claims, has
 * a {@code crit} header, or has expired ({@code exp <= now}) or is not yet valid ({@code nbf}). A
 * verifier built from a public key alone ({@link #canSign()} false) verifies but cannot issue, as
 * etcd's verify-only mode. Key strength follows RFC 7518: HMAC secrets at least as long as the
 * hash, RSA moduli of at least 2048 bits, and each ES method on its own curve. Immutable and
 * thread-safe.
 */
public final class Jwt {
    /** The signing methods, by their JWS names. */
    public enum Method {
        HS256("HmacSHA256", 32), HS384("HmacSHA384", 48), HS512("HmacSHA512", 64),
        RS256("SHA256withRSA", 0), RS384("SHA384withRSA", 0), RS512("SHA512withRSA", 0),
        PS256("RSASSA-PSS", 32), PS384("RSASSA-PSS", 48), PS512("RSASSA-PSS", 64),
        ES256("SHA256withECDSAinP1363Format", 256), ES384("SHA384withECDSAinP1363Format", 384),
        ES512("SHA512withECDSAinP1363Format", 521),
        EdDSA("EdDSA", 0);

        final String jdkName;
        /** HMAC: the least key bytes; PSS: the salt (hash) length; ES: the curve's bits. */
        final int size;

        Method(String jdkName, int size) {
            this.jdkName = jdkName;
            this.size = size;
        }

        boolean hmac() {
            return name().startsWith("HS");
        }

        /** The key algorithm family the method needs ("RSA", "EC", "EdDSA"), or null for HMAC. */
        String keyFamily() {
            return switch (name().substring(0, 2)) {
                case "RS", "PS" -> "RSA";
                case "ES" -> "EC";
                case "Ed" -> "EdDSA";
                default -> null;
            };
        }

        /** The method named {@code name} (case as in JWS: "RS256", "EdDSA"). */
        public static Optional<Method> of(String name) {
            for (Method m : values()) if (m.name().equals(name)) return Optional.of(m);
            return Optional.empty();
        }
    }

    /** etcd's claims: who logged in, at which auth revision, and until when (epoch seconds) the token is good. */
    public record Claims(String username, long revision, long expiresEpochSeconds) {
        public Claims {
            java.util.Objects.requireNonNull(username, "username");
            if (revision < 0) throw new IllegalArgumentException("auth revision must not be negative: " + revision);
        }
    }

    /** Tokens longer than this are refused unread (gRPC's default metadata limit is 8 KiB as well). */
    public static final int TOKEN_CHARS_MAX = 8192;

    private final Method method;
    private final Optional<Key> signKey;
    private final Key verifyKey;
    private final String encodedHeader;

    private Jwt(Method method, Optional<Key> signKey, Key verifyKey) {
        this.method = method;
        this.signKey = signKey;
        this.verifyKey = verifyKey;
        this.encodedHeader = b64("{\"alg\":\"" + method.name() + "\",\"typ\":\"JWT\"}");
    }

    /** An HMAC signer and verifier; {@code secret} is the raw key (etcd takes the priv-key file's bytes as they are). */
    public static Jwt hmac(Method method, byte[] secret) {
        require(method.hmac(), method + " is not an HMAC method");
        require(secret.length >= method.size, method + " needs a key of at least " + method.size + " bytes (RFC 7518 3.2), got "
                + secret.length);
        var key = new SecretKeySpec(secret, method.jdkName);
        return new Jwt(method, Optional.of(key), key);
    }

    /**
     * A signer and verifier for an asymmetric method. With only {@code publicKey} it verifies and
     * cannot sign; with only {@code privateKey} it verifies with the public half of the same pair,
     * which the key must then carry (RSA CRT keys do; EC and EdDSA keys need {@code publicKey}).
     *
     * @throws IllegalArgumentException naming what is wrong: no key, a key of the wrong type or
     *         size, or two keys that are not one pair
     */
    public static Jwt asymmetric(Method method, Optional<PrivateKey> privateKey, Optional<PublicKey> publicKey) {
        require(!method.hmac(), method + " is an HMAC method; it takes a secret, not a key pair");
        require(privateKey.isPresent() || publicKey.isPresent(), method + " needs priv-key (to issue tokens) or pub-key (to verify them)");
        privateKey.ifPresent(k -> checkKey(method, k, "priv-key"));
        publicKey.ifPresent(k -> checkKey(method, k, "pub-key"));
        PublicKey verify;
        if (publicKey.isPresent()) {
            verify = publicKey.get();
            if (privateKey.isPresent()) {
                require(io.synod.server.security.Pem.matches(privateKey.get(), verify), "priv-key and pub-key are not one key pair");
            }
        } else if (privateKey.get() instanceof java.security.interfaces.RSAPrivateCrtKey crt) {
            try {
                verify = java.security.KeyFactory.getInstance("RSA").generatePublic(
                        new java.security.spec.RSAPublicKeySpec(crt.getModulus(), crt.getPublicExponent()));
            } catch (GeneralSecurityException e) {
                throw new IllegalArgumentException("cannot derive the RSA public key: " + e.getMessage(), e);
            }
        } else {
            throw new IllegalArgumentException(method + " with only priv-key needs pub-key too, to verify the tokens it issues");
        }
        return new Jwt(method, privateKey.map(k -> (Key) k), verify);
    }

    private static void checkKey(Method method, Key key, String which) {
        String family = io.synod.server.security.Pem.family(key.getAlgorithm());
        if (family.equals("RSASSA-PSS")) family = "RSA";
        require(family.equals(method.keyFamily()), method + " needs a " + method.keyFamily() + " " + which + ", got " + key.getAlgorithm());
        if (key instanceof RSAKey rsa) {
            require(rsa.getModulus().bitLength() >= 2048, method + " needs an RSA key of at least 2048 bits (RFC 7518 3.3), " + which
                    + " has " + rsa.getModulus().bitLength());
        }
        if (key instanceof ECKey ec) {
            int bits = ec.getParams().getCurve().getField().getFieldSize();
            require(bits == method.size, method + " needs a key on the " + method.size + "-bit curve, " + which + " is on a " + bits
                    + "-bit curve");
        }
        if (method == Method.EdDSA) require(key instanceof EdECKey, "EdDSA needs an Ed25519 or Ed448 " + which);
    }

    public Method method() {
        return method;
    }

    /** False for a verify-only instance (a public key without its private key). */
    public boolean canSign() {
        return signKey.isPresent();
    }

    /** The compact token for {@code claims}. */
    public String sign(Claims claims) {
        if (signKey.isEmpty()) throw new IllegalStateException("auth: token signing attempted with verify-only key");
        var json = new StringBuilder("{\"exp\":").append(claims.expiresEpochSeconds()).append(",\"revision\":").append(claims.revision())
                .append(",\"username\":");
        quote(json, claims.username());
        String signingInput = encodedHeader + "." + b64(json.append('}').toString());
        return signingInput + "." + Base64.getUrlEncoder().withoutPadding().encodeToString(signature(signingInput));
    }

    /**
     * The claims of {@code token} if it is well formed, was signed by this method and key, and is
     * valid at {@code nowEpochSeconds}; empty otherwise (the caller answers "invalid auth token").
     */
    public Optional<Claims> verify(String token, long nowEpochSeconds) {
        if (token.length() > TOKEN_CHARS_MAX) return Optional.empty();
        int dot1 = token.indexOf('.');
        int dot2 = dot1 < 0 ? -1 : token.indexOf('.', dot1 + 1);
        if (dot1 < 0 || dot2 < 0 || token.indexOf('.', dot2 + 1) >= 0) return Optional.empty();
        try {
            var decoder = Base64.getUrlDecoder();
            Map<String, Object> header = Json.object(new String(decoder.decode(token.substring(0, dot1)), StandardCharsets.UTF_8));
            if (!method.name().equals(header.get("alg")) || header.containsKey("crit")) return Optional.empty();
            byte[] sig = decoder.decode(token.substring(dot2 + 1));
            if (!verifySignature(token.substring(0, dot2), sig)) return Optional.empty();
            Map<String, Object> claims = Json.object(new String(decoder.decode(token.substring(dot1 + 1, dot2)), StandardCharsets.UTF_8));
            if (!(claims.get("username") instanceof String user) || !(claims.get("revision") instanceof BigDecimal rev)
                    || !(claims.get("exp") instanceof BigDecimal exp)) {
                return Optional.empty();
            }
            long revision = rev.longValueExact();
            long expires = exp.setScale(0, java.math.RoundingMode.FLOOR).longValueExact();
            if (revision < 0 || nowEpochSeconds >= expires) return Optional.empty();
            if (claims.get("nbf") instanceof BigDecimal nbf && nbf.compareTo(BigDecimal.valueOf(nowEpochSeconds)) > 0) return Optional.empty();
            return Optional.of(new Claims(user, revision, expires));
        } catch (IllegalArgumentException | ArithmeticException e) {
            return Optional.empty(); // bad base64, bad JSON, a number out of range
        }
    }

    private byte[] signature(String signingInput) {
        byte[] data = signingInput.getBytes(StandardCharsets.US_ASCII);
        try {
            if (method.hmac()) {
                Mac mac = Mac.getInstance(method.jdkName);
                mac.init(signKey.get());
                return mac.doFinal(data);
            }
            Signature s = signatureInstance();
            s.initSign((PrivateKey) signKey.get());
            s.update(data);
            return s.sign();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot sign a " + method + " token: " + e.getMessage(), e);
        }
    }

    private boolean verifySignature(String signingInput, byte[] sig) {
        byte[] data = signingInput.getBytes(StandardCharsets.US_ASCII);
        try {
            if (method.hmac()) {
                Mac mac = Mac.getInstance(method.jdkName);
                mac.init(verifyKey);
                return MessageDigest.isEqual(mac.doFinal(data), sig);
            }
            Signature s = signatureInstance();
            s.initVerify((PublicKey) verifyKey);
            s.update(data);
            return s.verify(sig);
        } catch (GeneralSecurityException | IllegalArgumentException e) {
            return false; // e.g. an ECDSA signature of the wrong length
        }
    }

    private Signature signatureInstance() throws GeneralSecurityException {
        Signature s = Signature.getInstance(method.jdkName);
        if (method.name().startsWith("PS")) {
            String hash = "SHA-" + method.name().substring(2);
            var mgf = switch (method) {
                case PS256 -> MGF1ParameterSpec.SHA256;
                case PS384 -> MGF1ParameterSpec.SHA384;
                default -> MGF1ParameterSpec.SHA512;
            };
            s.setParameter(new PSSParameterSpec(hash, "MGF1", mgf, method.size, 1));
        }
        return s;
    }

    private static String b64(String json) {
        return Base64.getUrlEncoder().withoutPadding().encodeToString(json.getBytes(StandardCharsets.UTF_8));
    }

    static void quote(StringBuilder out, String s) {
        out.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                default -> {
                    if (c < 0x20) out.append(String.format("\\u%04x", (int) c));
                    else out.append(c);
                }
            }
        }
        out.append('"');
    }

    private static void require(boolean ok, String message) {
        if (!ok) throw new IllegalArgumentException(message);
    }

    /**
     * The JSON a token carries: one flat object whose values are strings, numbers (as
     * {@link BigDecimal}), booleans or null. Nested objects and arrays, duplicate names and
     * trailing text are refused ({@link IllegalArgumentException}); etcd's tokens have none.
     */
    static final class Json {
        private final String s;
        private int pos;

        private Json(String s) {
            this.s = s;
        }

        static Map<String, Object> object(String text) {
            var p = new Json(text);
            var out = p.parseObject();
            p.skipSpace();
            if (p.pos != text.length()) throw new IllegalArgumentException("trailing text after the JSON object");
            return out;
        }

        private Map<String, Object> parseObject() {
            var out = new LinkedHashMap<String, Object>();
            expect('{');
            skipSpace();
            if (peek() == '}') {
                pos++;
                return out;
            }
            while (true) {
                skipSpace();
                String name = parseString();
                skipSpace();
                expect(':');
                skipSpace();
                if (out.put(name, parseValue()) != null) throw new IllegalArgumentException("duplicate JSON name " + name);
                skipSpace();
                char c = next();
                if (c == '}') return out;
                if (c != ',') throw new IllegalArgumentException("expected , or } at " + (pos - 1));
            }
        }

        private Object parseValue() {
            char c = peek();
            if (c == '"') return parseString();
            if (c == '-' || (c >= '0' && c <= '9')) return parseNumber();
            if (s.startsWith("true", pos)) {
                pos += 4;
                return Boolean.TRUE;
            }
            if (s.startsWith("false", pos)) {
                pos += 5;
                return Boolean.FALSE;
            }
            if (s.startsWith("null", pos)) {
                pos += 4;
                return null;
            }
            throw new IllegalArgumentException("unsupported JSON value at " + pos);
        }

        private BigDecimal parseNumber() {
            int start = pos;
            while (pos < s.length() && "+-0123456789.eE".indexOf(s.charAt(pos)) >= 0) pos++;
            String n = s.substring(start, pos);
            if (n.length() > 40) throw new IllegalArgumentException("JSON number too long");
            try {
                BigDecimal d = new BigDecimal(n);
                if (Math.abs((long) d.scale()) > 40) throw new IllegalArgumentException("JSON number out of range");
                return d;
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("bad JSON number " + n, e);
            }
        }

        private String parseString() {
            expect('"');
            var out = new StringBuilder();
            while (true) {
                char c = next();
                if (c == '"') return out.toString();
                if (c < 0x20) throw new IllegalArgumentException("control character in a JSON string");
                if (c != '\\') {
                    out.append(c);
                    continue;
                }
                char e = next();
                switch (e) {
                    case '"', '\\', '/' -> out.append(e);
                    case 'b' -> out.append('\b');
                    case 'f' -> out.append('\f');
                    case 'n' -> out.append('\n');
                    case 'r' -> out.append('\r');
                    case 't' -> out.append('\t');
                    case 'u' -> {
                        if (pos + 4 > s.length()) throw new IllegalArgumentException("short \\u escape");
                        out.append((char) Integer.parseInt(s.substring(pos, pos + 4), 16));
                        pos += 4;
                    }
                    default -> throw new IllegalArgumentException("bad JSON escape \\" + e);
                }
            }
        }

        private void skipSpace() {
            while (pos < s.length() && " \t\r\n".indexOf(s.charAt(pos)) >= 0) pos++;
        }

        private char peek() {
            if (pos >= s.length()) throw new IllegalArgumentException("JSON ends early");
            return s.charAt(pos);
        }

        private char next() {
            char c = peek();
            pos++;
            return c;
        }

        private void expect(char c) {
            if (next() != c) throw new IllegalArgumentException("expected " + c + " at " + (pos - 1));
        }
    }
}
