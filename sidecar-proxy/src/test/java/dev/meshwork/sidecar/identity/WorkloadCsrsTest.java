package dev.meshwork.sidecar.identity;

import static org.assertj.core.api.Assertions.assertThat;

import dev.meshwork.api.SpiffeId;
import java.io.StringReader;
import java.security.KeyPair;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.Extensions;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.operator.jcajce.JcaContentVerifierProviderBuilder;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import org.junit.jupiter.api.Test;

/** The CSR as a CA reads it: parsed and checked with BouncyCastle, as the Meshwork CA does. */
class WorkloadCsrsTest {
  private static final SpiffeId ID = new SpiffeId("cluster.local", "shop", "cart");

  private static PKCS10CertificationRequest parse(String pem) throws Exception {
    try (PEMParser parser = new PEMParser(new StringReader(pem))) {
      return (PKCS10CertificationRequest) parser.readObject();
    }
  }

  @Test
  void requestIsSignedByItsOwnKeyAndCarriesOnlyTheSpiffeUriAsCriticalSan() throws Exception {
    KeyPair keys = WorkloadCsrs.newKeyPair();
    PKCS10CertificationRequest csr = parse(WorkloadCsrs.csrPem(keys, ID));

    assertThat(
            csr.isSignatureValid(new JcaContentVerifierProviderBuilder().build(keys.getPublic())))
        .isTrue();
    assertThat(csr.getSubjectPublicKeyInfo().getEncoded()).isEqualTo(keys.getPublic().getEncoded());
    assertThat(csr.getSubject().getRDNs()).isEmpty();
    var attributes = csr.getAttributes(PKCSObjectIdentifiers.pkcs_9_at_extensionRequest);
    assertThat(attributes).hasSize(1);
    Extensions extensions = Extensions.getInstance(attributes[0].getAttributeValues()[0]);
    assertThat(extensions.getExtensionOIDs()).containsExactly(Extension.subjectAlternativeName);
    assertThat(extensions.getExtension(Extension.subjectAlternativeName).isCritical()).isTrue();
    GeneralName[] sans =
        GeneralNames.fromExtensions(extensions, Extension.subjectAlternativeName).getNames();
    assertThat(sans).hasSize(1);
    assertThat(sans[0].getTagNo()).isEqualTo(GeneralName.uniformResourceIdentifier);
    assertThat(sans[0].getName().toString()).isEqualTo("spiffe://cluster.local/ns/shop/sa/cart");
  }

  @Test
  void anotherKeyDoesNotVerifyTheRequest() throws Exception {
    PKCS10CertificationRequest csr = parse(WorkloadCsrs.csrPem(WorkloadCsrs.newKeyPair(), ID));

    assertThat(
            csr.isSignatureValid(
                new JcaContentVerifierProviderBuilder()
                    .build(WorkloadCsrs.newKeyPair().getPublic())))
        .isFalse();
  }

  @Test
  void longUrisUseTheLongLengthForm() throws Exception {
    // A namespace and account of 63 characters each push the SAN past 127 bytes.
    SpiffeId longId = new SpiffeId("cluster.local", "n".repeat(63), "s".repeat(63));
    KeyPair keys = WorkloadCsrs.newKeyPair();
    PKCS10CertificationRequest csr = parse(WorkloadCsrs.csrPem(keys, longId));

    assertThat(
            csr.isSignatureValid(new JcaContentVerifierProviderBuilder().build(keys.getPublic())))
        .isTrue();
    Extensions extensions =
        Extensions.getInstance(
            csr.getAttributes(PKCSObjectIdentifiers.pkcs_9_at_extensionRequest)[0]
                .getAttributeValues()[0]);
    assertThat(
            GeneralNames.fromExtensions(extensions, Extension.subjectAlternativeName)
                .getNames()[0]
                .getName()
                .toString())
        .isEqualTo(longId.uri());
  }
}
