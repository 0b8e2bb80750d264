package dev.meshwork.ca.pki;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.meshwork.api.SpiffeId;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.ExtensionsGenerator;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder;
import org.junit.jupiter.api.Test;

class WorkloadCsrTest {
  private final SpiffeId id = SpiffeId.of("shop", "cart");

  @Test
  void acceptsP256CsrWithOneSpiffeUri() {
    KeyPair keys = KeyPairs.generate(KeyPairs.P256);
    WorkloadCsr csr = WorkloadCsr.parse(Csrs.workloadCsrPem(keys, id));
    assertThat(csr.identity()).isEqualTo(id);
    assertThat(csr.publicKey()).isEqualTo(keys.getPublic());
  }

  @Test
  void refusesOtherKeyTypes() throws Exception {
    KeyPairGenerator rsa = KeyPairGenerator.getInstance("RSA");
    rsa.initialize(2048);
    assertThatThrownBy(() -> WorkloadCsr.parse(Csrs.workloadCsrPem(rsa.generateKeyPair(), id)))
        .isInstanceOf(MalformedCsrException.class)
        .hasMessageContaining("P-256");
    assertThatThrownBy(
            () -> WorkloadCsr.parse(Csrs.workloadCsrPem(KeyPairs.generate(KeyPairs.P384), id)))
        .isInstanceOf(MalformedCsrException.class)
        .hasMessageContaining("384-bit");
  }

  @Test
  void refusesCsrSignedByAnotherKey() throws Exception {
    KeyPair claimed = KeyPairs.generate(KeyPairs.P256);
    KeyPair signer = KeyPairs.generate(KeyPairs.P256);
    String pem =
        Pem.encode(
            builder(claimed, sans(uri(id.uri())))
                .build(new JcaContentSignerBuilder("SHA256withECDSA").build(signer.getPrivate())));
    assertThatThrownBy(() -> WorkloadCsr.parse(pem))
        .isInstanceOf(MalformedCsrException.class)
        .hasMessageContaining("signature");
  }

  @Test
  void refusesExtraOrMissingOrNonSpiffeSans() throws Exception {
    KeyPair keys = KeyPairs.generate(KeyPairs.P256);
    var dns = new GeneralName(GeneralName.dNSName, "evil.example.com");
    assertThatThrownBy(() -> WorkloadCsr.parse(sign(keys, sans(uri(id.uri()), dns))))
        .isInstanceOf(MalformedCsrException.class)
        .hasMessageContaining("exactly one SAN");
    assertThatThrownBy(() -> WorkloadCsr.parse(sign(keys, null)))
        .isInstanceOf(MalformedCsrException.class)
        .hasMessageContaining("found 0 SAN");
    assertThatThrownBy(
            () -> WorkloadCsr.parse(sign(keys, sans(uri("spiffe://cluster.local/other/path")))))
        .isInstanceOf(MalformedCsrException.class)
        .hasMessageContaining("/ns/<namespace>/sa/<service-account>");
  }

  @Test
  void refusesGarbage() {
    assertThatThrownBy(() -> WorkloadCsr.parse("")).isInstanceOf(MalformedCsrException.class);
    assertThatThrownBy(
            () ->
                WorkloadCsr.parse(
                    "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n"))
        .isInstanceOf(MalformedCsrException.class);
    String cert =
        Pem.encode(
            Certificates.newGeneration(
                    "cluster.local",
                    java.time.Instant.now(),
                    java.time.Duration.ofDays(1),
                    java.time.Duration.ofHours(1))
                .root());
    assertThatThrownBy(() -> WorkloadCsr.parse(cert))
        .isInstanceOf(MalformedCsrException.class)
        .hasMessageContaining("X509CertificateHolder");
  }

  private static GeneralName uri(String value) {
    return new GeneralName(GeneralName.uniformResourceIdentifier, value);
  }

  private static GeneralNames sans(GeneralName... names) {
    return new GeneralNames(names);
  }

  private static JcaPKCS10CertificationRequestBuilder builder(KeyPair keys, GeneralNames sans)
      throws Exception {
    var b = new JcaPKCS10CertificationRequestBuilder(new X500Name("CN=ignored"), keys.getPublic());
    if (sans != null) {
      ExtensionsGenerator ext = new ExtensionsGenerator();
      ext.addExtension(Extension.subjectAlternativeName, false, sans);
      b.addAttribute(PKCSObjectIdentifiers.pkcs_9_at_extensionRequest, ext.generate());
    }
    return b;
  }

  private static String sign(KeyPair keys, GeneralNames sans) throws Exception {
    return Pem.encode(
        builder(keys, sans)
            .build(new JcaContentSignerBuilder("SHA256withECDSA").build(keys.getPrivate())));
  }
}
