package dev.meshwork.sidecar.cluster;

import dev.meshwork.sidecar.config.ProxyLimits;
import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** One {@link UpstreamPool} per event loop, created on first use. Thread-safe. */
public final class UpstreamPools {
  private final Map<EventLoop, UpstreamPool> pools = new ConcurrentHashMap<>();
  private final Class<? extends Channel> channelClass;
  private final ProxyLimits limits;

  public UpstreamPools(Class<? extends Channel> channelClass, ProxyLimits limits) {
    this.channelClass = channelClass;
    this.limits = limits;
  }

  /** The pool of {@code loop}; use it only from that loop. */
  public UpstreamPool forLoop(EventLoop loop) {
    return pools.computeIfAbsent(loop, l -> new UpstreamPool(l, channelClass, limits));
  }
}
