package dev.meshwork.ca.issue;

import dev.meshwork.ca.pki.Pem;
import java.security.cert.X509Certificate;
import java.util.List;

/**
 * A signed leaf with what a peer needs to verify it.
 *
 * @param chain leaf first, then the intermediate (the root is not included)
 * @param trustBundle roots to trust for peers; two during a root rotation overlap
 */
public record IssuedCertificate(List<X509Certificate> chain, List<X509Certificate> trustBundle) {
  public IssuedCertificate {
    chain = List.copyOf(chain);
    trustBundle = List.copyOf(trustBundle);
  }

  public X509Certificate leaf() {
    return chain.getFirst();
  }

  public List<String> chainPem() {
    return chain.stream().map(Pem::encode).toList();
  }

  public List<String> trustBundlePem() {
    return trustBundle.stream().map(Pem::encode).toList();
  }
}
