package dev.meshwork.sidecar.route;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * One route: a match, the weighted clusters it sends to, header changes, mirrors and an optional
 * timeout.
 *
 * @param timeout the route's upstream timeout, or null for none (a call's own {@code grpc-timeout}
 *     still applies)
 */
public record Route(
    String name,
    RouteMatch match,
    List<WeightedCluster> clusters,
    HeaderMutations headers,
    List<Mirror> mirrors,
    Duration timeout) {

  /** Send a copy of each matching call to {@code cluster}, for {@code percent} of calls. */
  public record Mirror(String cluster, double percent) {}

  public Route {
    clusters = List.copyOf(clusters);
    mirrors = List.copyOf(mirrors);
    if (clusters.isEmpty()) {
      throw new IllegalArgumentException("route " + name + " has no cluster");
    }
  }

  /** Picks one cluster by weight; a single cluster is returned without drawing a number. */
  public String pickCluster() {
    if (clusters.size() == 1) {
      return clusters.getFirst().name();
    }
    int total = 0;
    for (WeightedCluster c : clusters) {
      total += c.weight();
    }
    int r = ThreadLocalRandom.current().nextInt(total);
    for (WeightedCluster c : clusters) {
      r -= c.weight();
      if (r < 0) {
        return c.name();
      }
    }
    return clusters.getLast().name();
  }
}
