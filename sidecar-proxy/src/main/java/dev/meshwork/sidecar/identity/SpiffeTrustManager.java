package dev.meshwork.sidecar.identity;

import dev.meshwork.api.SpiffeId;
import java.net.Socket;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;
import java.util.function.Supplier;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedTrustManager;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

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
  private static final Logger log = LoggerFactory.getLogger(SpiffeTrustManager.class);
  private static final long SECOND_NANOS = TimeUnit.SECONDS.toNanos(1);
  private final SpiffePeerVerifier verifier;
  private final Supplier<List<X509Certificate>> trustBundle;
  private final Predicate<SpiffeId> accept;
  private final AtomicLong lastRejectionLog = new AtomicLong(System.nanoTime() - SECOND_NANOS);
  private final AtomicLong suppressedRejections = new AtomicLong();

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
    return new SpiffeTrustManager(verifier, identityBundle(source), accept);
  }

  /**
   * Trusts the roots of the mounted trust bundle {@code file} (the ConfigMap the control plane
   * keeps current, so a root added or dropped there applies within one re-read), and the bundle of
   * {@code source}'s current identity only while the file has never been readable.
   */
  public static SpiffeTrustManager forSource(
      CertificateSource source,
      TrustBundleFile file,
      SpiffePeerVerifier verifier,
      Predicate<SpiffeId> accept) {
    Supplier<List<X509Certificate>> fromIdentity = identityBundle(source);
    return new SpiffeTrustManager(
        verifier,
        () -> {
          List<X509Certificate> mounted = file.get();
          return mounted.isEmpty() ? fromIdentity.get() : mounted;
        },
        accept);
  }

  private static Supplier<List<X509Certificate>> identityBundle(CertificateSource source) {
    return () -> source.current().map(WorkloadIdentity::trustBundle).orElse(List.of());
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType)
      throws CertificateException {
    check(chain, SpiffePeerVerifier.PeerRole.CLIENT, null);
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType)
      throws CertificateException {
    check(chain, SpiffePeerVerifier.PeerRole.SERVER, null);
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket)
      throws CertificateException {
    check(chain, SpiffePeerVerifier.PeerRole.CLIENT, peer(socket));
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket)
      throws CertificateException {
    check(chain, SpiffePeerVerifier.PeerRole.SERVER, peer(socket));
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
      throws CertificateException {
    check(chain, SpiffePeerVerifier.PeerRole.CLIENT, peer(engine));
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
      throws CertificateException {
    check(chain, SpiffePeerVerifier.PeerRole.SERVER, peer(engine));
  }

  private void check(X509Certificate[] chain, SpiffePeerVerifier.PeerRole role, String peer)
      throws PeerVerificationException {
    try {
      verifier.verify(SpiffePeerVerifier.asList(chain), trustBundle.get(), role, accept);
    } catch (PeerVerificationException e) {
      logRejection(role, peer, chain, e);
      throw e;
    }
  }

  /**
   * One WARN line per rejected peer, naming what failed, at most one a second (a peer retrying in a
   * loop, or a flood of forged handshakes, must not flood the log); the rest are counted.
   */
  private void logRejection(
      SpiffePeerVerifier.PeerRole role,
      String peer,
      X509Certificate[] chain,
      PeerVerificationException e) {
    long now = System.nanoTime();
    long last = lastRejectionLog.get();
    if (now - last < SECOND_NANOS || !lastRejectionLog.compareAndSet(last, now)) {
      suppressedRejections.incrementAndGet();
      return;
    }
    String subject =
        chain == null || chain.length == 0
            ? "no certificate"
            : "serial " + chain[0].getSerialNumber().toString(16);
    log.warn(
        "mTLS peer rejected: {} {} ({}): {}{}",
        role == SpiffePeerVerifier.PeerRole.CLIENT ? "client" : "server",
        peer == null ? "?" : peer,
        subject,
        e.getMessage(),
        suppressedSummary());
  }

  private String suppressedSummary() {
    long n = suppressedRejections.getAndSet(0);
    return n == 0 ? "" : " (" + n + " more rejections not logged)";
  }

  private static String peer(SSLEngine engine) {
    return engine == null || engine.getPeerHost() == null
        ? null
        : engine.getPeerHost() + ":" + engine.getPeerPort();
  }

  private static String peer(Socket socket) {
    return socket == null ? null : String.valueOf(socket.getRemoteSocketAddress());
  }

  @Override
  public X509Certificate[] getAcceptedIssuers() {
    return trustBundle.get().toArray(X509Certificate[]::new);
  }
}
