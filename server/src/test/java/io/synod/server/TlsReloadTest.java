package io.synod.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.synod.server.security.Pem;
import io.synod.server.security.SecurityConfig;
import io.synod.server.security.TlsFiles;
import io.synod.server.security.TlsMaterial;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.KeyStore;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import javax.naming.ldap.LdapName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Certificates replaced on disk are served without a restart. On a fake clock, {@link TlsMaterial}
 * looks at its files no more often than its interval, keeps the old pair while a rotation is half
 * done (new certificate, old key), takes up the new pair once both are there, and takes up a new
 * CA bundle. On a live three-member cluster with TLS on both listeners, the certificate files are
 * rotated from A to B under the members' feet; new connections to the client and the peer port
 * then see certificate B, and the cluster keeps serving through it.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class TlsReloadTest {
    @TempDir Path dir;

    static void copy(Path from, Path to) throws Exception {
        Path tmp = to.resolveSibling(to.getFileName() + ".tmp");
        Files.copy(from, tmp, StandardCopyOption.REPLACE_EXISTING);
        Files.move(tmp, to, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    static String cn(X509Certificate cert) throws Exception {
        for (var rdn : new LdapName(cert.getSubjectX500Principal().getName()).getRdns()) {
            if (rdn.getType().equalsIgnoreCase("CN")) return rdn.getValue().toString();
        }
        return "";
    }

    /** The CN of the certificate {@code url}'s listener presents to a new connection (which presents {@code clientCert}). */
    static String servedCn(URI url, TestCerts certs, TestCerts.Pair clientCert) throws Exception {
        var ks = KeyStore.getInstance("PKCS12");
        ks.load(null, null);
        ks.setCertificateEntry("ca", Pem.certificates(Files.readAllBytes(certs.caCert), "ca").get(0));
        var tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(ks);
        var keys = KeyStore.getInstance("PKCS12");
        keys.load(null, null);
        keys.setKeyEntry("me", Pem.privateKey(Files.readAllBytes(clientCert.key()), "key"), new char[0],
                Pem.certificates(Files.readAllBytes(clientCert.cert()), "cert").toArray(X509Certificate[]::new));
        var kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(keys, new char[0]);
        var ctx = SSLContext.getInstance("TLS");
        ctx.init(kmf.getKeyManagers(), tmf.getTrustManagers(), null);
        try (var socket = (SSLSocket) ctx.getSocketFactory().createSocket()) {
            socket.connect(new InetSocketAddress(url.getHost(), url.getPort()), 5000);
            socket.setSoTimeout(5000);
            var params = socket.getSSLParameters();
            params.setApplicationProtocols(new String[] {"h2"});
            socket.setSSLParameters(params);
            socket.startHandshake();
            return cn((X509Certificate) socket.getSession().getPeerCertificates()[0]);
        }
    }

    @Test
    void materialReloadsWhenDueKeepsTheOldPairWhileARotationIsHalfDoneAndTakesUpANewCa() throws Exception {
        var certs = TestCerts.create(dir.resolve("certs"));
        var a = certs.issue("node-a");
        var b = certs.issue("node-b");
        var otherCa = TestCerts.create(dir.resolve("other-ca"));
        var foreign = otherCa.issue("foreign");
        Path cert = dir.resolve("served.pem");
        Path key = dir.resolve("served-key.pem");
        Path ca = dir.resolve("ca.pem");
        copy(a.cert(), cert);
        copy(a.key(), key);
        copy(certs.caCert, ca);
        long[] now = {0};
        var material = TlsMaterial.load(new TlsFiles(Optional.of(cert), Optional.of(key), Optional.of(ca), true), "client", 1000,
                () -> now[0]);
        var km = material.keyManager();
        var tm = material.trustManager();
        String aliasA = km.chooseEngineServerAlias("EC", null, null);
        assertThat(cn(km.getCertificateChain(aliasA)[0])).isEqualTo("node-a");
        assertThat(km.chooseEngineServerAlias("RSA", null, null)).as("an EC certificate does not suit an RSA key type").isNull();
        // Half a rotation: B's certificate beside A's key. Not looked at before the interval; then refused, A stays.
        copy(b.cert(), cert);
        now[0] += 900_000_000L;
        assertThat(cn(km.getCertificateChain(km.chooseEngineServerAlias("EC", null, null))[0])).isEqualTo("node-a");
        now[0] += 200_000_000L;
        assertThat(cn(km.getCertificateChain(km.chooseEngineServerAlias("EC", null, null))[0])).isEqualTo("node-a");
        assertThat(material.reloads()).isZero();
        // The rotation completes; the next look after the interval takes up B.
        copy(b.key(), key);
        now[0] += 500_000_000L;
        assertThat(cn(material.certificate().orElseThrow())).isEqualTo("node-a");
        now[0] += 600_000_000L;
        String aliasB = km.chooseEngineServerAlias("EC", null, null);
        assertThat(cn(km.getCertificateChain(aliasB)[0])).isEqualTo("node-b");
        assertThat(aliasB).isNotEqualTo(aliasA);
        assertThat(material.reloads()).isEqualTo(1);
        // A handshake that chose A's alias just before the reload still finds A's key.
        assertThat(km.getPrivateKey(aliasA)).isNotNull().isNotEqualTo(km.getPrivateKey(aliasB));
        // A new CA bundle: certificates of the other CA are refused until it is in place, then accepted.
        X509Certificate[] foreignChain = Pem.certificates(Files.readAllBytes(foreign.cert()), "foreign").toArray(X509Certificate[]::new);
        assertThatThrownBy(() -> tm.checkClientTrusted(foreignChain, "EC")).isInstanceOf(CertificateException.class);
        copy(otherCa.caCert, ca);
        now[0] += 1_000_000_000L;
        tm.checkClientTrusted(foreignChain, "EC");
        assertThat(material.reloads()).isEqualTo(2);
        // A file that vanishes mid-rotation keeps what is served.
        Files.delete(key);
        now[0] += 1_000_000_000L;
        assertThat(cn(km.getCertificateChain(km.chooseEngineServerAlias("EC", null, null))[0])).isEqualTo("node-b");
    }

    @Test
    void aRunningClusterServesTheRotatedCertificateOnNewConnections() throws Exception {
        var certs = TestCerts.create(dir.resolve("certs"));
        var a = certs.issue("node-a");
        var b = certs.issue("node-b");
        var user = certs.issue("client");
        Path cert = dir.resolve("served.pem");
        Path key = dir.resolve("served-key.pem");
        copy(a.cert(), cert);
        copy(a.key(), key);
        var served = new TestCerts.Pair(cert, key);
        var security = SecurityConfig.NONE.withClient(TlsTest.files(served, certs.caCert, true))
                .withPeer(TlsTest.files(served, certs.caCert, true)).withTlsReloadIntervalMillis(100);
        try (var cluster = new TestCluster(dir, 3, c -> TlsTest.secure(c, security, true, true))) {
            cluster.awaitLeader(20_000);
            URI client0 = URI.create(cluster.endpoint(0));
            URI peer0 = cluster.configs.get(0).peerUrl();
            try (var c = TlsTest.client(cluster.endpoint(0), certs, user)) {
                c.getKVClient().put(TlsTest.bs("before"), TlsTest.bs("a")).get(20, TimeUnit.SECONDS);
            }
            assertThat(servedCn(client0, certs, user)).isEqualTo("node-a");
            assertThat(servedCn(peer0, certs, user)).isEqualTo("node-a");
            SynodServer before = cluster.servers[0];
            // Rotate: the certificate first, the key a moment later, as a careless script would.
            copy(b.cert(), cert);
            Thread.sleep(300);
            copy(b.key(), key);
            long deadline = System.currentTimeMillis() + 10_000;
            String now = servedCn(client0, certs, user);
            while (!now.equals("node-b") && System.currentTimeMillis() < deadline) {
                Thread.sleep(50);
                now = servedCn(client0, certs, user);
            }
            assertThat(now).as("client listener serves the rotated certificate").isEqualTo("node-b");
            deadline = System.currentTimeMillis() + 10_000;
            now = servedCn(peer0, certs, user);
            while (!now.equals("node-b") && System.currentTimeMillis() < deadline) {
                Thread.sleep(50);
                now = servedCn(peer0, certs, user);
            }
            assertThat(now).as("peer listener serves the rotated certificate").isEqualTo("node-b");
            assertThat(cluster.servers[0]).as("no restart").isSameAs(before);
            assertThat(before.isClosed()).isFalse();
            // The cluster keeps working: a new client, a write forwarded between members, a read elsewhere.
            try (var c1 = TlsTest.client(cluster.endpoint(1), certs, user); var c2 = TlsTest.client(cluster.endpoint(2), certs, user)) {
                c1.getKVClient().put(TlsTest.bs("after"), TlsTest.bs("b")).get(20, TimeUnit.SECONDS);
                assertThat(c2.getKVClient().get(TlsTest.bs("before")).get(20, TimeUnit.SECONDS).getCount()).isEqualTo(1);
                assertThat(c2.getKVClient().get(TlsTest.bs("after")).get(20, TimeUnit.SECONDS).getCount()).isEqualTo(1);
            }
        }
    }
}
