package dev.meshwork.sidecar.telemetry;

import dev.meshwork.api.SpiffeId;
import dev.meshwork.sidecar.identity.PeerVerificationException;
import dev.meshwork.sidecar.identity.SpiffePeerVerifier;
import io.netty.channel.Channel;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.AttributeKey;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import javax.net.ssl.SSLPeerUnverifiedException;

/**
 * The verified SPIFFE identity of a downstream connection's peer, read once per connection from its
 * TLS session and kept on the channel.
 *
 * @param id the peer's SPIFFE ID, or null when the connection is not mutual TLS
 */
record PeerIdentity(SpiffeId id) {
  private static final PeerIdentity NONE = new PeerIdentity(null);
  private static final AttributeKey<PeerIdentity> KEY =
      AttributeKey.valueOf(PeerIdentity.class, "peer");

  static PeerIdentity of(Channel connection) {
    PeerIdentity cached = connection.attr(KEY).get();
    if (cached != null) {
      return cached;
    }
    PeerIdentity p = read(connection);
    connection.attr(KEY).set(p);
    return p;
  }

  private static PeerIdentity read(Channel connection) {
    SslHandler ssl = connection.pipeline().get(SslHandler.class);
    if (ssl == null) {
      return NONE;
    }
    try {
      Certificate[] peer = ssl.engine().getSession().getPeerCertificates();
      if (peer.length > 0 && peer[0] instanceof X509Certificate leaf) {
        return new PeerIdentity(SpiffePeerVerifier.spiffeId(leaf));
      }
    } catch (SSLPeerUnverifiedException | PeerVerificationException e) {
      // Not verified: counts as no identity.
    }
    return NONE;
  }

  boolean mtls() {
    return id != null;
  }
}
