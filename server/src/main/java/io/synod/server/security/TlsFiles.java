package io.synod.server.security;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * The TLS material of one listener, as etcd's flags name it: {@code --cert-file}/{@code --key-file}
 * (the listener's certificate and its PEM key: PKCS#8, PKCS#1 RSA or SEC1 EC), {@code --trusted-ca-file} (the CA that
 * signs the certificates of those who connect, and of the peers this member connects to) and
 * {@code --client-cert-auth} (connections without a certificate that CA signed are refused). The
 * peer listener has the same four with a {@code peer-} prefix. {@link #NONE} is plaintext. The
 * files are read by {@link TlsMaterial}, which also takes up replaced files without a restart.
 *
 * @param certFile       PEM certificate chain the listener presents (and the peer transport presents to other members)
 * @param keyFile        PEM private key of {@code certFile}
 * @param trustedCaFile  PEM CA bundle that verifies the other side's certificate
 * @param clientCertAuth whether a connection must present a certificate {@code trustedCaFile} verifies
 */
public record TlsFiles(Optional<Path> certFile, Optional<Path> keyFile, Optional<Path> trustedCaFile, boolean clientCertAuth) {
    public static final TlsFiles NONE = new TlsFiles(Optional.empty(), Optional.empty(), Optional.empty(), false);

    public TlsFiles {
        require(certFile.isPresent() == keyFile.isPresent(), "a certificate needs its key and a key its certificate (--cert-file with --key-file)");
        require(!clientCertAuth || trustedCaFile.isPresent(), "client certificate authentication needs a trusted CA file (--trusted-ca-file)");
        for (Optional<Path> f : java.util.List.of(certFile, keyFile, trustedCaFile)) {
            f.ifPresent(p -> require(Files.isReadable(p), "cannot read TLS file " + p));
        }
    }

    /** True when the listener has a certificate, so it can serve {@code https://}. */
    public boolean serves() {
        return certFile.isPresent();
    }

    private static void require(boolean ok, String message) {
        if (!ok) throw new IllegalArgumentException(message);
    }
}
