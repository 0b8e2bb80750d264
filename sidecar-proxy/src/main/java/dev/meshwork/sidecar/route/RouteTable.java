package dev.meshwork.sidecar.route;

import java.util.List;
import java.util.Optional;
import java.util.function.Function;

/** A parsed RDS {@code RouteConfiguration}: named, with virtual hosts. */
public record RouteTable(String name, List<VirtualHost> virtualHosts) {
  public RouteTable {
    virtualHosts = List.copyOf(virtualHosts);
  }

  /** The first virtual host whose domains match {@code authority} exactly, then by wildcard. */
  public Optional<VirtualHost> virtualHostFor(String authority) {
    for (VirtualHost vh : virtualHosts) {
      for (String d : vh.domains()) {
        if (d.equalsIgnoreCase(authority)) {
          return Optional.of(vh);
        }
      }
    }
    return virtualHosts.stream().filter(vh -> vh.matchesDomain(authority)).findFirst();
  }

  /** The first route of {@code vh} matching the request, in order. */
  public static Optional<Route> firstMatch(
      VirtualHost vh, String path, Function<String, CharSequence> headerLookup) {
    int q = path.indexOf('?');
    String p = q < 0 ? path : path.substring(0, q);
    for (Route r : vh.routes()) {
      if (r.match().matches(p, headerLookup)) {
        return Optional.of(r);
      }
    }
    return Optional.empty();
  }
}
