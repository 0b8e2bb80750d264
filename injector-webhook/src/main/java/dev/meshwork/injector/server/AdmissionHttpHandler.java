package dev.meshwork.injector.server;

import dev.meshwork.injector.admission.AdmissionService;
import dev.meshwork.injector.admission.HttpAnswer;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler.Sharable;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.CodecException;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.nio.charset.StandardCharsets;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Answers {@code POST /inject} (the API server appends {@code ?timeout=10s}) and {@code GET
 * /healthz}. Goes after the aggregator, on the worker group. Stateless and {@code @Sharable}.
 */
@Sharable
final class AdmissionHttpHandler extends SimpleChannelInboundHandler<FullHttpRequest> {
  private static final Logger log = LoggerFactory.getLogger(AdmissionHttpHandler.class);

  static final String INJECT_PATH = "/inject";
  static final String HEALTH_PATH = "/healthz";

  private final AdmissionService service;

  AdmissionHttpHandler(AdmissionService service) {
    this.service = service;
  }

  @Override
  protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
    if (request.decoderResult().isFailure()) {
      reply(ctx, request, HttpResponseStatus.BAD_REQUEST, "malformed HTTP request", true);
      return;
    }
    String path = new QueryStringDecoder(request.uri()).path();
    FullHttpResponse response;
    if (path.equals(INJECT_PATH)) {
      if (!HttpMethod.POST.equals(request.method())) {
        reply(
            ctx, request, HttpResponseStatus.METHOD_NOT_ALLOWED, "use POST " + INJECT_PATH, false);
        return;
      }
      byte[] body = ByteBufUtil.getBytes(request.content());
      HttpAnswer answer = service.handle(body);
      response = Responses.json(HttpResponseStatus.valueOf(answer.status()), answer.body());
    } else if (path.equals(HEALTH_PATH) && HttpMethod.GET.equals(request.method())) {
      response =
          Responses.json(
              HttpResponseStatus.OK, "{\"status\":\"ok\"}".getBytes(StandardCharsets.UTF_8));
    } else {
      reply(ctx, request, HttpResponseStatus.NOT_FOUND, "no such path: " + path, false);
      return;
    }
    HttpUtil.setKeepAlive(response, HttpUtil.isKeepAlive(request));
    ctx.writeAndFlush(response);
  }

  private void reply(
      ChannelHandlerContext ctx,
      FullHttpRequest request,
      HttpResponseStatus status,
      String message,
      boolean close) {
    FullHttpResponse response =
        Responses.json(
            status, service.codec().encodeFailure(status.code(), status.reasonPhrase(), message));
    boolean keepAlive = !close && HttpUtil.isKeepAlive(request);
    HttpUtil.setKeepAlive(response, keepAlive);
    var f = ctx.writeAndFlush(response);
    if (!keepAlive) {
      f.addListener(ChannelFutureListener.CLOSE);
    }
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    // Stalled clients, resets and TLS failures end the connection; nothing is sent back that
    // could leak internals.
    if (cause instanceof java.io.IOException) {
      log.debug("closing {}: {}", ctx.channel().remoteAddress(), cause.toString());
    } else if (cause instanceof CodecException) {
      log.info("closing {}: {}", ctx.channel().remoteAddress(), cause.getMessage());
    } else {
      log.warn("closing {}: {}", ctx.channel().remoteAddress(), cause.toString());
    }
    ctx.close();
  }
}
