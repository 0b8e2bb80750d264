package dev.meshwork.sidecar.listener;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPipeline;
import java.net.InetSocketAddress;
import java.util.ArrayDeque;

/**
 * Plain TCP relay to the original destination, for traffic that is not HTTP/2. Reads on each side
 * only while the other side is writable, so neither buffers without bound.
 *
 * <p>Threading: both channels run on the accepted channel's event loop.
 */
public final class TcpPassthrough extends ChannelInboundHandlerAdapter {
  private final InetSocketAddress target;
  private final Class<? extends Channel> channelClass;
  private final int connectTimeoutMillis;
  private Channel outbound;
  private final ArrayDeque<Object> early = new ArrayDeque<>();

  private TcpPassthrough(
      InetSocketAddress target, Class<? extends Channel> channelClass, int connectTimeoutMillis) {
    this.target = target;
    this.channelClass = channelClass;
    this.connectTimeoutMillis = connectTimeoutMillis;
  }

  /**
   * Adds the relay to {@code p} (the accepted connection) and starts connecting; when the
   * destination does not answer within {@code connectTimeoutMillis}, the connection is closed.
   */
  public static void install(
      ChannelPipeline p,
      InetSocketAddress target,
      Class<? extends Channel> channelClass,
      int connectTimeoutMillis) {
    p.addLast("tcp-passthrough", new TcpPassthrough(target, channelClass, connectTimeoutMillis));
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    Channel in = ctx.channel();
    in.config().setAutoRead(false);
    ChannelFuture f =
        new Bootstrap()
            .group(in.eventLoop())
            .channel(channelClass)
            .option(ChannelOption.TCP_NODELAY, true)
            .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, connectTimeoutMillis)
            .option(ChannelOption.AUTO_READ, true)
            .handler(new Relay(in))
            .connect(target);
    outbound = f.channel();
    f.addListener(
        (ChannelFuture cf) -> {
          if (!cf.isSuccess()) {
            in.close();
            return;
          }
          Object m;
          while ((m = early.poll()) != null) {
            outbound.write(m);
          }
          outbound.flush();
          in.config().setAutoRead(true);
        });
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (!outbound.isActive()) {
      early.add(msg);
      return;
    }
    outbound.writeAndFlush(msg);
    if (!outbound.isWritable()) {
      ctx.channel().config().setAutoRead(false);
    }
  }

  @Override
  public void channelWritabilityChanged(ChannelHandlerContext ctx) {
    if (ctx.channel().isWritable() && outbound != null) {
      outbound.config().setAutoRead(true);
    }
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    early.forEach(io.netty.util.ReferenceCountUtil::release);
    early.clear();
    closeOnFlush(outbound);
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    ctx.close();
  }

  static void closeOnFlush(Channel ch) {
    if (ch != null && ch.isActive()) {
      ch.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
    }
  }

  /** The upstream side: relays to the accepted connection with the same back-pressure. */
  private static final class Relay extends ChannelInboundHandlerAdapter {
    private final Channel in;

    Relay(Channel in) {
      this.in = in;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      in.writeAndFlush(msg);
      if (!in.isWritable()) {
        ctx.channel().config().setAutoRead(false);
      }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
      if (ctx.channel().isWritable()) {
        in.config().setAutoRead(true);
      }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      closeOnFlush(in);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      ctx.close();
    }
  }
}
