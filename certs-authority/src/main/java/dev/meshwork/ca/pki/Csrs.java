package dev.meshwork.ca.pki;

import dev.meshwork.api.SpiffeId;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.security.KeyPair;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.x500.RDN;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.ExtensionsGenerator;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder;

/** Builds workload CSRs: the form the sidecar sends and the CA expects. */
public final class Csrs {
  private Csrs() {}

  /** PEM PKCS#10 request for {@code identity}, signed with {@code keys}; empty subject. */
  public static String workloadCsrPem(KeyPair keys, SpiffeId identity) {
    try {
      ExtensionsGenerator extensions = new ExtensionsGenerator();
      extensions.addExtension(
          Extension.subjectAlternativeName,
          true,
          new GeneralNames(new GeneralName(GeneralName.uniformResourceIdentifier, identity.uri())));
      var csr =
          new JcaPKCS10CertificationRequestBuilder(new X500Name(new RDN[0]), keys.getPublic())
              .addAttribute(PKCSObjectIdentifiers.pkcs_9_at_extensionRequest, extensions.generate())
              .build(
                  new JcaContentSignerBuilder(KeyPairs.signatureAlgorithm(keys.getPrivate()))
                      .build(keys.getPrivate()));
      return Pem.encode(csr);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot encode CSR for " + identity, e);
    } catch (OperatorCreationException e) {
      throw new IllegalStateException("cannot sign CSR for " + identity, e);
    }
  }
}
