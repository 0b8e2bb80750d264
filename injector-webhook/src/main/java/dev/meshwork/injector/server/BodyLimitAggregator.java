package dev.meshwork.injector.server;

import dev.meshwork.injector.admission.AdmissionCodec;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;

/**
 * Aggregates a request body up to a limit. Beyond it, answers 413 with a Kubernetes Status that
 * says what the limit is (Netty's default sends an empty 413), then closes: the rest of the body is
 * never read.
 */
final class BodyLimitAggregator extends HttpObjectAggregator {
  private final AdmissionCodec codec;

  BodyLimitAggregator(int maxBodyBytes, AdmissionCodec codec) {
    super(maxBodyBytes);
    this.codec = codec;
  }

  @Override
  protected void handleOversizedMessage(ChannelHandlerContext ctx, HttpMessage oversized) {
    FullHttpResponse response =
        Responses.json(
            HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE,
            codec.encodeFailure(
                413,
                "RequestEntityTooLarge",
                "request body exceeds the webhook's limit of " + maxContentLength() + " bytes"));
    ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
  }
}
