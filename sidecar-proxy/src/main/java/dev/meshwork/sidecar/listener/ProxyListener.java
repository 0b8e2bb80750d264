package dev.meshwork.sidecar.listener;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.ChannelGroupFuture;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A listening socket whose connections go through {@link ProtocolDetector}. Keeps its accepted
 * connections so that {@link #drain(Duration)} can GOAWAY them all.
 *
 * <p>Threading: bind and drain from any thread; connections live on the worker group.
 */
public final class ProxyListener {
  private static final Logger log = LoggerFactory.getLogger(ProxyListener.class);

  private final String name;
  private final Channel server;
  private final ChannelGroup connections;

  private ProxyListener(String name, Channel server, ChannelGroup connections) {
    this.name = name;
    this.server = server;
    this.connections = connections;
  }

  /**
   * Binds {@code address} and serves it.
   *
   * @param capture true on iptables capture ports (non-HTTP/2 traffic is passed through)
   */
  public static ProxyListener bind(
      String name,
      InetSocketAddress address,
      EventLoopGroup boss,
      EventLoopGroup workers,
      Transport transport,
      ProxyContext proxy,
      boolean capture)
      throws InterruptedException {
    ChannelGroup group = new DefaultChannelGroup(name, GlobalEventExecutor.INSTANCE);
    ServerBootstrap b =
        new ServerBootstrap()
            .group(boss, workers)
            .channel(transport.serverChannel())
            .option(ChannelOption.SO_BACKLOG, 1024)
            .option(ChannelOption.SO_REUSEADDR, true)
            .childOption(ChannelOption.TCP_NODELAY, true)
            .childHandler(
                new ChannelInitializer<>() {
                  @Override
                  protected void initChannel(Channel ch) {
                    group.add(ch);
                    ch.pipeline().addLast("detect", new ProtocolDetector(proxy, capture));
                  }
                });
    ProxyListener l = new ProxyListener(name, b.bind(address).sync().channel(), group);
    log.info(
        "listener.bound name={} address={} transport={}",
        name,
        l.server.localAddress(),
        transport.name());
    return l;
  }

  public InetSocketAddress address() {
    return (InetSocketAddress) server.localAddress();
  }

  public String name() {
    return name;
  }

  /** Open downstream connections. */
  public int connections() {
    return connections.size();
  }

  /**
   * Stops accepting, then closes every connection gracefully: the HTTP/2 codec sends GOAWAY and
   * waits for calls in flight up to its graceful-shutdown timeout. Returns when all are closed or
   * {@code bound} has passed.
   */
  public void drain(Duration bound) throws InterruptedException {
    drainAll(List.of(this), bound);
  }

  /**
   * The SIGTERM path for several listeners under one bound: all stop accepting at once, then every
   * connection gets GOAWAY at once (new calls go elsewhere, calls in flight finish), and this
   * returns when all connections are closed or {@code bound} has passed, whichever is first.
   */
  public static void drainAll(List<ProxyListener> listeners, Duration bound)
      throws InterruptedException {
    long deadline = System.nanoTime() + bound.toNanos();
    for (ProxyListener l : listeners) {
      l.server.close().sync();
    }
    List<ChannelGroupFuture> closing = new ArrayList<>();
    for (ProxyListener l : listeners) {
      log.info("listener.draining name={} connections={}", l.name, l.connections.size());
      closing.add(l.connections.close());
    }
    for (ChannelGroupFuture f : closing) {
      long left = deadline - System.nanoTime();
      if (left <= 0 || !f.await(left, TimeUnit.NANOSECONDS)) {
        log.warn("listener.drain.timeout bound={} (calls still in flight are cut)", bound);
        return;
      }
    }
  }
}
