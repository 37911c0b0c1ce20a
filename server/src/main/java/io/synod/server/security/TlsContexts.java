package io.synod.server.security;

import io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.shaded.io.netty.handler.ssl.ClientAuth;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContext;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContextBuilder;
import javax.net.ssl.SSLException;

/**
 * Builds the Netty TLS contexts of a member from its {@link TlsFiles}: the server side of a
 * listener, and the client side the peer transport uses to reach other members (presenting the
 * peer certificate, so that a peer listener with {@code --peer-client-cert-auth} admits it, and
 * verifying the other member's certificate and host name against the peer CA). Both are built on
 * a {@link TlsMaterial}, whose key and trust managers take up rotated files without a restart.
 */
public final class TlsContexts {
    private TlsContexts() {}

    /** The server context of a listener that {@link TlsFiles#serves() serves} TLS, on {@code material} read from those files. */
    public static SslContext server(TlsMaterial material, TlsFiles files) {
        if (!files.serves()) throw new IllegalArgumentException("an https:// listener needs a certificate and key");
        try {
            var b = GrpcSslContexts.configure(SslContextBuilder.forServer(material.keyManager()));
            if (files.trustedCaFile().isPresent()) b.trustManager(material.trustManager());
            // With a CA but without client-cert-auth a certificate is checked if offered but not required.
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
    public static SslContext client(TlsMaterial material, TlsFiles files) {
        try {
            var b = GrpcSslContexts.forClient();
            if (files.trustedCaFile().isPresent()) b.trustManager(material.trustManager());
            if (files.serves()) b.keyManager(material.keyManager());
            return b.build();
        } catch (SSLException | IllegalArgumentException e) {
            throw new IllegalArgumentException("bad peer TLS files " + files + ": " + e.getMessage(), e);
        }
    }
}
