package dev.meshwork.sidecar.identity;

import dev.meshwork.api.SpiffeId;
import java.security.GeneralSecurityException;
import java.security.cert.CertPathValidator;
import java.security.cert.CertPathValidatorException;
import java.security.cert.CertificateFactory;
import java.security.cert.CertificateParsingException;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Date;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Predicate;

/**
 * Verifies a peer's chain the SPIFFE way: the path must lead to one of the trust bundle's roots
 * (JDK PKIX: signatures, validity dates, basic constraints, path length, key usage), and the leaf
 * must carry exactly one URI SAN that is a Meshwork SPIFFE ID in the expected trust domain and
 * accepted by the caller's predicate. Host names play no part.
 *
 * <p>Server side: accept any identity of the trust domain ({@code id -> true}); authorization
 * decides later. Client side: accept the destination's service accounts ({@code
 * match_subject_alt_names}). Immutable and thread-safe.
 */
public final class SpiffePeerVerifier {
  private static final int URI_SAN = 6;
  private static final String EKU_SERVER = "1.3.6.1.5.5.7.3.1";
  private static final String EKU_CLIENT = "1.3.6.1.5.5.7.3.2";

  /** Which end of the connection the verified peer is. */
  public enum PeerRole {
    /** The peer is a TLS client: its leaf must allow clientAuth. */
    CLIENT,
    /** The peer is a TLS server: its leaf must allow serverAuth. */
    SERVER
  }

  private final String trustDomain;
  private final Clock clock;

  public SpiffePeerVerifier(String trustDomain, Clock clock) {
    this.trustDomain = trustDomain;
    this.clock = clock;
  }

  /**
   * @param chain the peer's chain as presented, leaf first
   * @param trustBundle the roots to trust now
   * @param accept which identities of the trust domain this caller accepts
   * @return the peer's identity
   * @throws PeerVerificationException naming the first failed check
   */
  public SpiffeId verify(
      List<X509Certificate> chain,
      List<X509Certificate> trustBundle,
      PeerRole role,
      Predicate<SpiffeId> accept)
      throws PeerVerificationException {
    if (chain == null || chain.isEmpty()) {
      throw new PeerVerificationException("peer presented no certificate");
    }
    if (trustBundle.isEmpty()) {
      throw new PeerVerificationException("no trust bundle yet; cannot verify peers");
    }
    X509Certificate leaf = chain.getFirst();
    validatePath(chain, trustBundle);
    checkExtendedKeyUsage(leaf, role);
    SpiffeId id = spiffeId(leaf);
    if (!id.trustDomain().equals(trustDomain)) {
      throw new PeerVerificationException("peer " + id + " is outside trust domain " + trustDomain);
    }
    if (!accept.test(id)) {
      throw new PeerVerificationException("peer " + id + " is not an accepted identity");
    }
    return id;
  }

  /** Accepts exactly the listed identities (client side, {@code match_subject_alt_names}). */
  public static Predicate<SpiffeId> anyOf(Collection<SpiffeId> ids) {
    Set<SpiffeId> allowed = Set.copyOf(ids);
    return allowed::contains;
  }

  /**
   * The SPIFFE ID in {@code leaf}'s single URI SAN.
   *
   * @throws PeerVerificationException if it has none, several, or an unparsable one
   */
  public static SpiffeId spiffeId(X509Certificate leaf) throws PeerVerificationException {
    Collection<List<?>> sans;
    try {
      sans = leaf.getSubjectAlternativeNames();
    } catch (CertificateParsingException e) {
      throw new PeerVerificationException("unreadable SAN extension", e);
    }
    List<String> uris = new ArrayList<>();
    if (sans != null) {
      for (List<?> san : sans) {
        if (((Integer) san.get(0)) == URI_SAN) {
          uris.add((String) san.get(1));
        }
      }
    }
    if (uris.size() != 1) {
      throw new PeerVerificationException(
          "peer certificate must carry exactly one URI SAN (SPIFFE ID), found " + uris);
    }
    try {
      return SpiffeId.parse(uris.getFirst());
    } catch (IllegalArgumentException e) {
      throw new PeerVerificationException("peer URI SAN is not a SPIFFE ID: " + e.getMessage(), e);
    }
  }

  private void validatePath(List<X509Certificate> chain, List<X509Certificate> trustBundle)
      throws PeerVerificationException {
    // Drop any root the peer sent along: anchors come from our bundle only.
    Set<X509Certificate> roots = new HashSet<>(trustBundle);
    List<X509Certificate> path = chain.stream().filter(c -> !roots.contains(c)).toList();
    if (path.isEmpty()) {
      throw new PeerVerificationException("peer presented only a root certificate");
    }
    try {
      Set<TrustAnchor> anchors = new HashSet<>();
      trustBundle.forEach(r -> anchors.add(new TrustAnchor(r, null)));
      PKIXParameters params = new PKIXParameters(anchors);
      // Mesh certificates live for hours and are not revoked but let expire; no CRL/OCSP.
      params.setRevocationEnabled(false);
      params.setDate(Date.from(clock.instant()));
      CertPathValidator.getInstance("PKIX")
          .validate(CertificateFactory.getInstance("X.509").generateCertPath(path), params);
    } catch (CertPathValidatorException e) {
      throw new PeerVerificationException(
          "peer chain rejected: " + e.getMessage() + describe(chain.getFirst()), e);
    } catch (GeneralSecurityException e) {
      throw new PeerVerificationException("peer chain cannot be validated: " + e.getMessage(), e);
    }
  }

  private static void checkExtendedKeyUsage(X509Certificate leaf, PeerRole role)
      throws PeerVerificationException {
    List<String> eku;
    try {
      eku = leaf.getExtendedKeyUsage();
    } catch (CertificateParsingException e) {
      throw new PeerVerificationException("unreadable extended key usage", e);
    }
    String needed = role == PeerRole.CLIENT ? EKU_CLIENT : EKU_SERVER;
    if (eku != null && !eku.contains(needed)) {
      throw new PeerVerificationException(
          "peer certificate is not valid for TLS "
              + role.name().toLowerCase(java.util.Locale.ROOT)
              + " use");
    }
  }

  private static String describe(X509Certificate leaf) {
    return " (leaf valid "
        + leaf.getNotBefore().toInstant()
        + " to "
        + leaf.getNotAfter().toInstant()
        + ", issuer "
        + leaf.getIssuerX500Principal().getName()
        + ")";
  }

  @Override
  public String toString() {
    return "SpiffePeerVerifier[" + trustDomain + "]";
  }

  static List<X509Certificate> asList(X509Certificate[] chain) {
    return chain == null ? List.of() : Arrays.asList(chain);
  }
}
