package dev.meshwork.sidecar.route;

import dev.meshwork.sidecar.cluster.ClusterConfig;
import dev.meshwork.sidecar.config.SidecarSnapshot;
import dev.meshwork.sidecar.error.ProxyException;
import dev.meshwork.sidecar.lb.Balancers;
import dev.meshwork.sidecar.listener.CallRouter;
import dev.meshwork.sidecar.listener.CallTarget;
import dev.meshwork.sidecar.listener.OriginalDst;
import io.netty.channel.Channel;
import io.netty.handler.codec.http2.Http2Headers;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Outbound routing by xDS: the {@code :authority} picks the listener and virtual host, the path and
 * headers pick the route, the route's weights pick the cluster.
 *
 * <p>When the authority matches no virtual host (an app that dials a Service's ClusterIP, or sets
 * an authority of its own), a captured connection's original destination decides: {@code
 * <ip>:<port>}, then {@code <ip>}, as the control plane lists a Service's ClusterIP among its
 * domains. Last comes {@code defaultAuthority}.
 *
 * @param defaultAuthority used when neither the call's authority nor the connection's original
 *     destination matches a virtual host (explicit mode, where the app dials the sidecar's
 *     address), or null
 */
public record XdsRouter(Balancers balancers, String defaultAuthority) implements CallRouter {

  @Override
  public CallTarget route(SidecarSnapshot snapshot, Http2Headers headers, Channel connection)
      throws ProxyException {
    String authority = headers.authority() == null ? "" : headers.authority().toString();
    String path = headers.path() == null ? "/" : headers.path().toString();
    var host = snapshot.hostFor(authority);
    if (host.isEmpty()) {
      Optional<InetSocketAddress> dst = OriginalDst.cached(connection);
      if (dst.isPresent()) {
        String ip = dst.get().getAddress().getHostAddress();
        host = snapshot.hostFor(ip + ":" + dst.get().getPort());
        if (host.isEmpty()) {
          host = snapshot.hostFor(ip);
        }
      }
    }
    if (host.isEmpty() && defaultAuthority != null) {
      host = snapshot.hostFor(defaultAuthority);
    }
    if (host.isEmpty()) {
      throw new ProxyException.NoRoute(authority, path);
    }
    Route route =
        RouteTable.firstMatch(host.get().host(), path, headers::get)
            .orElseThrow(() -> new ProxyException.NoRoute(authority, path));
    String clusterName = route.pickCluster();
    ClusterConfig cluster =
        snapshot
            .clusters()
            .cluster(clusterName)
            .orElseThrow(() -> new ProxyException.NoCluster(clusterName));
    return new CallTarget(
        clusterName,
        snapshot.clusters().endpointsOf(clusterName),
        balancers.forCluster(clusterName, cluster.lbPolicy()),
        route.headers(),
        route.timeout(),
        (int) Math.min(Integer.MAX_VALUE, cluster.connectTimeout().toMillis()),
        cluster.upstreamTls(),
        mirrors(snapshot, route));
  }

  /** The route's mirrors this call is copied to: sampled by percentage, clusters resolved. */
  private List<CallTarget.Mirror> mirrors(SidecarSnapshot snapshot, Route route) {
    if (route.mirrors().isEmpty()) {
      return List.of();
    }
    List<CallTarget.Mirror> out = new ArrayList<>(route.mirrors().size());
    for (Route.Mirror m : route.mirrors()) {
      if (m.percent() < 100 && ThreadLocalRandom.current().nextDouble(100) >= m.percent()) {
        continue;
      }
      // A mirror cluster not (yet) known is skipped: a copy must never fail the call.
      snapshot
          .clusters()
          .cluster(m.cluster())
          .ifPresent(
              c ->
                  out.add(
                      new CallTarget.Mirror(
                          c.name(),
                          snapshot.clusters().endpointsOf(c.name()),
                          balancers.forCluster(c.name(), c.lbPolicy()),
                          (int) Math.min(Integer.MAX_VALUE, c.connectTimeout().toMillis()),
                          c.upstreamTls())));
    }
    return out;
  }
}
