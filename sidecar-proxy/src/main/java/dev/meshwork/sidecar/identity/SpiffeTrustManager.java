package dev.meshwork.sidecar.identity;

import dev.meshwork.api.SpiffeId;
import java.net.Socket;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.function.Predicate;
import java.util.function.Supplier;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * A JSSE trust manager that accepts a peer only if {@link SpiffePeerVerifier} does. The trust
 * bundle is read on every handshake from {@code trustBundle} (normally the current {@link
 * WorkloadIdentity}'s), so a root rotation takes effect without rebuilding the SslContext.
 *
 * <p>It extends {@link X509ExtendedTrustManager} so JSSE does not add host name checks: SPIFFE
 * identity replaces them. Plug it into Netty's {@code SslContextBuilder.trustManager(...)} on both
 * the server (peer role CLIENT) and the client (peer role SERVER) side. Thread-safe.
 */
public final class SpiffeTrustManager extends X509ExtendedTrustManager {
  private final SpiffePeerVerifier verifier;
  private final Supplier<List<X509Certificate>> trustBundle;
  private final Predicate<SpiffeId> accept;

  /**
   * @param accept identities accepted (the trust domain is checked in any case)
   */
  public SpiffeTrustManager(
      SpiffePeerVerifier verifier,
      Supplier<List<X509Certificate>> trustBundle,
      Predicate<SpiffeId> accept) {
    this.verifier = verifier;
    this.trustBundle = trustBundle;
    this.accept = accept;
  }

  /** Trusts the bundle of {@code source}'s current identity (none before the first one). */
  public static SpiffeTrustManager forSource(
      CertificateSource source, SpiffePeerVerifier verifier, Predicate<SpiffeId> accept) {
    return new SpiffeTrustManager(
        verifier,
        () -> source.current().map(WorkloadIdentity::trustBundle).orElse(List.of()),
        accept);
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType)
      throws CertificateException {
    verifier.verify(
        SpiffePeerVerifier.asList(chain),
        trustBundle.get(),
        SpiffePeerVerifier.PeerRole.CLIENT,
        accept);
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType)
      throws CertificateException {
    verifier.verify(
        SpiffePeerVerifier.asList(chain),
        trustBundle.get(),
        SpiffePeerVerifier.PeerRole.SERVER,
        accept);
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket)
      throws CertificateException {
    checkClientTrusted(chain, authType);
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket)
      throws CertificateException {
    checkServerTrusted(chain, authType);
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
      throws CertificateException {
    checkClientTrusted(chain, authType);
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
      throws CertificateException {
    checkServerTrusted(chain, authType);
  }

  @Override
  public X509Certificate[] getAcceptedIssuers() {
    return trustBundle.get().toArray(X509Certificate[]::new);
  }
}
