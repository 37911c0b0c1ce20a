package io.synod.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * Certificates made at test time with {@code openssl}: a CA, and leaf certificates it signs for
 * 127.0.0.1/localhost usable as server and client certificates (EC P-256, PKCS#8 keys as Netty
 * reads them). Tests that need them are skipped, saying so, when {@code openssl} is missing.
 */
final class TestCerts {
    final Path dir;
    final Path caCert;

    /** A leaf certificate and its key. */
    record Pair(Path cert, Path key) {}

    private TestCerts(Path dir) {
        this.dir = dir;
        this.caCert = dir.resolve("ca.pem");
    }

    static Path openssl() {
        for (String p : List.of("/usr/bin/openssl", "/usr/local/bin/openssl", "/bin/openssl")) {
            if (Files.isExecutable(Path.of(p))) return Path.of(p);
        }
        return null;
    }

    /** A fresh CA in {@code dir}; skips the calling test when openssl is not installed. */
    static TestCerts create(Path dir) throws Exception {
        Assumptions.assumeTrue(openssl() != null, "openssl is not installed (apt-get install openssl); skipping the TLS test");
        Files.createDirectories(dir);
        var certs = new TestCerts(dir);
        certs.run("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
                "-subj", "/CN=synod-test-ca", "-keyout", dir.resolve("ca-key.pem").toString(), "-out", certs.caCert.toString());
        return certs;
    }

    /** A certificate for {@code commonName}, valid for 127.0.0.1 and localhost as server and client. */
    Pair issue(String commonName) throws Exception {
        Path key = dir.resolve(commonName + "-key.pem");
        Path csr = dir.resolve(commonName + ".csr");
        Path cert = dir.resolve(commonName + ".pem");
        Path ext = dir.resolve(commonName + ".ext");
        Files.writeString(ext, "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n");
        run("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-subj", "/CN=" + commonName,
                "-keyout", key.toString(), "-out", csr.toString());
        run("x509", "-req", "-in", csr.toString(), "-CA", caCert.toString(), "-CAkey", dir.resolve("ca-key.pem").toString(),
                "-CAcreateserial", "-days", "2", "-extfile", ext.toString(), "-out", cert.toString());
        return new Pair(cert, key);
    }

    private void run(String... args) throws Exception {
        var cmd = new ArrayList<String>();
        cmd.add(openssl().toString());
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as("%s failed: %s", cmd, out).isZero();
    }
}
