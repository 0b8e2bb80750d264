package dev.meshwork.ca.pki;

import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.security.PrivateKey;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import org.bouncycastle.util.io.pem.PemGenerationException;

/** PEM encoding and decoding of certificates, keys and CSRs (BouncyCastle's PEM codec). */
public final class Pem {
  private Pem() {}

  /** PEM text of one certificate, key or CSR. */
  public static String encode(Object object) {
    if (object instanceof PrivateKey key) {
      // BC's SEC1 output of a JDK EC key loses the curve; always write PKCS#8.
      return encodePrivateKey(key);
    }
    StringWriter out = new StringWriter();
    try (JcaPEMWriter writer = new JcaPEMWriter(out)) {
      writer.writeObject(object);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot PEM-encode " + object.getClass().getSimpleName(), e);
    }
    return out.toString();
  }

  /**
   * PKCS#8 ({@code PRIVATE KEY}) PEM of {@code key}: the form Netty, grpc-java and openssl all read
   * (JcaPEMWriter alone would write SEC1 {@code EC PRIVATE KEY}, which Netty refuses).
   */
  public static String encodePrivateKey(PrivateKey key) {
    try {
      return encode((Object) new JcaPKCS8Generator(key, null).generate());
    } catch (PemGenerationException e) {
      throw new IllegalStateException("cannot PKCS#8-encode " + key.getAlgorithm() + " key", e);
    }
  }

  /** PEM text of several certificates, concatenated in order. */
  public static String encodeAll(List<X509Certificate> certificates) {
    StringBuilder out = new StringBuilder();
    certificates.forEach(c -> out.append(encode(c)));
    return out.toString();
  }

  /**
   * Every certificate in {@code pem}, in order.
   *
   * @throws PemException if the text holds no certificate or something that is not one
   */
  public static List<X509Certificate> certificates(String pem, String what) {
    List<X509Certificate> certs = new ArrayList<>();
    JcaX509CertificateConverter converter = new JcaX509CertificateConverter();
    for (Object object : objects(pem, what)) {
      if (!(object instanceof X509CertificateHolder holder)) {
        throw new PemException(what + ": expected CERTIFICATE, found " + describe(object));
      }
      try {
        certs.add(converter.getCertificate(holder));
      } catch (CertificateException e) {
        throw new PemException(what + ": unreadable certificate: " + e.getMessage(), e);
      }
    }
    if (certs.isEmpty()) {
      throw new PemException(what + ": no PEM certificate found");
    }
    return List.copyOf(certs);
  }

  /** The single certificate in {@code pem}. */
  public static X509Certificate certificate(String pem, String what) {
    List<X509Certificate> certs = certificates(pem, what);
    if (certs.size() != 1) {
      throw new PemException(what + ": expected one certificate, found " + certs.size());
    }
    return certs.getFirst();
  }

  /** The private key in {@code pem} (PKCS#8 or SEC1 "EC PRIVATE KEY"). */
  public static PrivateKey privateKey(String pem, String what) {
    List<Object> objects = objects(pem, what);
    if (objects.size() != 1) {
      throw new PemException(
          what + ": expected one private key, found " + objects.size() + " PEM objects");
    }
    JcaPEMKeyConverter converter = new JcaPEMKeyConverter();
    try {
      return switch (objects.getFirst()) {
        case PrivateKeyInfo info -> converter.getPrivateKey(info);
        case PEMKeyPair pair -> converter.getPrivateKey(pair.getPrivateKeyInfo());
        case Object other ->
            throw new PemException(what + ": expected PRIVATE KEY, found " + describe(other));
      };
    } catch (IOException e) {
      throw new PemException(what + ": unreadable private key: " + e.getMessage(), e);
    }
  }

  /** The PKCS#10 request in {@code pem}. */
  public static PKCS10CertificationRequest csr(String pem, String what) {
    List<Object> objects = objects(pem, what);
    if (objects.size() != 1 || !(objects.getFirst() instanceof PKCS10CertificationRequest csr)) {
      throw new PemException(
          what
              + ": expected one CERTIFICATE REQUEST, found "
              + (objects.isEmpty() ? "nothing" : describe(objects.getFirst())));
    }
    return csr;
  }

  private static List<Object> objects(String pem, String what) {
    if (pem == null || pem.isBlank()) {
      throw new PemException(what + ": empty");
    }
    List<Object> objects = new ArrayList<>();
    try (PEMParser parser = new PEMParser(new StringReader(pem))) {
      for (Object o = parser.readObject(); o != null; o = parser.readObject()) {
        objects.add(o);
      }
    } catch (IOException | RuntimeException e) {
      throw new PemException(what + ": malformed PEM: " + e.getMessage(), e);
    }
    return objects;
  }

  private static String describe(Object object) {
    return object.getClass().getSimpleName();
  }
}
