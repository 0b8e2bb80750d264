package dev.meshwork.sidecar.admin;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A tiny HTTP/1.1 server mapping GET paths to handlers. Used for admin (15000) and status (15020).
 */
public final class HttpEndpoints implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(HttpEndpoints.class);

  /** A response body with its status and content type. */
  public record Reply(int status, String contentType, byte[] body) {
    public static Reply text(int status, String text) {
      return new Reply(status, "text/plain; charset=utf-8", text.getBytes(StandardCharsets.UTF_8));
    }

    public static Reply json(String json) {
      return new Reply(200, "application/json", json.getBytes(StandardCharsets.UTF_8));
    }
  }

  private final Channel server;

  private HttpEndpoints(Channel server) {
    this.server = server;
  }

  public static HttpEndpoints serve(
      String name,
      InetSocketAddress address,
      EventLoopGroup group,
      Class<? extends ServerChannel> serverChannel,
      Map<String, Supplier<Reply>> routes)
      throws InterruptedException {
    Map<String, Supplier<Reply>> table = new LinkedHashMap<>(routes);
    Channel ch =
        new ServerBootstrap()
            .group(group)
            .channel(serverChannel)
            .childHandler(
                new ChannelInitializer<>() {
                  @Override
                  protected void initChannel(Channel c) {
                    c.pipeline()
                        .addLast(new HttpServerCodec())
                        .addLast(new HttpObjectAggregator(8192))
                        .addLast(new Handler(table));
                  }
                })
            .bind(address)
            .sync()
            .channel();
    log.info("admin.bound name={} address={}", name, ch.localAddress());
    return new HttpEndpoints(ch);
  }

  public InetSocketAddress address() {
    return (InetSocketAddress) server.localAddress();
  }

  @Override
  public void close() {
    // Idempotent: a drained sidecar is closed again by whoever owns it.
    if (server.isOpen()) {
      server.close().syncUninterruptibly();
    }
  }

  private static final class Handler extends SimpleChannelInboundHandler<FullHttpRequest> {
    private final Map<String, Supplier<Reply>> routes;

    Handler(Map<String, Supplier<Reply>> routes) {
      this.routes = routes;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
      String path = new QueryStringDecoder(req.uri()).path();
      Supplier<Reply> h = routes.get(path);
      Reply r;
      try {
        r = h == null ? Reply.text(404, "not found; try " + routes.keySet() + "\n") : h.get();
      } catch (RuntimeException e) {
        r = Reply.text(500, e.toString() + "\n");
      }
      FullHttpResponse resp =
          new DefaultFullHttpResponse(
              HttpVersion.HTTP_1_1,
              HttpResponseStatus.valueOf(r.status()),
              Unpooled.wrappedBuffer(r.body()));
      resp.headers().set(HttpHeaderNames.CONTENT_TYPE, r.contentType());
      HttpUtil.setContentLength(resp, r.body().length);
      boolean keepAlive = HttpUtil.isKeepAlive(req);
      HttpUtil.setKeepAlive(resp, keepAlive);
      var f = ctx.writeAndFlush(resp);
      if (!keepAlive) {
        f.addListener(ChannelFutureListener.CLOSE);
      }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      ctx.close();
    }
  }
}
