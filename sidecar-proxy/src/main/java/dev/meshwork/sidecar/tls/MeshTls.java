package dev.meshwork.sidecar.tls;

import dev.meshwork.api.SpiffeId;
import dev.meshwork.sidecar.identity.CertificateSource;
import dev.meshwork.sidecar.identity.CertificateSourceKeyManager;
import dev.meshwork.sidecar.identity.PeerVerificationException;
import dev.meshwork.sidecar.identity.SpiffePeerVerifier;
import dev.meshwork.sidecar.identity.SpiffeTrustManager;
import dev.meshwork.sidecar.identity.TrustBundleFile;
import dev.meshwork.sidecar.identity.WorkloadIdentity;
import io.netty.channel.Channel;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslProvider;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.util.function.Supplier;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLPeerUnverifiedException;

/**
 * The sidecar's mutual TLS: one client and one server context built once over the identity layer.
 * Both read the current certificate and trust bundle at every handshake (through {@link
 * CertificateSourceKeyManager} and {@link SpiffeTrustManager}), so a rotation needs no rebuild and
 * open connections keep the certificate they were made with. Both sides require a SPIFFE identity
 * of the mesh's trust domain from the peer; which caller may call what is authorization's job.
 *
 * <p>Thread-safe and immutable after construction.
 */
public final class MeshTls {
  /** The header the inbound side sets for the app: who the verified caller was, and who we are. */
  public static final String FORWARDED_CLIENT_CERT = "x-forwarded-client-cert";

  /**
   * BoringSSL (netty-tcnative) when its native library loads, else the JDK's engine: the same
   * handshake and checks either way (our key and trust managers decide), but BoringSSL does the
   * record layer and AES-GCM in native code, which is most of a TLS hop's cost on the JVM.
   */
  public static final SslProvider PROVIDER =
      OpenSsl.isAvailable() ? SslProvider.OPENSSL : SslProvider.JDK;

  private final CertificateSource source;
  private final SslContext client;
  private final SslContext server;

  private MeshTls(CertificateSource source, SslContext client, SslContext server) {
    this.source = source;
    this.client = client;
    this.server = server;
  }

  /**
   * @param trustDomain peers must carry an identity of this trust domain
   */
  public static MeshTls create(CertificateSource source, String trustDomain, Clock clock)
      throws SSLException {
    SpiffePeerVerifier verifier = new SpiffePeerVerifier(trustDomain, clock);
    return create(source, SpiffeTrustManager.forSource(source, verifier, id -> true));
  }

  /**
   * As {@link #create(CertificateSource, String, Clock)}, trusting the roots of the mounted trust
   * bundle {@code roots} (re-read as the control plane updates it; see {@link TrustBundleFile}).
   */
  public static MeshTls create(
      CertificateSource source, TrustBundleFile roots, String trustDomain, Clock clock)
      throws SSLException {
    SpiffePeerVerifier verifier = new SpiffePeerVerifier(trustDomain, clock);
    return create(source, SpiffeTrustManager.forSource(source, roots, verifier, id -> true));
  }

  private static MeshTls create(CertificateSource source, SpiffeTrustManager trust)
      throws SSLException {
    CertificateSourceKeyManager keys = new CertificateSourceKeyManager(source);
    // h2 only: a peer sidecar that cannot speak HTTP/2 over TLS is not a peer we can proxy for.
    ApplicationProtocolConfig alpn =
        new ApplicationProtocolConfig(
            ApplicationProtocolConfig.Protocol.ALPN,
            ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
            ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT,
            ApplicationProtocolNames.HTTP_2);
    SslContext client =
        SslContextBuilder.forClient()
            .sslProvider(PROVIDER)
            .keyManager(keys)
            .trustManager(trust)
            .protocols("TLSv1.3")
            .applicationProtocolConfig(alpn)
            .build();
    SslContext server =
        SslContextBuilder.forServer(keys)
            .sslProvider(PROVIDER)
            .trustManager(trust)
            .clientAuth(ClientAuth.REQUIRE)
            .protocols("TLSv1.3")
            .applicationProtocolConfig(alpn)
            .build();
    return new MeshTls(source, client, server);
  }

  /** The client context once a certificate exists; null before (mTLS clusters then fail closed). */
  public Supplier<SslContext> client() {
    return () -> source.isReady() ? client : null;
  }

  /** The server context once a certificate exists; null before (TLS peers are then refused). */
  public Supplier<SslContext> server() {
    return () -> source.isReady() ? server : null;
  }

  /**
   * The {@code x-forwarded-client-cert} value for a call that arrived on {@code connection}: {@code
   * By=<our SPIFFE ID>;URI=<the verified caller's SPIFFE ID>}, or null when the connection is not
   * mutual TLS.
   */
  public String forwardedClientCert(Channel connection) {
    SslHandler ssl = connection.pipeline().get(SslHandler.class);
    WorkloadIdentity self = source.current().orElse(null);
    if (ssl == null || self == null) {
      return null;
    }
    try {
      Certificate[] peer = ssl.engine().getSession().getPeerCertificates();
      if (peer.length == 0 || !(peer[0] instanceof X509Certificate leaf)) {
        return null;
      }
      SpiffeId caller = SpiffePeerVerifier.spiffeId(leaf);
      return "By=" + self.id().uri() + ";URI=" + caller.uri();
    } catch (SSLPeerUnverifiedException | PeerVerificationException e) {
      return null;
    }
  }
}
