package dev.meshwork.sidecar.listener;

import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.ApplicationProtocolNegotiationHandler;

/** After a TLS handshake: HTTP/2 if ALPN chose {@code h2}; anything else is closed. */
final class AlpnH2Handler extends ApplicationProtocolNegotiationHandler {
  private final ProxyContext proxy;

  AlpnH2Handler(ProxyContext proxy) {
    super(ApplicationProtocolNames.HTTP_2);
    this.proxy = proxy;
  }

  @Override
  protected void configurePipeline(ChannelHandlerContext ctx, String protocol) {
    if (ApplicationProtocolNames.HTTP_2.equals(protocol)) {
      Http2Frontend.configure(ctx.pipeline(), proxy);
    } else {
      ctx.close();
    }
  }
}
