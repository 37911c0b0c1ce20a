package io.synod.server.security;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads the PEM files that TLS and JWT settings name, with the JDK alone: certificate chains,
 * private keys in the three shapes OpenSSL writes ({@code PRIVATE KEY} PKCS#8, {@code RSA PRIVATE
 * KEY} PKCS#1 and {@code EC PRIVATE KEY} SEC1, the last two rewrapped as PKCS#8 by a few lines of
 * DER), and public keys ({@code PUBLIC KEY}, {@code RSA PUBLIC KEY} or the key of a
 * {@code CERTIFICATE}). Key algorithms are told apart by the OID inside the key (RSA, RSASSA-PSS,
 * EC, Ed25519, Ed448). Encrypted keys are refused with a message saying so. Every failure is an
 * {@link IllegalArgumentException} whose message names the file's label and what was wrong.
 */
public final class Pem {
    private Pem() {}

    private static final Pattern BLOCK = Pattern.compile("-----BEGIN ([A-Z0-9 ]+)-----([^-]*)-----END \\1-----");
    private static final byte[] OID_RSA = oid(0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01);
    private static final byte[] OID_RSA_PSS = oid(0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0a);
    private static final byte[] OID_EC = oid(0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01);
    private static final byte[] OID_ED25519 = oid(0x2b, 0x65, 0x70);
    private static final byte[] OID_ED448 = oid(0x2b, 0x65, 0x71);

    /** One PEM block: its label ({@code CERTIFICATE}, {@code PRIVATE KEY}, ...) and its DER bytes. */
    public record Block(String label, byte[] der) {}

    /** Every PEM block of {@code text}, in order; {@code source} names the file in errors. */
    public static List<Block> blocks(byte[] text, String source) {
        var out = new ArrayList<Block>();
        Matcher m = BLOCK.matcher(new String(text, StandardCharsets.US_ASCII));
        while (m.find()) {
            String body = m.group(2);
            if (body.contains("Proc-Type:") || body.contains("DEK-Info:")) {
                throw new IllegalArgumentException(source + ": encrypted PEM keys are not supported (decrypt it with openssl pkey)");
            }
            try {
                out.add(new Block(m.group(1), Base64.getMimeDecoder().decode(body.strip())));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(source + ": bad base64 in the " + m.group(1) + " block", e);
            }
        }
        if (out.isEmpty()) throw new IllegalArgumentException(source + ": no PEM block (-----BEGIN ...-----) found");
        return out;
    }

    /** The certificates of a PEM bundle (a chain, leaf first, or a CA bundle); other blocks are ignored. */
    public static List<X509Certificate> certificates(byte[] text, String source) {
        var certs = new ArrayList<X509Certificate>();
        try {
            var factory = CertificateFactory.getInstance("X.509");
            for (Block b : blocks(text, source)) {
                if (b.label().equals("CERTIFICATE") || b.label().equals("TRUSTED CERTIFICATE")) {
                    certs.add((X509Certificate) factory.generateCertificate(new ByteArrayInputStream(b.der())));
                }
            }
        } catch (GeneralSecurityException e) {
            throw new IllegalArgumentException(source + ": bad certificate: " + e.getMessage(), e);
        }
        if (certs.isEmpty()) throw new IllegalArgumentException(source + ": no CERTIFICATE block found");
        return certs;
    }

    /** The first private key of a PEM file (PKCS#8, PKCS#1 RSA or SEC1 EC). */
    public static PrivateKey privateKey(byte[] text, String source) {
        for (Block b : blocks(text, source)) {
            byte[] pkcs8 = switch (b.label()) {
                case "PRIVATE KEY" -> b.der();
                case "RSA PRIVATE KEY" -> seq(concat(new byte[] {0x02, 0x01, 0x00}, algorithm(OID_RSA, new byte[] {0x05, 0x00}),
                        tlv(0x04, b.der())));
                case "EC PRIVATE KEY" -> seq(concat(new byte[] {0x02, 0x01, 0x00}, algorithm(OID_EC, sec1Curve(b.der(), source)),
                        tlv(0x04, b.der())));
                case "ENCRYPTED PRIVATE KEY" -> throw new IllegalArgumentException(
                        source + ": encrypted PEM keys are not supported (decrypt it with openssl pkey)");
                default -> null;
            };
            if (pkcs8 == null) continue;
            String algorithm = keyAlgorithm(pkcs8, source, true);
            try {
                return KeyFactory.getInstance(algorithm).generatePrivate(new PKCS8EncodedKeySpec(pkcs8));
            } catch (GeneralSecurityException e) {
                throw new IllegalArgumentException(source + ": bad " + algorithm + " private key: " + e.getMessage(), e);
            }
        }
        throw new IllegalArgumentException(source + ": no private key block (PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY) found");
    }

    /** The first public key of a PEM file: a {@code PUBLIC KEY}, an {@code RSA PUBLIC KEY} or a certificate's key. */
    public static PublicKey publicKey(byte[] text, String source) {
        for (Block b : blocks(text, source)) {
            byte[] spki = switch (b.label()) {
                case "PUBLIC KEY" -> b.der();
                case "RSA PUBLIC KEY" -> seq(concat(algorithm(OID_RSA, new byte[] {0x05, 0x00}), tlv(0x03, concat(new byte[] {0}, b.der()))));
                case "CERTIFICATE" -> null;
                default -> new byte[0];
            };
            if (spki == null) return certificates(text, source).get(0).getPublicKey();
            if (spki.length == 0) continue;
            String algorithm = keyAlgorithm(spki, source, false);
            try {
                return KeyFactory.getInstance(algorithm).generatePublic(new X509EncodedKeySpec(spki));
            } catch (GeneralSecurityException e) {
                throw new IllegalArgumentException(source + ": bad " + algorithm + " public key: " + e.getMessage(), e);
            }
        }
        throw new IllegalArgumentException(source + ": no public key block (PUBLIC KEY, RSA PUBLIC KEY or CERTIFICATE) found");
    }

    /**
     * True when {@code privateKey} and {@code publicKey} are the two halves of one key pair,
     * checked by signing a probe with the one and verifying it with the other (the JDK cannot
     * derive an EC public key from its private key); false for keys of different algorithms.
     */
    public static boolean matches(PrivateKey privateKey, PublicKey publicKey) {
        String alg = family(privateKey.getAlgorithm());
        if (!alg.equals(family(publicKey.getAlgorithm()))) return false;
        String signature = switch (alg) {
            case "RSA" -> "SHA256withRSA";
            case "EC" -> "SHA256withECDSA";
            case "EdDSA" -> "EdDSA";
            case "RSASSA-PSS" -> "RSASSA-PSS";
            default -> null;
        };
        if (signature == null) return false;
        byte[] probe = "synod key pair probe".getBytes(StandardCharsets.US_ASCII);
        try {
            var s = java.security.Signature.getInstance(signature);
            if (alg.equals("RSASSA-PSS")) s.setParameter(new java.security.spec.PSSParameterSpec("SHA-256", "MGF1",
                    java.security.spec.MGF1ParameterSpec.SHA256, 32, 1));
            s.initSign(privateKey);
            s.update(probe);
            byte[] sig = s.sign();
            s.initVerify(publicKey);
            s.update(probe);
            return s.verify(sig);
        } catch (GeneralSecurityException e) {
            return false;
        }
    }

    /** A key algorithm name with the Edwards curves folded into "EdDSA" (the JDK names Ed25519 keys either way). */
    public static String family(String keyAlgorithm) {
        return switch (keyAlgorithm) {
            case "Ed25519", "Ed448", "EdDSA" -> "EdDSA";
            default -> keyAlgorithm;
        };
    }

    // ---- a few lines of DER ---------------------------------------------------------------------

    /**
     * The JDK KeyFactory name for the algorithm OID of a PKCS#8 PrivateKeyInfo
     * ({@code SEQUENCE {INTEGER, SEQUENCE {OID, ...}, ...}}) or an X.509 SubjectPublicKeyInfo
     * ({@code SEQUENCE {SEQUENCE {OID, ...}, ...}}).
     */
    static String keyAlgorithm(byte[] der, String source, boolean privateKeyInfo) {
        try {
            var outer = new Reader(der);
            var info = new Reader(outer.expect(0x30));
            if (privateKeyInfo) info.expect(0x02); // version
            var alg = new Reader(info.expect(0x30));
            byte[] oid = alg.expect(0x06);
            if (java.util.Arrays.equals(oid, body(OID_RSA))) return "RSA";
            if (java.util.Arrays.equals(oid, body(OID_RSA_PSS))) return "RSASSA-PSS";
            if (java.util.Arrays.equals(oid, body(OID_EC))) return "EC";
            if (java.util.Arrays.equals(oid, body(OID_ED25519))) return "Ed25519";
            if (java.util.Arrays.equals(oid, body(OID_ED448))) return "Ed448";
            throw new IllegalArgumentException(source + ": unsupported key algorithm (OID bytes " + java.util.HexFormat.of().formatHex(oid)
                    + "); RSA, RSASSA-PSS, EC, Ed25519 and Ed448 keys are read");
        } catch (IndexOutOfBoundsException e) {
            throw new IllegalArgumentException(source + ": malformed key (bad DER)", e);
        }
    }

    /** The named-curve OID (a whole TLV) in a SEC1 ECPrivateKey's {@code [0] parameters}. */
    private static byte[] sec1Curve(byte[] sec1, String source) {
        try {
            var key = new Reader(new Reader(sec1).expect(0x30));
            key.expect(0x02); // version 1
            key.expect(0x04); // the private scalar
            while (key.more()) {
                int tag = key.peek();
                byte[] value = key.expect(tag);
                if (tag == 0xa0) {
                    var params = new Reader(value);
                    return tlv(0x06, params.expect(0x06));
                }
            }
        } catch (IndexOutOfBoundsException | IllegalArgumentException e) {
            throw new IllegalArgumentException(source + ": malformed EC PRIVATE KEY", e);
        }
        throw new IllegalArgumentException(source + ": the EC PRIVATE KEY does not name its curve (use openssl pkcs8 -topk8 -nocrypt)");
    }

    /** Reads DER TLVs from a byte array; short (definite) lengths and long ones up to 4 bytes. */
    private static final class Reader {
        private final byte[] b;
        private int pos;

        Reader(byte[] b) {
            this.b = b;
        }

        boolean more() {
            return pos < b.length;
        }

        int peek() {
            return b[pos] & 0xff;
        }

        byte[] expect(int tag) {
            if ((b[pos] & 0xff) != tag) throw new IllegalArgumentException("DER tag " + (b[pos] & 0xff) + " where " + tag + " was expected");
            pos++;
            int len = b[pos++] & 0xff;
            if (len >= 0x80) {
                int n = len & 0x7f;
                if (n < 1 || n > 4) throw new IllegalArgumentException("DER length of " + n + " bytes");
                len = 0;
                for (int i = 0; i < n; i++) len = (len << 8) | (b[pos++] & 0xff);
                if (len < 0) throw new IllegalArgumentException("negative DER length");
            }
            if (len > b.length - pos) throw new IndexOutOfBoundsException("DER value runs past its end");
            byte[] v = java.util.Arrays.copyOfRange(b, pos, pos + len);
            pos += len;
            return v;
        }
    }

    private static byte[] oid(int... bytes) {
        byte[] body = new byte[bytes.length];
        for (int i = 0; i < bytes.length; i++) body[i] = (byte) bytes[i];
        return tlv(0x06, body);
    }

    private static byte[] body(byte[] tlv) {
        return new Reader(tlv).expect(tlv[0] & 0xff);
    }

    private static byte[] algorithm(byte[] oid, byte[] parameters) {
        return seq(concat(oid, parameters));
    }

    private static byte[] seq(byte[] content) {
        return tlv(0x30, content);
    }

    static byte[] tlv(int tag, byte[] value) {
        var out = new ByteArrayOutputStream();
        out.write(tag);
        int len = value.length;
        if (len < 0x80) {
            out.write(len);
        } else {
            int n = len > 0xffffff ? 4 : len > 0xffff ? 3 : len > 0xff ? 2 : 1;
            out.write(0x80 | n);
            for (int i = n - 1; i >= 0; i--) out.write(len >>> (8 * i));
        }
        out.writeBytes(value);
        return out.toByteArray();
    }

    private static byte[] concat(byte[]... parts) {
        var out = new ByteArrayOutputStream();
        for (byte[] p : parts) out.writeBytes(p);
        return out.toByteArray();
    }
}
