package dev.meshwork.sidecar.listener;

import static org.assertj.core.api.Assertions.assertThat;

import dev.meshwork.sidecar.cluster.ClusterSet;
import dev.meshwork.sidecar.cluster.UpstreamPools;
import dev.meshwork.sidecar.config.InboundPolicy;
import dev.meshwork.sidecar.config.ProxyLimits;
import dev.meshwork.sidecar.config.SidecarSnapshot;
import dev.meshwork.sidecar.config.SnapshotHolder;
import dev.meshwork.sidecar.lb.LoadRegistry;
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
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * PeerAuthentication on the inbound side, at the first bytes: a plaintext HTTP/2 client reaching a
 * port whose mode accepts only mutual TLS (STRICT) is disconnected; on a PERMISSIVE port it gets
 * the server's HTTP/2 SETTINGS.
 */
class InboundPolicyEnforcementTest {
  private static final byte[] H2C_PREFACE =
      "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII);

  private final EventLoopGroup group =
      new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());

  @AfterEach
  void stop() {
    group.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS);
  }

  /** An inbound listener whose policy gives its own port {@code mode}. */
  private Channel listener(InboundPolicy.PortMode modeForItsPort) throws Exception {
    SnapshotHolder snapshots = new SnapshotHolder();
    ProxyContext inbound =
        new ProxyContext(
            snapshots,
            null,
            new UpstreamPools(NioSocketChannel.class, ProxyLimits.DEFAULTS),
            new LoadRegistry(),
            ProxyLimits.DEFAULTS,
            () -> null,
            null,
            NioSocketChannel.class,
            null,
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
            Map.of(),
            Map.of(),
            ClusterSet.EMPTY,
            new InboundPolicy(Map.of(port, modeForItsPort)),
            Map.of()));
    return server;
  }

  /** Sends the h2c preface and an empty SETTINGS frame; returns the first byte read, or -1. */
  private static int firstByteAfterPreface(Channel server) throws Exception {
    InetSocketAddress a = (InetSocketAddress) server.localAddress();
    try (Socket s = new Socket(a.getAddress(), a.getPort())) {
      s.setSoTimeout(5_000);
      s.getOutputStream().write(H2C_PREFACE);
      s.getOutputStream().write(new byte[] {0, 0, 0, 4, 0, 0, 0, 0, 0});
      s.getOutputStream().flush();
      InputStream in = s.getInputStream();
      return in.read();
    }
  }

  @Test
  void strictPortDisconnectsAPlaintextClient() throws Exception {
    Channel server = listener(new InboundPolicy.PortMode(false, true));
    assertThat(firstByteAfterPreface(server)).as("connection closed without a reply").isEqualTo(-1);
  }

  @Test
  void permissivePortAnswersPlaintextHttp2() throws Exception {
    Channel server = listener(new InboundPolicy.PortMode(true, true));
    // The first byte of the server's SETTINGS frame header (length, high byte) is 0.
    assertThat(firstByteAfterPreface(server)).isEqualTo(0);
  }
}
