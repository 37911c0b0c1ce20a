package io.synod.server.security;

import io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.shaded.io.netty.handler.ssl.ClientAuth;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContext;
import java.io.IOException;
import java.io.UncheckedIOException;
import javax.net.ssl.SSLException;

/**
 * Builds the Netty TLS contexts of a member from its {@link TlsFiles}: the server side of a
 * listener, and the client side the peer transport uses to reach other members (presenting the
 * peer certificate, so that a peer listener with {@code --peer-client-cert-auth} admits it, and
 * verifying the other member's certificate and host name against the peer CA).
 */
public final class TlsContexts {
    private TlsContexts() {}

    /** The server context of a listener that {@link TlsFiles#serves() serves} TLS. */
    public static SslContext server(TlsFiles files) {
        if (!files.serves()) throw new IllegalArgumentException("an https:// listener needs a certificate and key");
        try {
            var b = GrpcSslContexts.forServer(files.certFile().orElseThrow().toFile(), files.keyFile().orElseThrow().toFile());
            if (files.trustedCaFile().isPresent()) b.trustManager(files.trustedCaFile().get().toFile());
            // With a CA but without client-cert-auth a certificate is checked if offered (its CN may name the user) but not required.
            b.clientAuth(files.clientCertAuth() ? ClientAuth.REQUIRE : files.trustedCaFile().isPresent() ? ClientAuth.OPTIONAL : ClientAuth.NONE);
            return b.build();
        } catch (SSLException | IllegalArgumentException e) {
            throw new IllegalArgumentException("bad TLS files " + files + ": " + e.getMessage(), e);
        }
    }

    /**
     * The client context for connections to other members: trusts the peer CA (or the JDK's
     * default trust store without one) and presents the peer certificate if there is one.
     */
    public static SslContext client(TlsFiles files) {
        try {
            var b = GrpcSslContexts.forClient();
            if (files.trustedCaFile().isPresent()) b.trustManager(files.trustedCaFile().get().toFile());
            if (files.serves()) b.keyManager(files.certFile().orElseThrow().toFile(), files.keyFile().orElseThrow().toFile());
            return b.build();
        } catch (SSLException e) {
            throw new UncheckedIOException(new IOException("bad peer TLS files " + files + ": " + e.getMessage(), e));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("bad peer TLS files " + files + ": " + e.getMessage(), e);
        }
    }
}
