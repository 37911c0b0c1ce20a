package io.synod.server.security;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The {@code --auth-token} setting in etcd's syntax: {@code simple} (random per-member tokens,
 * the default), or {@code jwt,sign-method=RS256,priv-key=PATH,pub-key=PATH,ttl=5m} (signed
 * tokens any member with the key verifies; etcd's options: {@code sign-method} is required,
 * {@code ttl} is a Go duration defaulting to 5 minutes, HMAC methods take their secret from
 * {@code priv-key}, and an asymmetric method given only {@code pub-key} verifies without
 * issuing). Parsing checks the syntax, the option names (unknown ones are refused, where etcd
 * only warns), the sign method and that the key files are readable; the keys themselves are read
 * by {@code auth.JwtTokens.load}, which {@code ServerConfig.fromArgs} calls so bad keys stop the
 * member at start.
 */
public sealed interface AuthTokenSpec {
    /** etcd's simple tokens. */
    record Simple() implements AuthTokenSpec {}

    /**
     * etcd's JWT tokens.
     *
     * @param signMethod JWS name of the signing method (RS256, PS384, ES256, HS512, EdDSA, ...)
     * @param publicKey  PEM public key or certificate that verifies tokens
     * @param privateKey PEM private key that signs them (for HS methods: the raw secret)
     * @param ttlMillis  how long an issued token is valid (etcd: 5 minutes)
     */
    record Jwt(String signMethod, Optional<Path> publicKey, Optional<Path> privateKey, long ttlMillis) implements AuthTokenSpec {
        public Jwt {
            require(SIGN_METHODS.contains(signMethod), "--auth-token jwt: unknown sign-method '" + signMethod + "' (one of "
                    + String.join(", ", SIGN_METHODS) + ")");
            require(ttlMillis >= 1000, "--auth-token jwt: ttl must be at least 1s (exp has whole seconds), got " + ttlMillis + " ms");
            require(publicKey.isPresent() || privateKey.isPresent(), "--auth-token jwt needs priv-key and/or pub-key");
            for (var f : java.util.List.of(publicKey, privateKey)) {
                f.ifPresent(p -> require(Files.isReadable(p), "--auth-token jwt: cannot read key file " + p));
            }
        }
    }

    Simple SIMPLE = new Simple();
    /** etcd's default JWT lifetime. */
    long DEFAULT_JWT_TTL_MILLIS = 5 * 60_000;
    /** The sign methods {@link io.synod.server.auth.Jwt} implements, by their JWS names. */
    java.util.List<String> SIGN_METHODS = java.util.Arrays.stream(io.synod.server.auth.Jwt.Method.values()).map(Enum::name).toList();

    /** Parses an {@code --auth-token} value; throws {@link IllegalArgumentException} with a message naming the bad part. */
    static AuthTokenSpec parse(String value) {
        String[] parts = value.split(",", -1);
        String type = parts[0].trim();
        var options = new LinkedHashMap<String, String>();
        for (int i = 1; i < parts.length; i++) {
            int eq = parts[i].indexOf('=');
            require(eq > 0, "--auth-token option '" + parts[i] + "' is not name=value");
            String name = parts[i].substring(0, eq).trim();
            require(options.put(name, parts[i].substring(eq + 1).trim()) == null, "--auth-token names option '" + name + "' twice");
        }
        return switch (type) {
            case "simple" -> {
                require(options.isEmpty(), "--auth-token simple takes no options, got " + options.keySet());
                yield SIMPLE;
            }
            case "jwt" -> jwt(options);
            default -> throw new IllegalArgumentException("--auth-token type '" + type + "' is unknown (simple or jwt)");
        };
    }

    private static Jwt jwt(Map<String, String> options) {
        for (String k : options.keySet()) {
            require(Set.of("sign-method", "pub-key", "priv-key", "ttl").contains(k),
                    "--auth-token jwt: unknown option '" + k + "' (sign-method, pub-key, priv-key, ttl)");
        }
        String method = options.get("sign-method");
        require(method != null && !method.isEmpty(), "--auth-token jwt needs sign-method=...");
        String ttl = options.getOrDefault("ttl", "");
        return new Jwt(method, path(options.get("pub-key")), path(options.get("priv-key")),
                ttl.isEmpty() ? DEFAULT_JWT_TTL_MILLIS : goDurationMillis(ttl));
    }

    private static Optional<Path> path(String v) {
        return v == null || v.isEmpty() ? Optional.empty() : Optional.of(Path.of(v));
    }

    /**
     * A Go duration ({@code 300ms}, {@code 1.5h}, {@code 2h45m}; units ns, us, µs, ms, s, m, h) in
     * whole milliseconds, rounded down.
     */
    static long goDurationMillis(String text) {
        var m = java.util.regex.Pattern.compile("(\\d+(?:\\.\\d*)?|\\.\\d+)(ns|us|µs|μs|ms|s|m|h)").matcher(text);
        require(!text.isEmpty() && !text.startsWith("-"), "--auth-token jwt: bad ttl '" + text + "'");
        int at = 0;
        var total = java.math.BigDecimal.ZERO;
        while (at < text.length()) {
            require(m.find(at) && m.start() == at, "--auth-token jwt: bad ttl '" + text + "' (a Go duration such as 5m or 1h30m)");
            var nanosPerUnit = switch (m.group(2)) {
                case "ns" -> 1L;
                case "us", "µs", "μs" -> 1_000L;
                case "ms" -> 1_000_000L;
                case "s" -> 1_000_000_000L;
                case "m" -> 60_000_000_000L;
                default -> 3_600_000_000_000L;
            };
            total = total.add(new java.math.BigDecimal(m.group(1)).multiply(java.math.BigDecimal.valueOf(nanosPerUnit)));
            at = m.end();
        }
        require(total.compareTo(java.math.BigDecimal.valueOf(Long.MAX_VALUE)) <= 0, "--auth-token jwt: ttl '" + text + "' is too long");
        return total.longValue() / 1_000_000;
    }

    private static void require(boolean ok, String message) {
        if (!ok) throw new IllegalArgumentException(message);
    }
}
