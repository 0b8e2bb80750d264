package dev.meshwork.sidecar.outbound;

import dev.meshwork.sidecar.listener.ProxyContext;
import dev.meshwork.sidecar.listener.ProxyListener;
import dev.meshwork.sidecar.listener.Transport;
import io.netty.channel.EventLoopGroup;
import java.net.InetSocketAddress;

/** Binds an outbound listener: detection, then the HTTP/2 proxy routed by xDS. */
public final class Outbound {
  private Outbound() {}

  /**
   * @param capture true for the iptables capture port (passthrough of non-HTTP/2 traffic)
   */
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
