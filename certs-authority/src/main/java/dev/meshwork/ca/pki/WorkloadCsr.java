package dev.meshwork.ca.pki;

import dev.meshwork.api.SpiffeId;
import java.security.GeneralSecurityException;
import java.security.PublicKey;
import java.util.ArrayList;
import java.util.List;
import org.bouncycastle.asn1.pkcs.Attribute;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.Extensions;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentVerifierProviderBuilder;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import org.bouncycastle.pkcs.PKCSException;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequest;

/**
 * A workload CSR that passed every structural check: well-formed PKCS#10, self-signature valid,
 * P-256 key, exactly one SAN which is a URI parsing as a Meshwork SPIFFE ID. Whether that identity
 * is the caller's is decided by the CSR service, not here.
 *
 * <p>Only the public key and the SPIFFE ID are taken from the request; its subject and any other
 * attribute are ignored, so a CSR cannot smuggle names into the certificate.
 */
public record WorkloadCsr(PublicKey publicKey, SpiffeId identity) {

  /**
   * Parses and checks {@code pem}.
   *
   * @throws MalformedCsrException naming the first problem found
   */
  public static WorkloadCsr parse(String pem) {
    PKCS10CertificationRequest csr;
    try {
      csr = Pem.csr(pem, "CSR");
    } catch (PemException e) {
      throw new MalformedCsrException(e.getMessage(), e);
    }
    JcaPKCS10CertificationRequest jca = new JcaPKCS10CertificationRequest(csr);
    PublicKey key;
    try {
      key = jca.getPublicKey();
    } catch (GeneralSecurityException | IllegalArgumentException e) {
      throw new MalformedCsrException("CSR public key unreadable: " + e.getMessage(), e);
    }
    if (!KeyPairs.isP256(key)) {
      throw new MalformedCsrException(
          "CSR key must be ECDSA P-256, got " + key.getAlgorithm() + " " + describe(key));
    }
    try {
      if (!csr.isSignatureValid(new JcaContentVerifierProviderBuilder().build(key))) {
        throw new MalformedCsrException("CSR signature does not verify with its own public key");
      }
    } catch (OperatorCreationException | PKCSException e) {
      throw new MalformedCsrException("CSR signature cannot be checked: " + e.getMessage(), e);
    }
    List<GeneralName> sans = subjectAltNames(csr);
    if (sans.size() != 1 || sans.getFirst().getTagNo() != GeneralName.uniformResourceIdentifier) {
      throw new MalformedCsrException(
          "CSR must request exactly one SAN, a spiffe:// URI; found " + sans.size() + " SAN(s)");
    }
    String uri = sans.getFirst().getName().toString();
    try {
      return new WorkloadCsr(key, SpiffeId.parse(uri));
    } catch (IllegalArgumentException e) {
      throw new MalformedCsrException("CSR URI SAN: " + e.getMessage(), e);
    }
  }

  private static List<GeneralName> subjectAltNames(PKCS10CertificationRequest csr) {
    List<GeneralName> names = new ArrayList<>();
    for (Attribute attribute :
        csr.getAttributes(PKCSObjectIdentifiers.pkcs_9_at_extensionRequest)) {
      for (var value : attribute.getAttributeValues()) {
        Extensions extensions = Extensions.getInstance(value);
        GeneralNames gn = GeneralNames.fromExtensions(extensions, Extension.subjectAlternativeName);
        if (gn != null) {
          names.addAll(List.of(gn.getNames()));
        }
      }
    }
    return names;
  }

  private static String describe(PublicKey key) {
    if (key instanceof java.security.interfaces.ECPublicKey ec) {
      return ec.getParams().getOrder().bitLength() + "-bit curve";
    }
    if (key instanceof java.security.interfaces.RSAPublicKey rsa) {
      return rsa.getModulus().bitLength() + "-bit";
    }
    return "";
  }
}
