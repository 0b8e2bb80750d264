package dev.meshwork.sidecar.identity;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.meshwork.api.SpiffeId;
import dev.meshwork.sidecar.cluster.ClusterSet;
import dev.meshwork.sidecar.cluster.UpstreamPools;
import dev.meshwork.sidecar.config.InboundPolicy;
import dev.meshwork.sidecar.config.ProxyLimits;
import dev.meshwork.sidecar.config.SidecarSnapshot;
import dev.meshwork.sidecar.config.SnapshotHolder;
import dev.meshwork.sidecar.lb.LoadRegistry;
import dev.meshwork.sidecar.listener.ProtocolDetector;
import dev.meshwork.sidecar.listener.ProxyContext;
import dev.meshwork.sidecar.tls.MeshTls;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * PeerAuthentication modes on the sidecar's inbound data path, for both kinds of first bytes: a
 * mesh peer's mutual TLS is terminated on STRICT and PERMISSIVE ports (and HTTP/2 is served inside
 * it), plaintext HTTP/2 is answered on PERMISSIVE and DISABLE ports and cut on STRICT ones, and on
 * a DISABLE port the sidecar does not terminate TLS at all. The client is the JDK's TLS stack with
 * a mesh workload certificate.
 */
class InboundMtlsModesTest {
  private static final byte[] H2C_PREFACE =
      "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
  private static final InboundPolicy.PortMode STRICT = new InboundPolicy.PortMode(false, true);
  private static final InboundPolicy.PortMode PERMISSIVE = new InboundPolicy.PortMode(true, true);
  private static final InboundPolicy.PortMode DISABLE = new InboundPolicy.PortMode(true, false);

  private final TestPki pki = new TestPki("mesh");
  private final EventLoopGroup group =
      new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());

  @AfterEach
  void stop() {
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
  }

  /**
   * An inbound listener (mTLS from the mesh identity) whose policy gives its own port {@code mode}.
   */
  private Channel listener(InboundPolicy.PortMode mode) throws Exception {
    var source =
        new MutualTlsRotationIT.MutableSource(pki.identity(SpiffeId.of("shop", "payments"), 3600));
    MeshTls tls = MeshTls.create(source, "cluster.local", Clock.systemUTC());
    SnapshotHolder snapshots = new SnapshotHolder();
    ProxyContext inbound =
        new ProxyContext(
            snapshots,
            null,
            new UpstreamPools(NioSocketChannel.class, ProxyLimits.DEFAULTS),
            new LoadRegistry(),
            ProxyLimits.DEFAULTS,
            () -> null,
            tls.server(),
            NioSocketChannel.class,
            tls::forwardedClientCert,
            true);
    Channel server =
        new ServerBootstrap()
            .group(group)
            .channel(NioServerSocketChannel.class)
            .childHandler(
                new ChannelInitializer<>() {
                  @Override
                  protected void initChannel(Channel ch) {
                    ch.pipeline().addLast(new ProtocolDetector(inbound, false));
                  }
                })
            .bind(new InetSocketAddress("127.0.0.1", 0))
            .sync()
            .channel();
    int port = ((InetSocketAddress) server.localAddress()).getPort();
    snapshots.set(
        new SidecarSnapshot(
            Map.of(), Map.of(), ClusterSet.EMPTY, new InboundPolicy(Map.of(port, mode)), Map.of()));
    return server;
  }

  private static int firstByteAfterPreface(Socket s) throws Exception {
    s.setSoTimeout(5_000);
    s.getOutputStream().write(H2C_PREFACE);
    s.getOutputStream().write(new byte[] {0, 0, 0, 4, 0, 0, 0, 0, 0});
    s.getOutputStream().flush();
    InputStream in = s.getInputStream();
    return in.read();
  }

  /** Plaintext HTTP/2: the first byte of the server's SETTINGS (0), or -1 if cut. */
  private static int plaintext(Channel server) throws Exception {
    InetSocketAddress a = (InetSocketAddress) server.localAddress();
    try (Socket s = new Socket(a.getAddress(), a.getPort())) {
      return firstByteAfterPreface(s);
    }
  }

  /** Mutual TLS with a mesh workload certificate, then HTTP/2 inside it. */
  private int mutualTls(Channel server) throws Exception {
    var client =
        new MutualTlsRotationIT.MutableSource(pki.identity(SpiffeId.of("shop", "cart"), 3600));
    var verifier = new SpiffePeerVerifier("cluster.local", Clock.systemUTC());
    SSLContext context = SSLContext.getInstance("TLSv1.3");
    context.init(
        new KeyManager[] {new CertificateSourceKeyManager(client)},
        new TrustManager[] {SpiffeTrustManager.forSource(client, verifier, id -> true)},
        null);
    InetSocketAddress a = (InetSocketAddress) server.localAddress();
    try (SSLSocket s =
        (SSLSocket) context.getSocketFactory().createSocket(a.getAddress(), a.getPort())) {
      var params = s.getSSLParameters();
      params.setApplicationProtocols(new String[] {"h2"});
      s.setSSLParameters(params);
      s.setSoTimeout(5_000);
      s.startHandshake();
      assertThat(s.getApplicationProtocol()).isEqualTo("h2");
      return firstByteAfterPreface(s);
    }
  }

  @Test
  void strictTerminatesMutualTlsAndCutsPlaintext() throws Exception {
    Channel server = listener(STRICT);
    assertThat(mutualTls(server)).isEqualTo(0);
    assertThat(plaintext(server)).isEqualTo(-1);
  }

  @Test
  void permissiveAcceptsBothTellingThemApartOnTheFirstBytes() throws Exception {
    Channel server = listener(PERMISSIVE);
    assertThat(mutualTls(server)).isEqualTo(0);
    assertThat(plaintext(server)).isEqualTo(0);
  }

  @Test
  void disableAnswersPlaintextAndNeverTerminatesTls() throws Exception {
    Channel server = listener(DISABLE);
    assertThat(plaintext(server)).isEqualTo(0);
    assertThatThrownBy(() -> mutualTls(server)).isInstanceOf(SSLException.class);
  }
}
