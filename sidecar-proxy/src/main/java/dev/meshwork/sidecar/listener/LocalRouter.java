package dev.meshwork.sidecar.listener;

import dev.meshwork.sidecar.cluster.Endpoint;
import dev.meshwork.sidecar.config.InboundPolicy;
import dev.meshwork.sidecar.config.SidecarSnapshot;
import dev.meshwork.sidecar.error.ProxyException;
import dev.meshwork.sidecar.lb.Balancers;
import dev.meshwork.sidecar.lb.LbPolicy;
import dev.meshwork.sidecar.route.HeaderMutations;
import io.netty.channel.Channel;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.ssl.SslHandler;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Map;

/**
 * Inbound routing: every call goes to the local application. The port is the connection's original
 * destination port (capture mode), else the fixed {@code appPort} (explicit mode). The inbound
 * listener's policy for that port decides whether a plaintext connection is accepted.
 *
 * @param appHost where the application listens (usually 127.0.0.1)
 * @param appPort the application's port in explicit mode, or 0 to use the original destination
 */
public record LocalRouter(Balancers balancers, String appHost, int appPort) implements CallRouter {

  @Override
  public CallTarget route(SidecarSnapshot snapshot, Http2Headers headers, Channel connection)
      throws ProxyException {
    int port = appPort;
    if (port == 0) {
      port =
          OriginalDst.cached(connection)
              .map(InetSocketAddress::getPort)
              .orElseThrow(
                  () ->
                      new ProxyException.Forbidden(
                          "no original destination on an inbound capture connection"));
    }
    InboundPolicy.PortMode mode = snapshot.inbound().ports().get(port);
    boolean tls = connection.pipeline().get(SslHandler.class) != null;
    if (mode != null && !tls && !mode.plaintext()) {
      throw new ProxyException.Forbidden("port " + port + " requires mutual TLS (STRICT)");
    }
    String cluster = "inbound|" + port;
    Endpoint ep = new Endpoint(appHost, port, 1, true, Map.of());
    return new CallTarget(
        cluster,
        List.of(ep),
        balancers.forCluster(cluster, LbPolicy.ROUND_ROBIN),
        HeaderMutations.NONE,
        null,
        1000,
        false,
        List.of());
  }
}
