package io.synod.server.security;

import io.synod.common.Assert;
import java.io.IOException;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedKeyManager;
import javax.net.ssl.X509ExtendedTrustManager;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The certificate, key and CA bundle of one listener ({@link TlsFiles}), kept current without a
 * restart: the {@link #keyManager()} and {@link #trustManager()} that the TLS contexts are built
 * on look at the files again during a handshake once {@code checkIntervalMillis} has passed since
 * the last look (0: at every handshake, as etcd does), and when their bytes changed, parse them and
 * switch new handshakes to the new material; connections already open keep theirs. A rotation
 * that is half done (the new certificate beside the old key), or a file that is missing or does
 * not parse, leaves the current material in place, logs why, and is looked at again after the
 * next interval. Reads happen on the handshake's thread and only when due, and are of a few small
 * files. Thread-safe.
 */
public final class TlsMaterial {
    private static final Logger log = LoggerFactory.getLogger(TlsMaterial.class);

    /** What one reading of the files produced; {@code alias} changes with every reload so no cache can mix generations. */
    private record Loaded(byte[] certBytes, byte[] keyBytes, byte[] caBytes, String alias, X509Certificate[] chain, PrivateKey key,
            Optional<X509ExtendedTrustManager> trust) {}

    private final TlsFiles files;
    private final String name;
    private final long intervalNanos;
    private final LongSupplier clockNanos;
    private final AtomicLong nextCheckNanos;
    private volatile Loaded current;
    /** The generation before {@link #current}: a handshake that chose its alias just before a reload still finds its key. */
    private volatile Loaded previous;
    private volatile String lastFailure;
    private int generation;
    private final AtomicLong reloads = new AtomicLong();

    private TlsMaterial(TlsFiles files, String name, long checkIntervalMillis, LongSupplier clockNanos) {
        Assert.that(checkIntervalMillis >= 0, "tls reload interval must not be negative: %d ms", checkIntervalMillis);
        this.files = files;
        this.name = name;
        this.intervalNanos = checkIntervalMillis * 1_000_000;
        this.clockNanos = clockNanos;
        this.nextCheckNanos = new AtomicLong(clockNanos.getAsLong() + intervalNanos);
    }

    /**
     * Reads {@code files} now.
     *
     * @param name names the listener in logs and errors ("client", "peer")
     * @throws IllegalArgumentException naming the file when one cannot be read or parsed, or the key is not the certificate's
     */
    public static TlsMaterial load(TlsFiles files, String name, long checkIntervalMillis, LongSupplier clockNanos) {
        var m = new TlsMaterial(files, name, checkIntervalMillis, clockNanos);
        try {
            m.current = m.read(1);
            m.generation = 1;
        } catch (IOException e) {
            throw new IllegalArgumentException("bad " + name + " TLS files " + files + ": " + e, e);
        } catch (IllegalArgumentException | GeneralSecurityException e) {
            throw new IllegalArgumentException("bad " + name + " TLS files " + files + ": " + e.getMessage(), e);
        }
        return m;
    }

    /** The certificate handshakes present now (the leaf), if the listener has one. */
    public Optional<X509Certificate> certificate() {
        Loaded l = current;
        return l.chain().length == 0 ? Optional.empty() : Optional.of(l.chain()[0]);
    }

    /** How many times new files were taken up since start. */
    public long reloads() {
        return reloads.get();
    }

    /** Looks at the files if the interval has passed (handshakes call this; tests may too). */
    public void refresh() {
        long now = clockNanos.getAsLong();
        long due = nextCheckNanos.get();
        if (now - due < 0 || !nextCheckNanos.compareAndSet(due, now + intervalNanos)) return;
        synchronized (this) {
            Loaded cur = current;
            try {
                byte[] cert = readOrEmpty(files.certFile());
                byte[] key = readOrEmpty(files.keyFile());
                byte[] ca = readOrEmpty(files.trustedCaFile());
                if (Arrays.equals(cert, cur.certBytes()) && Arrays.equals(key, cur.keyBytes()) && Arrays.equals(ca, cur.caBytes())) return;
                Loaded next = parse(cert, key, ca, generation + 1);
                generation++;
                previous = cur;
                current = next;
                lastFailure = null;
                reloads.incrementAndGet();
                log.info("{} TLS: took up changed files {}{}", name, files, next.chain().length == 0 ? ""
                        : ": now serving " + next.chain()[0].getSubjectX500Principal() + " serial " + next.chain()[0].getSerialNumber().toString(16));
            } catch (IOException | IllegalArgumentException | GeneralSecurityException e) {
                String why = e.getMessage();
                if (!java.util.Objects.equals(why, lastFailure)) {
                    log.warn("{} TLS: keeping the current certificate; the changed files {} cannot be used yet: {}", name, files, why);
                    lastFailure = why;
                }
            }
        }
    }

    private Loaded read(int gen) throws IOException, GeneralSecurityException {
        return parse(readOrEmpty(files.certFile()), readOrEmpty(files.keyFile()), readOrEmpty(files.trustedCaFile()), gen);
    }

    private static byte[] readOrEmpty(Optional<Path> p) throws IOException {
        return p.isPresent() ? Files.readAllBytes(p.get()) : new byte[0];
    }

    private Loaded parse(byte[] cert, byte[] key, byte[] ca, int gen) throws GeneralSecurityException {
        X509Certificate[] chain = new X509Certificate[0];
        PrivateKey privateKey = null;
        if (files.serves()) {
            chain = Pem.certificates(cert, "cert file " + files.certFile().get()).toArray(X509Certificate[]::new);
            privateKey = Pem.privateKey(key, "key file " + files.keyFile().get());
            if (!Pem.matches(privateKey, chain[0].getPublicKey())) {
                throw new IllegalArgumentException("key file " + files.keyFile().get() + " is not the key of certificate "
                        + chain[0].getSubjectX500Principal() + " in " + files.certFile().get());
            }
        }
        Optional<X509ExtendedTrustManager> trust = Optional.empty();
        if (files.trustedCaFile().isPresent()) {
            List<X509Certificate> cas = Pem.certificates(ca, "CA file " + files.trustedCaFile().get());
            KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
            try {
                store.load(null, null);
            } catch (IOException e) {
                throw new GeneralSecurityException(e);
            }
            for (int i = 0; i < cas.size(); i++) store.setCertificateEntry("ca-" + i, cas.get(i));
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(store);
            for (TrustManager tm : tmf.getTrustManagers()) {
                if (tm instanceof X509ExtendedTrustManager x) trust = Optional.of(x);
            }
            if (trust.isEmpty()) throw new GeneralSecurityException("the JDK offers no X509ExtendedTrustManager");
        }
        return new Loaded(cert, key, ca, "synod-" + name + "-" + gen, chain, privateKey, trust);
    }

    private Loaded byAlias(String alias) {
        Loaded c = current;
        if (c.alias().equals(alias)) return c;
        Loaded p = previous;
        return p != null && p.alias().equals(alias) ? p : null;
    }

    /** True when a certificate of key algorithm {@code keyAlgorithm} suits the requested {@code keyType} ("EC", "RSA", "EC_RSA", ...). */
    static boolean suits(String keyType, String keyAlgorithm) {
        if (keyType == null) return true;
        int underscore = keyType.indexOf('_');
        String wanted = underscore < 0 ? keyType : keyType.substring(0, underscore);
        return Pem.family(wanted).equals(Pem.family(keyAlgorithm));
    }

    /** The key manager of this listener's certificate (it must {@link TlsFiles#serves() serve} one). */
    public X509ExtendedKeyManager keyManager() {
        Assert.that(files.serves(), "%s TLS has no certificate to present: %s", name, files);
        return new X509ExtendedKeyManager() {
            private String choose(String... keyTypes) {
                refresh();
                Loaded l = current;
                for (String t : keyTypes == null ? new String[] {null} : keyTypes) {
                    if (suits(t, l.key().getAlgorithm())) return l.alias();
                }
                return null;
            }

            @Override
            public String[] getClientAliases(String keyType, Principal[] issuers) {
                Loaded l = current;
                return suits(keyType, l.key().getAlgorithm()) ? new String[] {l.alias()} : null;
            }

            @Override
            public String chooseClientAlias(String[] keyTypes, Principal[] issuers, Socket socket) {
                return choose(keyTypes);
            }

            @Override
            public String chooseEngineClientAlias(String[] keyTypes, Principal[] issuers, SSLEngine engine) {
                return choose(keyTypes);
            }

            @Override
            public String[] getServerAliases(String keyType, Principal[] issuers) {
                return getClientAliases(keyType, issuers);
            }

            @Override
            public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
                return choose(keyType);
            }

            @Override
            public String chooseEngineServerAlias(String keyType, Principal[] issuers, SSLEngine engine) {
                return choose(keyType);
            }

            @Override
            public X509Certificate[] getCertificateChain(String alias) {
                Loaded l = byAlias(alias);
                return l == null ? null : l.chain().clone();
            }

            @Override
            public PrivateKey getPrivateKey(String alias) {
                Loaded l = byAlias(alias);
                return l == null ? null : l.key();
            }
        };
    }

    /** The trust manager of this listener's CA bundle (it must have {@code trustedCaFile}). */
    public X509ExtendedTrustManager trustManager() {
        Assert.that(files.trustedCaFile().isPresent(), "%s TLS has no CA file: %s", name, files);
        return new X509ExtendedTrustManager() {
            private X509ExtendedTrustManager trust() {
                refresh();
                return current.trust().orElseThrow();
            }

            @Override
            public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
                trust().checkClientTrusted(chain, authType, socket);
            }

            @Override
            public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
                trust().checkServerTrusted(chain, authType, socket);
            }

            @Override
            public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
                trust().checkClientTrusted(chain, authType, engine);
            }

            @Override
            public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
                trust().checkServerTrusted(chain, authType, engine);
            }

            @Override
            public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
                trust().checkClientTrusted(chain, authType);
            }

            @Override
            public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
                trust().checkServerTrusted(chain, authType);
            }

            @Override
            public X509Certificate[] getAcceptedIssuers() {
                return current.trust().orElseThrow().getAcceptedIssuers();
            }
        };
    }
}
