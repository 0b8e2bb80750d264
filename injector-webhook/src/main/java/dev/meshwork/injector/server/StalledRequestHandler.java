package dev.meshwork.injector.server;

import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.timeout.IdleState;
import io.netty.handler.timeout.IdleStateEvent;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Closes connections that stall, with two clocks: a short one inside a request (headers or body
 * stopped arriving: a truncated or slow-loris request), and a long one between requests, so that a
 * keep-alive connection the API server pooled is not closed under its feet (a client that reuses a
 * connection the server just closed sees a broken pipe).
 *
 * <p>Goes right after the HTTP codec, fed by an {@code IdleStateHandler} whose reader-idle period
 * is the in-request timeout. One instance per channel; event-loop confined.
 */
final class StalledRequestHandler extends ChannelDuplexHandler {
  private static final Logger log = LoggerFactory.getLogger(StalledRequestHandler.class);

  private final long idleEventsAllowedBetweenRequests;
  private boolean inRequest;
  private long idleEvents;

  /**
   * @param readTimeout the reader-idle period of the IdleStateHandler before this handler
   * @param idleTimeout how long a connection may sit idle between requests
   */
  StalledRequestHandler(Duration readTimeout, Duration idleTimeout) {
    this.idleEventsAllowedBetweenRequests =
        Math.max(1, idleTimeout.toMillis() / Math.max(1, readTimeout.toMillis()));
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    idleEvents = 0;
    if (msg instanceof HttpRequest) {
      inRequest = true;
    }
    if (msg instanceof LastHttpContent) {
      inRequest = false;
    }
    ctx.fireChannelRead(msg);
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
    if (evt instanceof IdleStateEvent e && e.state() == IdleState.READER_IDLE) {
      idleEvents++;
      if (inRequest) {
        log.info("closing {}: request stalled", ctx.channel().remoteAddress());
        ctx.close();
      } else if (idleEvents >= idleEventsAllowedBetweenRequests) {
        log.debug("closing {}: idle", ctx.channel().remoteAddress());
        ctx.close();
      }
      return;
    }
    super.userEventTriggered(ctx, evt);
  }
}
