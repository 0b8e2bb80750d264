package dev.meshwork.injector.server;

import dev.meshwork.injector.admission.AdmissionCodec;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.socket.DuplexChannel;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;

/**
 * Aggregates a request body up to a limit. Beyond it, answers 413 with a Kubernetes Status that
 * says what the limit is (Netty's default sends an empty 413). The connection is not closed at
 * once: closing a socket with unread request bytes makes the kernel send RST, which can destroy the
 * 413 before the client reads it. A keep-alive connection stays open while the aggregator discards
 * the rest of the body; any other is half-closed, and the read timeout reaps it.
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
    if (HttpUtil.isKeepAlive(oversized)) {
      ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE_ON_FAILURE);
    } else {
      HttpUtil.setKeepAlive(response, false);
      ctx.writeAndFlush(response)
          .addListener((ChannelFutureListener) BodyLimitAggregator::shutdownOutput);
    }
  }

  private static void shutdownOutput(ChannelFuture written) {
    if (!written.isSuccess()) {
      written.channel().close();
    } else if (written.channel() instanceof DuplexChannel duplex) {
      duplex.shutdownOutput();
    } else {
      written.channel().close();
    }
  }
}
