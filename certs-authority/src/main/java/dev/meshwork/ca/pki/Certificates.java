package dev.meshwork.ca.pki;

import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.Objects;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.CertIOException;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * Builds the CA's certificates with BouncyCastle: the root, the issuing intermediate, workload
 * SVIDs and serving certificates. Extensions follow RFC 5280 and the SPIFFE X.509-SVID spec.
 */
public final class Certificates {
  private Certificates() {}

  /** Leaves start this far in the past so peers with a slightly slow clock accept them at once. */
  public static final Duration BACKDATE = Duration.ofMinutes(1);

  private static final SecureRandom RANDOM = new SecureRandom();

  /**
   * A fresh root (P-384, self-signed) and an intermediate (P-256) certified by it.
   *
   * @param trustDomain written into the subjects, so operators can tell meshes apart
   */
  public static CaGeneration newGeneration(
      String trustDomain, Instant now, Duration rootValidity, Duration intermediateValidity) {
    KeyPair rootKeys = KeyPairs.generate(KeyPairs.P384);
    X500Name rootName = caName(trustDomain, "Meshwork Root CA " + now.getEpochSecond());
    X509Certificate root =
        build(
            rootName,
            rootName,
            rootKeys.getPublic(),
            rootKeys.getPublic(),
            rootKeys.getPrivate(),
            now,
            now.plus(rootValidity),
            CertProfile.ROOT,
            List.of());
    return newIntermediate(root, rootKeys.getPrivate(), trustDomain, now, intermediateValidity);
  }

  /** A new intermediate under an existing root (intermediate renewal, or operator-held root). */
  public static CaGeneration newIntermediate(
      X509Certificate root,
      PrivateKey rootKey,
      String trustDomain,
      Instant now,
      Duration intermediateValidity) {
    KeyPair keys = KeyPairs.generate(KeyPairs.P256);
    Instant notAfter = min(now.plus(intermediateValidity), root.getNotAfter().toInstant());
    X509Certificate intermediate =
        build(
            X500Name.getInstance(root.getSubjectX500Principal().getEncoded()),
            caName(trustDomain, "Meshwork Intermediate CA " + now.getEpochSecond()),
            keys.getPublic(),
            root.getPublicKey(),
            rootKey,
            now,
            notAfter,
            CertProfile.INTERMEDIATE,
            List.of());
    return new CaGeneration(root, rootKey, intermediate, keys.getPrivate());
  }

  /**
   * An X.509-SVID: URI SAN {@code spiffeUri} (the only identity it carries; the subject is empty),
   * digitalSignature, EKU serverAuth+clientAuth, cA=false. Never outlives the intermediate.
   */
  public static X509Certificate workload(
      CaGeneration issuer, PublicKey subjectKey, String spiffeUri, Instant now, Duration ttl) {
    return leaf(
        issuer,
        subjectKey,
        new X500Name(new org.bouncycastle.asn1.x500.RDN[0]),
        List.of(new GeneralName(GeneralName.uniformResourceIdentifier, spiffeUri)),
        now,
        ttl);
  }

  /** A TLS server certificate for {@code dnsNames} (the first is also the subject CN). */
  public static X509Certificate serving(
      CaGeneration issuer, PublicKey subjectKey, List<String> dnsNames, Instant now, Duration ttl) {
    if (dnsNames.isEmpty()) {
      throw new IllegalArgumentException("a serving certificate needs at least one DNS name");
    }
    X500Name subject =
        new X500NameBuilder(BCStyle.INSTANCE).addRDN(BCStyle.CN, dnsNames.getFirst()).build();
    return leaf(
        issuer,
        subjectKey,
        subject,
        dnsNames.stream().map(n -> new GeneralName(GeneralName.dNSName, n)).toList(),
        now,
        ttl);
  }

  private static X509Certificate leaf(
      CaGeneration issuer,
      PublicKey subjectKey,
      X500Name subject,
      List<GeneralName> sans,
      Instant now,
      Duration ttl) {
    Instant notAfter = min(now.plus(ttl), issuer.intermediateNotAfter());
    return build(
        X500Name.getInstance(issuer.intermediate().getSubjectX500Principal().getEncoded()),
        subject,
        subjectKey,
        issuer.intermediate().getPublicKey(),
        issuer.intermediateKey(),
        now.minus(BACKDATE),
        notAfter,
        CertProfile.LEAF,
        sans);
  }

  private enum CertProfile {
    ROOT,
    INTERMEDIATE,
    LEAF
  }

  private static X509Certificate build(
      X500Name issuer,
      X500Name subject,
      PublicKey subjectKey,
      PublicKey issuerKey,
      PrivateKey signingKey,
      Instant notBefore,
      Instant notAfter,
      CertProfile profile,
      List<GeneralName> sans) {
    Objects.requireNonNull(
        signingKey, "signing key (the root key is needed to sign intermediates)");
    if (!notAfter.isAfter(notBefore)) {
      throw new IllegalArgumentException(
          "validity window is empty: notBefore " + notBefore + " >= notAfter " + notAfter);
    }
    try {
      JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
      X509v3CertificateBuilder builder =
          new JcaX509v3CertificateBuilder(
              issuer,
              new BigInteger(159, RANDOM).add(BigInteger.ONE),
              Date.from(notBefore),
              Date.from(notAfter),
              subject,
              subjectKey);
      builder.addExtension(
          Extension.subjectKeyIdentifier, false, ext.createSubjectKeyIdentifier(subjectKey));
      if (profile != CertProfile.ROOT) {
        builder.addExtension(
            Extension.authorityKeyIdentifier, false, ext.createAuthorityKeyIdentifier(issuerKey));
      }
      switch (profile) {
        case ROOT -> {
          // pathLen 1: the root certifies intermediates, which certify only leaves.
          builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(1));
          builder.addExtension(
              Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
        }
        case INTERMEDIATE -> {
          builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(0));
          builder.addExtension(
              Extension.keyUsage,
              true,
              new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign | KeyUsage.digitalSignature));
        }
        case LEAF -> {
          builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
          // X.509-SVID: digitalSignature is required; keyCertSign/cRLSign are forbidden.
          builder.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature));
          builder.addExtension(
              Extension.extendedKeyUsage,
              false,
              new ExtendedKeyUsage(
                  new KeyPurposeId[] {
                    KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth
                  }));
          // RFC 5280 4.2.1.6: with an empty subject the SAN extension must be critical.
          builder.addExtension(
              Extension.subjectAlternativeName,
              subject.getRDNs().length == 0,
              new GeneralNames(sans.toArray(GeneralName[]::new)));
        }
      }
      var signer =
          new JcaContentSignerBuilder(KeyPairs.signatureAlgorithm(signingKey)).build(signingKey);
      return new JcaX509CertificateConverter().getCertificate(builder.build(signer));
    } catch (CertIOException | OperatorCreationException | GeneralSecurityException e) {
      throw new IllegalStateException("cannot build " + profile + " certificate for " + subject, e);
    }
  }

  private static X500Name caName(String trustDomain, String commonName) {
    return new X500NameBuilder(BCStyle.INSTANCE)
        .addRDN(BCStyle.O, "Meshwork " + trustDomain)
        .addRDN(BCStyle.CN, commonName)
        .build();
  }

  private static Instant min(Instant a, Instant b) {
    return a.isBefore(b) ? a : b;
  }
}
