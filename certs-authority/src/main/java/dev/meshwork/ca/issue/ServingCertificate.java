package dev.meshwork.ca.issue;

import dev.meshwork.api.MeshConstants;
import dev.meshwork.ca.pki.KeyPairs;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.time.Duration;
import java.util.List;

/**
 * A serving certificate with its key, generated in this process (the key is never stored). Used for
 * the control plane's own TLS ports: the webhook (15017) and gRPC (15012).
 *
 * @param key private key, in memory only
 * @param certificate leaf + intermediate, and the roots a client should trust
 */
public record ServingCertificate(PrivateKey key, IssuedCertificate certificate) {

  /** Service name of the control plane, the webhook's {@code clientConfig.service}. */
  public static final String CONTROL_PLANE_SERVICE = "meshwork-control-plane";

  /** Default lifetime; the owner renews at half of it. */
  public static final Duration DEFAULT_TTL = Duration.ofDays(30);

  /** DNS names the API server and sidecars use to reach {@code service} in {@code namespace}. */
  public static List<String> serviceDnsNames(String service, String namespace) {
    return List.of(
        service + "." + namespace + ".svc",
        service + "." + namespace + ".svc.cluster.local",
        service + "." + namespace);
  }

  /** Issues a fresh key and certificate for the control plane's Service in meshwork-system. */
  public static ServingCertificate forControlPlane(CertificateAuthority ca, Duration ttl) {
    return issue(ca, serviceDnsNames(CONTROL_PLANE_SERVICE, MeshConstants.SYSTEM_NAMESPACE), ttl);
  }

  /** Issues a fresh P-256 key and a certificate for {@code dnsNames}. */
  public static ServingCertificate issue(
      CertificateAuthority ca, List<String> dnsNames, Duration ttl) {
    KeyPair keys = KeyPairs.generate(KeyPairs.P256);
    return new ServingCertificate(
        keys.getPrivate(), ca.issueServing(keys.getPublic(), dnsNames, ttl));
  }

  @Override
  public String toString() {
    return "ServingCertificate[" + certificate.leaf().getSubjectX500Principal().getName() + "]";
  }
}
