package dev.meshwork.ca;

import dev.meshwork.ca.issue.CaConfig;
import dev.meshwork.ca.issue.CertificateAuthority;
import dev.meshwork.ca.store.InMemoryCaStore;
import java.security.cert.CertPathValidator;
import java.security.cert.CertificateFactory;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.util.Date;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

/** Shared test helpers: a CA in memory and the JDK's own PKIX path validation. */
public final class TestCa {
  private TestCa() {}

  public static CertificateAuthority inMemory() {
    return CertificateAuthority.start(
        CaConfig.defaults(), new InMemoryCaStore(), Clock.systemUTC());
  }

  /**
   * Validates {@code chain} (leaf first, no root) against {@code roots} with the JDK's PKIX
   * validator, independent of BouncyCastle. Throws on failure.
   */
  public static void pkixValidate(List<X509Certificate> chain, List<X509Certificate> roots, Date at)
      throws Exception {
    CertificateFactory factory = CertificateFactory.getInstance("X.509");
    Set<TrustAnchor> anchors =
        roots.stream().map(r -> new TrustAnchor(r, null)).collect(Collectors.toSet());
    PKIXParameters params = new PKIXParameters(anchors);
    params.setRevocationEnabled(false);
    params.setDate(at);
    CertPathValidator.getInstance("PKIX").validate(factory.generateCertPath(chain), params);
  }
}
