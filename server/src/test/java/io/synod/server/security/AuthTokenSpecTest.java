package io.synod.server.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.synod.server.ServerConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPairGenerator;
import java.security.spec.ECGenParameterSpec;
import java.util.Base64;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code --auth-token} in etcd's syntax and {@code --synod-tls-reload-interval-ms}: what parses,
 * the defaults, and the start-up refusals (unknown type, option or sign method, missing or
 * unreadable key files, keys that are not a pair) with messages that say what to fix.
 */
class AuthTokenSpecTest {
    static final String CLUSTER = "a=http://127.0.0.1:21380";
    @TempDir Path dir;

    static String pem(String label, byte[] der) {
        return "-----BEGIN " + label + "-----\n" + Base64.getMimeEncoder(64, "\n".getBytes()).encodeToString(der) + "\n-----END " + label
                + "-----\n";
    }

    Path[] ecKeys(String prefix) throws Exception {
        var g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp256r1"));
        var p = g.generateKeyPair();
        return new Path[] {Files.writeString(dir.resolve(prefix + "-priv.pem"), pem("PRIVATE KEY", p.getPrivate().getEncoded())),
                Files.writeString(dir.resolve(prefix + "-pub.pem"), pem("PUBLIC KEY", p.getPublic().getEncoded()))};
    }

    static ServerConfig args(String... more) {
        var all = new java.util.ArrayList<>(java.util.List.of("--name=a", "--initial-cluster=" + CLUSTER));
        all.addAll(java.util.List.of(more));
        return ServerConfig.fromArgs(all.toArray(String[]::new));
    }

    @Test
    void parsesEtcdsSyntaxWithItsDefaults() throws Exception {
        Path[] k = ecKeys("k");
        assertThat(AuthTokenSpec.parse("simple")).isEqualTo(AuthTokenSpec.SIMPLE);
        assertThat(AuthTokenSpec.parse("jwt,pub-key=" + k[1] + ",priv-key=" + k[0] + ",sign-method=ES256"))
                .isEqualTo(new AuthTokenSpec.Jwt("ES256", Optional.of(k[1]), Optional.of(k[0]), 300_000));
        assertThat(AuthTokenSpec.parse("jwt,sign-method=ES256,pub-key=" + k[1] + ",ttl=1h30m"))
                .isEqualTo(new AuthTokenSpec.Jwt("ES256", Optional.of(k[1]), Optional.empty(), 5_400_000));
        assertThat(AuthTokenSpec.goDurationMillis("1.5s")).isEqualTo(1500);
        assertThat(AuthTokenSpec.goDurationMillis("2m3s500ms")).isEqualTo(123_500);
        assertThat(AuthTokenSpec.goDurationMillis("3000000us")).isEqualTo(3000);
        var cfg = args("--auth-token=jwt,sign-method=ES256,priv-key=" + k[0] + ",pub-key=" + k[1] + ",ttl=10m",
                "--synod-tls-reload-interval-ms=0");
        assertThat(cfg.security().authToken()).isEqualTo(new AuthTokenSpec.Jwt("ES256", Optional.of(k[1]), Optional.of(k[0]), 600_000));
        assertThat(cfg.security().tlsReloadIntervalMillis()).isZero();
        assertThat(args().security().authToken()).isEqualTo(AuthTokenSpec.SIMPLE);
        assertThat(args().security().tlsReloadIntervalMillis()).isEqualTo(SecurityConfig.DEFAULT_TLS_RELOAD_INTERVAL_MILLIS);
    }

    @Test
    void badSettingsAreRefusedAtStartWithAClearMessage() throws Exception {
        Path[] k = ecKeys("k");
        Path[] other = ecKeys("other");
        String keys = ",priv-key=" + k[0] + ",pub-key=" + k[1];
        assertThatThrownBy(() -> args("--auth-token=jwt,sign-method=RS999" + keys)).hasMessageContaining("unknown sign-method 'RS999'")
                .hasMessageContaining("ES256");
        assertThatThrownBy(() -> args("--auth-token=jwt" + keys)).hasMessageContaining("--auth-token jwt needs sign-method=");
        assertThatThrownBy(() -> args("--auth-token=jwt,sign-method=ES256,priv-key=" + dir.resolve("missing.pem")))
                .hasMessageContaining("cannot read key file " + dir.resolve("missing.pem"));
        assertThatThrownBy(() -> args("--auth-token=jwt,sign-method=ES256")).hasMessageContaining("needs priv-key and/or pub-key");
        assertThatThrownBy(() -> args("--auth-token=jwt,sign-method=ES256,colour=blue" + keys)).hasMessageContaining("unknown option 'colour'");
        assertThatThrownBy(() -> args("--auth-token=jwt,sign-method=ES256,ttl=5 minutes" + keys)).hasMessageContaining("bad ttl '5 minutes'");
        assertThatThrownBy(() -> args("--auth-token=jwt,sign-method=ES256,ttl=500ms" + keys)).hasMessageContaining("at least 1s");
        assertThatThrownBy(() -> args("--auth-token=jwt,sign-method=ES256,ttl=1m,ttl=2m" + keys)).hasMessageContaining("'ttl' twice");
        assertThatThrownBy(() -> args("--auth-token=jwt,sign-method=ES256,pub-key" + keys)).hasMessageContaining("'pub-key' is not name=value");
        assertThatThrownBy(() -> args("--auth-token=oauth")).hasMessageContaining("--auth-token type 'oauth' is unknown");
        assertThatThrownBy(() -> args("--auth-token=simple,ttl=1m")).hasMessageContaining("simple takes no options");
        // The keys themselves are read at start: a pair that is not one, a key of the wrong kind.
        assertThatThrownBy(() -> args("--auth-token=jwt,sign-method=ES256,priv-key=" + k[0] + ",pub-key=" + other[1]))
                .hasMessageContaining("not one key pair");
        assertThatThrownBy(() -> args("--auth-token=jwt,sign-method=RS256" + keys)).hasMessageContaining("RS256 needs a RSA");
        assertThatThrownBy(() -> args("--synod-tls-reload-interval-ms=-1")).hasMessageContaining("must not be negative");
    }
}
