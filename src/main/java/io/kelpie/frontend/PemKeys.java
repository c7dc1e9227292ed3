package io.kelpie.frontend;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * PEM certificates and private keys as certtool and openssl write them, read with the JDK alone
 * (netty reads only PKCS#8 keys without BouncyCastle): "PRIVATE KEY" (PKCS#8), and the
 * "traditional" forms "RSA PRIVATE KEY" (PKCS#1) and "EC PRIVATE KEY" (SEC1), which are wrapped
 * into PKCS#8 here. Encrypted keys are refused with a line saying how to decrypt them.
 */
final class PemKeys {
    private static final Pattern BLOCK = Pattern.compile(
            "-----BEGIN ([A-Z0-9 ]+)-----\\r?\\n(.*?)-----END \\1-----", Pattern.DOTALL);
    /** rsaEncryption 1.2.840.113549.1.1.1 and id-ecPublicKey 1.2.840.10045.2.1, DER-encoded OIDs. */
    private static final byte[] RSA_OID = {0x06, 0x09, 0x2a, (byte) 0x86, 0x48, (byte) 0x86, (byte) 0xf7, 0x0d, 0x01, 0x01, 0x01};
    private static final byte[] EC_OID = {0x06, 0x07, 0x2a, (byte) 0x86, 0x48, (byte) 0xce, 0x3d, 0x02, 0x01};

    private PemKeys() {
    }

    static List<X509Certificate> certificates(Path file) throws IOException {
        byte[] pem = Files.readAllBytes(file);
        try {
            List<X509Certificate> out = new ArrayList<>();
            for (var c : CertificateFactory.getInstance("X.509").generateCertificates(new ByteArrayInputStream(pem))) {
                out.add((X509Certificate) c);
            }
            if (out.isEmpty()) {
                throw new IOException(file + " holds no PEM certificate");
            }
            return out;
        } catch (CertificateException e) {
            throw new IOException(file + " is not a PEM certificate: " + e.getMessage(), e);
        }
    }

    static PrivateKey privateKey(Path file) throws IOException {
        String pem = Files.readString(file, StandardCharsets.US_ASCII);
        Matcher m = BLOCK.matcher(pem);
        while (m.find()) {
            String label = m.group(1);
            String body = m.group(2);
            if (label.equals("ENCRYPTED PRIVATE KEY") || body.contains("ENCRYPTED")) {
                throw new IOException(file + " is an encrypted key; decrypt it first (openssl pkey -in KEY -out "
                        + file.getFileName() + ")");
            }
            byte[] der;
            try {
                der = Base64.getMimeDecoder().decode(body);
            } catch (IllegalArgumentException e) {
                throw new IOException(file + ": bad base64 in its " + label + " block");
            }
            switch (label) {
                case "PRIVATE KEY" -> {
                    return pkcs8(file, der);
                }
                case "RSA PRIVATE KEY" -> {
                    return pkcs8(file, seq(concat(new byte[] {0x02, 0x01, 0x00}, seq(concat(RSA_OID, new byte[] {0x05, 0x00})),
                            tlv(0x04, der))));
                }
                case "EC PRIVATE KEY" -> {
                    return pkcs8(file, seq(concat(new byte[] {0x02, 0x01, 0x00}, seq(concat(EC_OID, curveOf(file, der))),
                            tlv(0x04, der))));
                }
                default -> {
                    // "EC PARAMETERS" (openssl ecparam -genkey writes it first) and anything else: skip
                }
            }
        }
        throw new IOException(file + " holds no PEM private key (PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY)");
    }

    private static PrivateKey pkcs8(Path file, byte[] der) throws IOException {
        PKCS8EncodedKeySpec spec = new PKCS8EncodedKeySpec(der);
        for (String alg : new String[] {"RSA", "EC", "Ed25519", "Ed448", "RSASSA-PSS"}) {
            try {
                return KeyFactory.getInstance(alg).generatePrivate(spec);
            } catch (GeneralSecurityException e) {
                // not this algorithm: try the next
            }
        }
        throw new IOException(file + " holds a private key of an unknown or unsupported kind");
    }

    /**
     * The curve OID of a SEC1 ECPrivateKey: SEQUENCE { INTEGER 1, OCTET STRING key,
     * [0] { OID curve } OPTIONAL, [1] BIT STRING OPTIONAL }. PKCS#8 needs it in the algorithm.
     */
    private static byte[] curveOf(Path file, byte[] der) throws IOException {
        try {
            int[] p = {0};
            expect(der, p, 0x30);
            length(der, p);
            expect(der, p, 0x02);
            int n = length(der, p);
            p[0] += n;
            expect(der, p, 0x04);
            n = length(der, p);
            p[0] += n;
            if (p[0] < der.length && (der[p[0]] & 0xff) == 0xa0) {
                p[0]++;
                length(der, p);
                int start = p[0];
                expect(der, p, 0x06);
                int len = length(der, p);
                byte[] oid = new byte[p[0] + len - start];
                System.arraycopy(der, start, oid, 0, oid.length);
                return oid;
            }
        } catch (ArrayIndexOutOfBoundsException e) {
            // falls through to the error
        }
        throw new IOException(file + ": an EC PRIVATE KEY without its curve (write it with 'openssl ec' or as PKCS#8)");
    }

    private static void expect(byte[] der, int[] p, int tag) {
        if ((der[p[0]++] & 0xff) != tag) {
            throw new ArrayIndexOutOfBoundsException("tag");
        }
    }

    private static int length(byte[] der, int[] p) {
        int b = der[p[0]++] & 0xff;
        if (b < 0x80) {
            return b;
        }
        int n = 0;
        for (int i = 0; i < (b & 0x7f); i++) {
            n = (n << 8) | (der[p[0]++] & 0xff);
        }
        return n;
    }

    private static byte[] seq(byte[] content) {
        return tlv(0x30, content);
    }

    private static byte[] tlv(int tag, byte[] content) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(content.length + 6);
        out.write(tag);
        int len = content.length;
        if (len < 0x80) {
            out.write(len);
        } else if (len < 0x100) {
            out.write(0x81);
            out.write(len);
        } else if (len < 0x10000) {
            out.write(0x82);
            out.write(len >> 8);
            out.write(len);
        } else {
            out.write(0x83);
            out.write(len >> 16);
            out.write(len >> 8);
            out.write(len);
        }
        out.writeBytes(content);
        return out.toByteArray();
    }

    private static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }
}
