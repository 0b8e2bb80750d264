package dev.meshwork.api;

import java.net.URI;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * A workload identity of the form {@code
 * spiffe://<trust-domain>/ns/<namespace>/sa/<service-account>}.
 *
 * <p>Immutable. Parsing is strict: Meshwork only issues and accepts this one path shape, so any
 * other SPIFFE ID (or a URI that merely looks like one) is rejected with a message naming the
 * problem.
 */
public record SpiffeId(String trustDomain, String namespace, String serviceAccount) {

  // Trust domain: lowercase letters, digits, dots, dashes, underscores (SPIFFE spec section 2.1).
  private static final Pattern TRUST_DOMAIN = Pattern.compile("[a-z0-9._-]+");
  // Kubernetes names: DNS-1123 labels for namespaces, subdomains for service accounts.
  private static final Pattern NAMESPACE = Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?");
  private static final Pattern SERVICE_ACCOUNT = Pattern.compile("[a-z0-9]([-a-z0-9.]*[a-z0-9])?");

  public SpiffeId {
    Objects.requireNonNull(trustDomain, "trustDomain");
    Objects.requireNonNull(namespace, "namespace");
    Objects.requireNonNull(serviceAccount, "serviceAccount");
    require(TRUST_DOMAIN, trustDomain, "trust domain");
    require(NAMESPACE, namespace, "namespace");
    require(SERVICE_ACCOUNT, serviceAccount, "service account");
  }

  /** Identity of a service account in the default trust domain. */
  public static SpiffeId of(String namespace, String serviceAccount) {
    return new SpiffeId(MeshConstants.DEFAULT_TRUST_DOMAIN, namespace, serviceAccount);
  }

  /**
   * Parses {@code spiffe://td/ns/<ns>/sa/<sa>}.
   *
   * @throws IllegalArgumentException naming what is wrong with {@code uri}
   */
  public static SpiffeId parse(String uri) {
    Objects.requireNonNull(uri, "uri");
    URI parsed;
    try {
      parsed = new URI(uri);
    } catch (java.net.URISyntaxException e) {
      throw new IllegalArgumentException("not a URI: " + uri, e);
    }
    if (!"spiffe".equals(parsed.getScheme())) {
      throw new IllegalArgumentException("not a spiffe:// URI: " + uri);
    }
    if (parsed.getRawQuery() != null || parsed.getRawFragment() != null) {
      throw new IllegalArgumentException("SPIFFE ID must not have a query or fragment: " + uri);
    }
    String path = parsed.getRawPath() == null ? "" : parsed.getRawPath();
    String[] parts = path.split("/", -1);
    // "", "ns", <ns>, "sa", <sa>
    if (parts.length != 5
        || !parts[0].isEmpty()
        || !"ns".equals(parts[1])
        || !"sa".equals(parts[3])) {
      throw new IllegalArgumentException(
          "SPIFFE ID path must be /ns/<namespace>/sa/<service-account>: " + uri);
    }
    return new SpiffeId(parsed.getHost() == null ? "" : parsed.getHost(), parts[2], parts[4]);
  }

  /** The URI form used in certificate SANs and logs. */
  public String uri() {
    return "spiffe://" + trustDomain + "/ns/" + namespace + "/sa/" + serviceAccount;
  }

  @Override
  public String toString() {
    return uri();
  }

  private static void require(Pattern pattern, String value, String what) {
    if (!pattern.matcher(value).matches()) {
      throw new IllegalArgumentException("invalid " + what + " in SPIFFE ID: '" + value + "'");
    }
  }
}
