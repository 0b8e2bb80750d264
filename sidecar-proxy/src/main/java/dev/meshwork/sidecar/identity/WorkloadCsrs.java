package dev.meshwork.sidecar.identity;

import dev.meshwork.api.SpiffeId;
import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.spec.ECGenParameterSpec;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.x500.RDN;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.ExtensionsGenerator;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder;

/** Key generation and the CSR the CA expects: P-256, empty subject, one critical URI SAN. */
public final class WorkloadCsrs {
  private WorkloadCsrs() {}

  /** A fresh P-256 key pair, in memory only. */
  public static KeyPair newKeyPair() {
    try {
      KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
      generator.initialize(new ECGenParameterSpec("secp256r1"));
      return generator.generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("P-256 unavailable in this JDK", e);
    }
  }

  /** PEM PKCS#10 request for {@code id}, signed by {@code keys} (SHA256withECDSA). */
  public static String csrPem(KeyPair keys, SpiffeId id) {
    try {
      ExtensionsGenerator extensions = new ExtensionsGenerator();
      extensions.addExtension(
          Extension.subjectAlternativeName,
          true,
          new GeneralNames(new GeneralName(GeneralName.uniformResourceIdentifier, id.uri())));
      var csr =
          new JcaPKCS10CertificationRequestBuilder(new X500Name(new RDN[0]), keys.getPublic())
              .addAttribute(PKCSObjectIdentifiers.pkcs_9_at_extensionRequest, extensions.generate())
              .build(new JcaContentSignerBuilder("SHA256withECDSA").build(keys.getPrivate()));
      StringWriter out = new StringWriter();
      try (JcaPEMWriter writer = new JcaPEMWriter(out)) {
        writer.writeObject(csr);
      }
      return out.toString();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot encode CSR for " + id, e);
    } catch (OperatorCreationException e) {
      throw new IllegalStateException("cannot sign CSR for " + id, e);
    }
  }
}
