package dev.meshwork.sidecar.listener;

import dev.meshwork.sidecar.telemetry.ConnectionCounter;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.codec.http2.Http2CodecUtil;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * First handler of every accepted connection: looks at the first bytes and installs the right
 * pipeline, then removes itself.
 *
 * <ul>
 *   <li>HTTP/2 connection preface ({@code PRI * HTTP/2.0...}): the HTTP/2 proxy (h2c).
 *   <li>TLS ClientHello (record type 22): TLS with ALPN h2, then the HTTP/2 proxy, when a server
 *       certificate is available; else TCP passthrough when the original destination is known.
 *   <li>HTTP/1.x request line, or anything else: TCP passthrough to the original destination, so
 *       non-gRPC traffic is never broken; without a known destination, the connection is closed.
 * </ul>
 *
 * Server-first protocols send nothing: after {@link #SNIFF_TIMEOUT_MILLIS} the connection is passed
 * through as TCP (or closed).
 */
public final class ProtocolDetector extends ByteToMessageDecoder {
  private static final Logger log = LoggerFactory.getLogger(ProtocolDetector.class);
  static final long SNIFF_TIMEOUT_MILLIS = 5_000;
  private static final ByteBuf PREFACE = Http2CodecUtil.connectionPrefaceBuf();
  private static final List<String> HTTP1_METHODS =
      List.of(
          "GET ", "POST ", "PUT ", "HEAD ", "DELETE ", "OPTIONS ", "PATCH ", "CONNECT ", "TRACE ");

  /** What the first bytes say. */
  public enum Protocol {
    H2C,
    TLS,
    HTTP1,
    OTHER,
    /** Not enough bytes yet to tell. */
    UNKNOWN
  }

  private final ProxyContext proxy;
  private final boolean passthroughAllowed;
  private ScheduledFuture<?> timeout;

  /**
   * @param passthroughAllowed true on capture listeners, where non-HTTP/2 traffic goes to its
   *     original destination
   */
  public ProtocolDetector(ProxyContext proxy, boolean passthroughAllowed) {
    this.proxy = proxy;
    this.passthroughAllowed = passthroughAllowed;
  }

  /** Classifies a connection's first bytes (pure; exposed for tests). */
  public static Protocol classify(ByteBuf in) {
    int n = in.readableBytes();
    if (n == 0) {
      return Protocol.UNKNOWN;
    }
    int r = in.readerIndex();
    int cmp = Math.min(n, PREFACE.readableBytes());
    if (ByteBufUtil.equals(in, r, PREFACE, PREFACE.readerIndex(), cmp)) {
      return cmp == PREFACE.readableBytes() ? Protocol.H2C : Protocol.UNKNOWN;
    }
    if (in.getByte(r) == 0x16 && (n < 2 || in.getByte(r + 1) == 0x03)) {
      return n < 2 ? Protocol.UNKNOWN : Protocol.TLS;
    }
    String head = in.toString(r, Math.min(n, 8), StandardCharsets.US_ASCII);
    boolean maybe = false;
    for (String m : HTTP1_METHODS) {
      if (head.startsWith(m)) {
        return Protocol.HTTP1;
      }
      if (m.startsWith(head)) {
        maybe = true;
      }
    }
    return maybe ? Protocol.UNKNOWN : Protocol.OTHER;
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    timeout =
        ctx.executor()
            .schedule(
                () -> decide(ctx, Protocol.OTHER), SNIFF_TIMEOUT_MILLIS, TimeUnit.MILLISECONDS);
  }

  @Override
  protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
    Protocol p = classify(in);
    if (p != Protocol.UNKNOWN) {
      decide(ctx, p);
    }
  }

  /**
   * Whether the inbound policy lets plaintext reach the destination port: the original destination
   * under capture, the listener's own port when the app's port is dialled directly. Ports the
   * policy does not name keep the mesh default, which accepts plaintext (PERMISSIVE).
   */
  private boolean plaintextAllowed(ChannelHandlerContext ctx, Optional<InetSocketAddress> dst) {
    int port =
        dst.map(InetSocketAddress::getPort)
            .orElseGet(() -> ((InetSocketAddress) ctx.channel().localAddress()).getPort());
    var mode = proxy.snapshots().get().inbound().ports().get(port);
    return mode == null || mode.plaintext();
  }

  /** Whether the sidecar terminates mutual TLS for the destination port (not DISABLE). */
  private boolean tlsAllowed(ChannelHandlerContext ctx, Optional<InetSocketAddress> dst) {
    int port =
        dst.map(InetSocketAddress::getPort)
            .orElseGet(() -> ((InetSocketAddress) ctx.channel().localAddress()).getPort());
    var mode = proxy.snapshots().get().inbound().ports().get(port);
    return mode == null || mode.tls();
  }

  private void decide(ChannelHandlerContext ctx, Protocol p) {
    if (ctx.isRemoved()) {
      return;
    }
    if (timeout != null) {
      timeout.cancel(false);
    }
    var pipeline = ctx.pipeline();
    Optional<InetSocketAddress> dst =
        passthroughAllowed ? OriginalDst.cached(ctx.channel()) : Optional.empty();
    if (p != Protocol.TLS && proxy.enforceInboundPolicy() && !plaintextAllowed(ctx, dst)) {
      // PeerAuthentication STRICT for this port: only mutual TLS from a mesh identity.
      log.info(
          "inbound.plaintext.refused remote={} reason=peer authentication requires mTLS",
          ctx.channel().remoteAddress());
      ctx.close();
      return;
    }
    switch (p) {
      case H2C -> Http2Frontend.configure(pipeline, proxy);
      case TLS -> {
        if (proxy.enforceInboundPolicy() && !tlsAllowed(ctx, dst)) {
          // PeerAuthentication DISABLE: the mesh does not terminate TLS on this port; the app's own
          // TLS (if any) passes through untouched.
          if (dst.isEmpty()) {
            log.info(
                "inbound.mtls.refused remote={} reason=peer authentication DISABLE on this port",
                ctx.channel().remoteAddress());
            ctx.close();
            return;
          }
          pipeline.addLast(
              ConnectionCounter.NAME, ConnectionCounter.of(proxy.observer(), dst.get()));
          TcpPassthrough.install(
              pipeline, dst.get(), proxy.socketChannel(), connectTimeoutMillis());
        } else if (proxy.serverTls() != null && proxy.serverTls().get() != null) {
          pipeline.addLast(proxy.serverTls().get().newHandler(ctx.alloc()));
          pipeline.addLast(new AlpnH2Handler(proxy));
        } else if (dst.isPresent()) {
          pipeline.addLast(
              ConnectionCounter.NAME, ConnectionCounter.of(proxy.observer(), dst.get()));
          TcpPassthrough.install(
              pipeline, dst.get(), proxy.socketChannel(), connectTimeoutMillis());
        } else {
          log.debug("detect.tls.unavailable remote={}", ctx.channel().remoteAddress());
          ctx.close();
          return;
        }
      }
      default -> {
        if (dst.isPresent()) {
          pipeline.addLast(
              ConnectionCounter.NAME, ConnectionCounter.of(proxy.observer(), dst.get()));
          TcpPassthrough.install(
              pipeline, dst.get(), proxy.socketChannel(), connectTimeoutMillis());
        } else {
          log.debug("detect.rejected protocol={} remote={}", p, ctx.channel().remoteAddress());
          ctx.close();
          return;
        }
      }
    }
    // Hands any bytes read so far to the new handlers, then leaves the pipeline.
    pipeline.remove(this);
  }

  private int connectTimeoutMillis() {
    return (int) Math.min(Integer.MAX_VALUE, proxy.limits().connectTimeout().toMillis());
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    log.debug("detect.error cause={}", cause.toString());
    ctx.close();
  }
}
