package io.synod.server.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.synod.server.auth.JwtTokens;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * PEM keys as OpenSSL writes them — PKCS#8, PKCS#1 RSA, SEC1 EC, Ed25519, SPKI and PKCS#1
 * public keys, certificates — read by {@link Pem} and paired correctly; encrypted keys refused
 * with a message; and the JWT key commands of docs/operations.md work as written. Skipped when
 * {@code openssl} is not installed.
 */
class PemTest {
    @TempDir Path dir;

    static Path openssl() {
        for (String p : List.of("/usr/bin/openssl", "/usr/local/bin/openssl", "/bin/openssl")) {
            if (Files.isExecutable(Path.of(p))) return Path.of(p);
        }
        return null;
    }

    Path run(String out, String... args) throws Exception {
        Assumptions.assumeTrue(openssl() != null, "openssl is not installed; skipping the PEM test");
        var cmd = new ArrayList<String>();
        cmd.add(openssl().toString());
        for (String a : args) cmd.add(a.replace("@", dir.toString() + "/"));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String text = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as("%s: %s", cmd, text).isZero();
        return dir.resolve(out);
    }

    byte[] read(Path p) throws Exception {
        return Files.readAllBytes(p);
    }

    @Test
    void readsTheKeyShapesOpensslWritesAndPairsThem() throws Exception {
        Path sec1 = run("sec1.pem", "ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "@sec1.pem");
        Path ecPub = run("ec-pub.pem", "ec", "-in", "@sec1.pem", "-pubout", "-out", "@ec-pub.pem");
        Path ecPkcs8 = run("ec-p8.pem", "pkcs8", "-topk8", "-nocrypt", "-in", "@sec1.pem", "-out", "@ec-p8.pem");
        assertThat(Files.readString(sec1)).contains("BEGIN EC PRIVATE KEY");
        assertThat(((java.security.interfaces.ECPrivateKey) Pem.privateKey(read(sec1), "sec1")).getS())
                .isEqualTo(((java.security.interfaces.ECPrivateKey) Pem.privateKey(read(ecPkcs8), "p8")).getS());
        assertThat(Pem.matches(Pem.privateKey(read(sec1), "sec1"), Pem.publicKey(read(ecPub), "pub"))).isTrue();

        Path rsa1 = run("rsa1.pem", "genrsa", "-traditional", "-out", "@rsa1.pem", "2048");
        Path rsaPub1 = run("rsa-pub1.pem", "rsa", "-in", "@rsa1.pem", "-RSAPublicKey_out", "-out", "@rsa-pub1.pem");
        assertThat(Files.readString(rsa1)).contains("BEGIN RSA PRIVATE KEY");
        assertThat(Files.readString(rsaPub1)).contains("BEGIN RSA PUBLIC KEY");
        assertThat(Pem.privateKey(read(rsa1), "rsa1").getAlgorithm()).isEqualTo("RSA");
        assertThat(Pem.matches(Pem.privateKey(read(rsa1), "rsa1"), Pem.publicKey(read(rsaPub1), "rsapub1"))).isTrue();
        assertThat(Pem.matches(Pem.privateKey(read(rsa1), "rsa1"), Pem.publicKey(read(ecPub), "ecpub"))).isFalse();

        Path ed = run("ed.pem", "genpkey", "-algorithm", "ed25519", "-out", "@ed.pem");
        Path edPub = run("ed-pub.pem", "pkey", "-in", "@ed.pem", "-pubout", "-out", "@ed-pub.pem");
        assertThat(Pem.matches(Pem.privateKey(read(ed), "ed"), Pem.publicKey(read(edPub), "edpub"))).isTrue();

        // A certificate stands in for its public key.
        run("cert.pem", "req", "-x509", "-key", "@sec1.pem", "-subj", "/CN=jwt", "-days", "1", "-out", "@cert.pem");
        assertThat(Pem.publicKey(read(dir.resolve("cert.pem")), "cert")).isEqualTo(Pem.publicKey(read(ecPub), "pub"));

        run("enc.pem", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-aes256", "-pass", "pass:secret",
                "-out", "@enc.pem");
        assertThatThrownBy(() -> Pem.privateKey(read(dir.resolve("enc.pem")), "key file enc.pem"))
                .hasMessage("key file enc.pem: encrypted PEM keys are not supported (decrypt it with openssl pkey)");
        assertThatThrownBy(() -> Pem.privateKey(read(ecPub), "pub.pem")).hasMessageContaining("pub.pem: no private key block");
    }

    @Test
    void theDocumentedJwtKeyCommandsWork() throws Exception {
        Path key = run("jwt-key.pem", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", "@jwt-key.pem");
        Path pub = run("jwt-pub.pem", "pkey", "-in", "@jwt-key.pem", "-pubout", "-out", "@jwt-pub.pem");
        var spec = (AuthTokenSpec.Jwt) AuthTokenSpec.parse("jwt,pub-key=" + pub + ",priv-key=" + key + ",sign-method=ES256,ttl=10m");
        var tokens = JwtTokens.load(spec, System::currentTimeMillis);
        assertThat(tokens.info(tokens.issue("alice", 4), 4)).isPresent();
        // An RSA key from etcd's docs (openssl genrsa) with RS256, the public half derived from the private key.
        Path rsa = run("jwt-rsa.pem", "genrsa", "-out", "@jwt-rsa.pem", "2048");
        var rs = JwtTokens.load(new AuthTokenSpec.Jwt("RS256", Optional.empty(), Optional.of(rsa), 60_000), System::currentTimeMillis);
        assertThat(rs.info(rs.issue("bob", 1), 1)).isPresent();
    }
}
