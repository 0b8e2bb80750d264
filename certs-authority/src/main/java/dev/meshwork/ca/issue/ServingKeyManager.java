package dev.meshwork.ca.issue;

import java.net.Socket;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedKeyManager;

/**
 * A JSSE key manager for the control plane's own TLS ports (gRPC 15012, webhook 15017) that
 * presents a serving certificate from the mesh CA and keeps it fresh: {@link #renewIfDue} issues a
 * new one at half life or as soon as another intermediate signs (renewal, root rotation). Hand it
 * to {@code TlsServerCredentials.newBuilder().keyManager(...)} or Netty's {@code
 * SslContextBuilder.forServer(...)}.
 *
 * <p>Presents the current serving certificate; {@link #swap} affects new handshakes only. The alias
 * is the leaf's serial, and the previous certificate is kept, so a handshake that chose its alias
 * just before a swap still gets a key and chain that belong together. Thread-safe.
 */
public final class ServingKeyManager extends X509ExtendedKeyManager {
  private final AtomicReference<ServingCertificate> current;
  private final AtomicReference<ServingCertificate> previous = new AtomicReference<>();

  public ServingKeyManager(ServingCertificate initial) {
    this.current = new AtomicReference<>(initial);
  }

  /** A key manager with a fresh certificate for {@code dnsNames}. */
  public static ServingKeyManager issue(
      CertificateAuthority ca, List<String> dnsNames, Duration ttl) {
    return new ServingKeyManager(ServingCertificate.issue(ca, dnsNames, ttl));
  }

  public ServingCertificate current() {
    return current.get();
  }

  /**
   * Issues a new certificate for the same names if half the current one's life has passed or it was
   * signed by an intermediate that no longer signs.
   *
   * @return true if a new certificate was swapped in
   */
  public boolean renewIfDue(CertificateAuthority ca, Duration ttl, Instant now) {
    ServingCertificate serving = current.get();
    var leaf = serving.certificate().leaf();
    Instant issued = leaf.getNotBefore().toInstant();
    Instant half =
        issued.plus(Duration.between(issued, leaf.getNotAfter().toInstant()).dividedBy(2));
    boolean staleIssuer =
        !serving.certificate().chain().get(1).equals(ca.activeGeneration().intermediate());
    if (!now.isAfter(half) && !staleIssuer) {
      return false;
    }
    swap(ServingCertificate.issue(ca, dnsNames(leaf), ttl));
    return true;
  }

  private static List<String> dnsNames(X509Certificate leaf) {
    try {
      return leaf.getSubjectAlternativeNames().stream()
          .filter(san -> ((Integer) san.get(0)) == 2)
          .map(san -> (String) san.get(1))
          .toList();
    } catch (java.security.cert.CertificateParsingException e) {
      throw new IllegalStateException("own serving certificate unreadable", e);
    }
  }

  /** Presents {@code next} from the next handshake on. */
  public void swap(ServingCertificate next) {
    previous.set(current.get());
    current.set(next);
  }

  private static String alias(ServingCertificate c) {
    return c.certificate().leaf().getSerialNumber().toString(16);
  }

  private ServingCertificate byAlias(String alias) {
    ServingCertificate old = previous.get();
    return old != null && alias(old).equals(alias) ? old : current.get();
  }

  @Override
  public String[] getClientAliases(String keyType, Principal[] issuers) {
    return null;
  }

  @Override
  public String chooseClientAlias(String[] keyType, Principal[] issuers, Socket socket) {
    return null;
  }

  @Override
  public String[] getServerAliases(String keyType, Principal[] issuers) {
    return new String[] {alias(current.get())};
  }

  @Override
  public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
    return alias(current.get());
  }

  @Override
  public String chooseEngineServerAlias(String keyType, Principal[] issuers, SSLEngine engine) {
    return alias(current.get());
  }

  @Override
  public X509Certificate[] getCertificateChain(String alias) {
    return byAlias(alias).certificate().chain().toArray(X509Certificate[]::new);
  }

  @Override
  public PrivateKey getPrivateKey(String alias) {
    return byAlias(alias).key();
  }
}
