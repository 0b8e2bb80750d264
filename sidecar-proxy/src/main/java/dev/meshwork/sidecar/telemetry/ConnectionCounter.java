package dev.meshwork.sidecar.telemetry;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import java.net.InetSocketAddress;

/**
 * Counts a passed-through connection's bytes for its {@link ObservedConnection}: what the accepted
 * side sends is on its way to the destination, what is written back came from it. Goes on the
 * accepted connection's pipeline just before the TCP relay.
 *
 * <p>Event-loop confined (one instance per connection).
 */
public final class ConnectionCounter extends ChannelDuplexHandler {
  public static final String NAME = "tcp-telemetry";
  private final ObservedConnection connection;

  private ConnectionCounter(ObservedConnection connection) {
    this.connection = connection;
  }

  /** A counter reporting to {@code observer} for a connection to {@code destination}. */
  public static ConnectionCounter of(TrafficObserver observer, InetSocketAddress destination) {
    return new ConnectionCounter(observer.connection(destination));
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (msg instanceof ByteBuf b) {
      connection.sent(b.readableBytes());
    }
    ctx.fireChannelRead(msg);
  }

  @Override
  public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
    if (msg instanceof ByteBuf b) {
      connection.received(b.readableBytes());
    }
    ctx.write(msg, promise);
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    connection.closed();
    ctx.fireChannelInactive();
  }
}
