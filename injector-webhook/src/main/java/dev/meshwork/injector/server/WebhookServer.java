package dev.meshwork.injector.server;

import dev.meshwork.injector.admission.AdmissionService;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpServerKeepAliveHandler;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.concurrent.DefaultEventExecutorGroup;
import io.netty.util.concurrent.EventExecutorGroup;
import java.net.InetSocketAddress;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The webhook's HTTPS server. Pipeline per connection, in order:
 *
 * <pre>
 * ssl -> idle -> http-codec -> stalled -> keep-alive -> body-limit -> [workers] admission
 * </pre>
 *
 * <p>Start with {@link #start}; {@link #close} stops accepting, lets answers in flight finish, and
 * releases the threads. Thread-safe.
 */
public final class WebhookServer implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(WebhookServer.class);

  public static final String SSL = "ssl";
  public static final String IDLE = "idle";
  public static final String HTTP_CODEC = "http-codec";
  public static final String STALLED = "stalled";
  public static final String KEEP_ALIVE = "keep-alive";
  public static final String BODY_LIMIT = "body-limit";
  public static final String ADMISSION = "admission";

  private final EventLoopGroup boss;
  private final EventLoopGroup io;
  private final EventExecutorGroup workers;
  private final Channel serverChannel;

  private WebhookServer(
      EventLoopGroup boss, EventLoopGroup io, EventExecutorGroup workers, Channel serverChannel) {
    this.boss = boss;
    this.io = io;
    this.workers = workers;
    this.serverChannel = serverChannel;
  }

  /**
   * Binds and starts serving.
   *
   * @throws InterruptedException if interrupted while binding
   * @throws io.netty.channel.ChannelException (or a socket exception) if the port is taken
   */
  public static WebhookServer start(
      WebhookServerConfig config, TlsCredentials tls, AdmissionService service)
      throws InterruptedException {
    Objects.requireNonNull(config, "config");
    Objects.requireNonNull(tls, "tls");
    Objects.requireNonNull(service, "service");
    tls.serverContext(); // fail at start-up, not on the first connection

    EventLoopGroup boss = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    EventLoopGroup io = new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory());
    EventExecutorGroup workers = new DefaultEventExecutorGroup(config.workerThreads());
    AdmissionHttpHandler admission = new AdmissionHttpHandler(service);
    try {
      ServerBootstrap b =
          new ServerBootstrap()
              .group(boss, io)
              .channel(NioServerSocketChannel.class)
              .option(ChannelOption.SO_BACKLOG, 1024)
              .childOption(ChannelOption.TCP_NODELAY, true)
              .childHandler(
                  new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                      SslHandler ssl = tls.serverContext().newHandler(ch.alloc());
                      ssl.setHandshakeTimeoutMillis(config.handshakeTimeout().toMillis());
                      ChannelPipeline p = ch.pipeline();
                      p.addLast(SSL, ssl);
                      p.addLast(
                          IDLE,
                          new IdleStateHandler(
                              config.readTimeout().toMillis(), 0, 0, TimeUnit.MILLISECONDS));
                      p.addLast(HTTP_CODEC, new HttpServerCodec());
                      p.addLast(
                          STALLED,
                          new StalledRequestHandler(config.readTimeout(), config.idleTimeout()));
                      p.addLast(KEEP_ALIVE, new HttpServerKeepAliveHandler());
                      p.addLast(
                          BODY_LIMIT,
                          new BodyLimitAggregator(config.maxBodyBytes(), service.codec()));
                      p.addLast(workers, ADMISSION, admission);
                    }
                  });
      Channel ch = b.bind(config.bindHost(), config.port()).sync().channel();
      log.info("webhook listening on https://{}", ch.localAddress());
      return new WebhookServer(boss, io, workers, ch);
    } catch (InterruptedException | RuntimeException e) {
      shutdown(boss, io, workers);
      throw e;
    }
  }

  /** The bound address (the real port when 0 was asked). */
  public InetSocketAddress localAddress() {
    return (InetSocketAddress) serverChannel.localAddress();
  }

  @Override
  public void close() {
    serverChannel.close().syncUninterruptibly();
    shutdown(boss, io, workers);
    log.info("webhook stopped");
  }

  private static void shutdown(EventLoopGroup boss, EventLoopGroup io, EventExecutorGroup w) {
    boss.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
    io.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
    w.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
  }
}
