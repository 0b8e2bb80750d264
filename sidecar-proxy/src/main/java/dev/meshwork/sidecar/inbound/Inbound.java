package dev.meshwork.sidecar.inbound;

import dev.meshwork.sidecar.listener.ProxyContext;
import dev.meshwork.sidecar.listener.ProxyListener;
import dev.meshwork.sidecar.listener.Transport;
import io.netty.channel.EventLoopGroup;
import java.net.InetSocketAddress;

/** Binds an inbound listener: detection, then the HTTP/2 proxy to the local app. */
public final class Inbound {
  private Inbound() {}

  public static ProxyListener listen(
      String name,
      InetSocketAddress address,
      EventLoopGroup boss,
      EventLoopGroup workers,
      Transport transport,
      ProxyContext context,
      boolean capture)
      throws InterruptedException {
    return ProxyListener.bind(name, address, boss, workers, transport, context, capture);
  }
}
