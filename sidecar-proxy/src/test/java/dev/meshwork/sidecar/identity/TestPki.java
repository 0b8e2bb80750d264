package dev.meshwork.sidecar.identity;

import java.math.BigInteger;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * A minimal test CA (BouncyCastle) for the sidecar's unit tests: a root, an intermediate, and
 * leaves with the same profile the real CA (certs-authority) issues. A fake for unit tests only;
 * the real CA's certificates are checked with openssl and grpc-java in certs-authority.
 */
final class TestPki {
  private static final AtomicLong SERIAL = new AtomicLong(System.nanoTime());

  final KeyPair rootKeys = WorkloadCsrs.newKeyPair();
  final KeyPair intermediateKeys = WorkloadCsrs.newKeyPair();
  final X509Certificate root;
  final X509Certificate intermediate;

  TestPki(String name) {
    Instant now = Instant.now();
    root =
        build(
            new X500Name("CN=" + name + " root"),
            new X500Name("CN=" + name + " root"),
            rootKeys.getPublic(),
            rootKeys.getPrivate(),
            now.minusSeconds(3600),
            now.plusSeconds(86400 * 10),
            1,
            null);
    intermediate =
        build(
            new X500Name("CN=" + name + " root"),
            new X500Name("CN=" + name + " intermediate"),
            intermediateKeys.getPublic(),
            rootKeys.getPrivate(),
            now.minusSeconds(3600),
            now.plusSeconds(86400 * 5),
            0,
            null);
  }

  List<X509Certificate> bundle() {
    return List.of(root);
  }

  X509Certificate leaf(PublicKey key, String uri, Instant notBefore, Instant notAfter) {
    return build(
        new X500Name("CN=" + "intermediate"),
        new X500Name(new org.bouncycastle.asn1.x500.RDN[0]),
        key,
        intermediateKeys.getPrivate(),
        notBefore,
        notAfter,
        -1,
        uri);
  }

  /** A TLS server certificate for {@code dnsName} (prefix-free), leaf + intermediate. */
  List<X509Certificate> serving(PublicKey key, String dnsName) {
    Instant now = Instant.now();
    return List.of(
        leaf(key, "dns:" + dnsName, now.minusSeconds(60), now.plusSeconds(86400)), intermediate);
  }

  /** A workload identity for {@code uri} valid from now to now + {@code seconds}. */
  WorkloadIdentity identity(dev.meshwork.api.SpiffeId id, long seconds) {
    return identity(WorkloadCsrs.newKeyPair(), id, seconds);
  }

  /** A workload identity certifying {@code keys}. */
  WorkloadIdentity identity(KeyPair keys, dev.meshwork.api.SpiffeId id, long seconds) {
    Instant now = Instant.now();
    return new WorkloadIdentity(
        id,
        keys.getPrivate(),
        List.of(
            leaf(keys.getPublic(), id.uri(), now.minusSeconds(1), now.plusSeconds(seconds)),
            intermediate),
        bundle());
  }

  private X509Certificate build(
      X500Name issuerName,
      X500Name subject,
      PublicKey key,
      PrivateKey signer,
      Instant notBefore,
      Instant notAfter,
      int pathLen,
      String uri) {
    try {
      // The intermediate's real subject is needed as the leaf's issuer name.
      X500Name issuer =
          uri == null
              ? issuerName
              : X500Name.getInstance(intermediate.getSubjectX500Principal().getEncoded());
      var b =
          new JcaX509v3CertificateBuilder(
              issuer,
              BigInteger.valueOf(SERIAL.incrementAndGet()),
              Date.from(notBefore),
              Date.from(notAfter),
              subject,
              key);
      if (uri == null) {
        b.addExtension(Extension.basicConstraints, true, new BasicConstraints(pathLen));
        b.addExtension(
            Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
      } else {
        b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
        b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature));
        b.addExtension(
            Extension.extendedKeyUsage,
            false,
            new ExtendedKeyUsage(
                new KeyPurposeId[] {KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth}));
        GeneralName name =
            uri.startsWith("dns:")
                ? new GeneralName(GeneralName.dNSName, uri.substring(4))
                : new GeneralName(GeneralName.uniformResourceIdentifier, uri);
        b.addExtension(Extension.subjectAlternativeName, true, new GeneralNames(name));
      }
      return new JcaX509CertificateConverter()
          .getCertificate(b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(signer)));
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }
}
