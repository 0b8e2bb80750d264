package dev.meshwork.sidecar.config;

import static org.assertj.core.api.Assertions.assertThat;

import dev.meshwork.sidecar.cluster.ClusterConfig;
import dev.meshwork.sidecar.cluster.ClusterSet;
import dev.meshwork.sidecar.cluster.Endpoint;
import dev.meshwork.sidecar.lb.LbPolicy;
import dev.meshwork.sidecar.route.HeaderMutations;
import dev.meshwork.sidecar.route.Route;
import dev.meshwork.sidecar.route.RouteMatch;
import dev.meshwork.sidecar.route.RouteTable;
import dev.meshwork.sidecar.route.VirtualHost;
import dev.meshwork.sidecar.route.WeightedCluster;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Readiness waits for a complete first config: routes, clusters and endpoints all arrived. */
class SnapshotHolderTest {
  static final String LISTENER = "echo.default.svc.cluster.local:8080";
  static final String MAIN = "outbound|8080||echo.default.svc.cluster.local";
  static final String SHADOW = "outbound|8080||shadow.default.svc.cluster.local";

  static final Map<String, OutboundListener> LISTENERS =
      Map.of(LISTENER, new OutboundListener(LISTENER, LISTENER));
  static final Map<String, RouteTable> ROUTES =
      Map.of(
          LISTENER,
          new RouteTable(
              LISTENER,
              List.of(
                  new VirtualHost(
                      "echo",
                      List.of("echo"),
                      List.of(
                          new Route(
                              "default",
                              new RouteMatch(
                                  RouteMatch.PathKind.PREFIX, "/", null, true, List.of()),
                              List.of(new WeightedCluster(MAIN, 1)),
                              HeaderMutations.NONE,
                              List.of(new Route.Mirror(SHADOW, 100)),
                              null))))));

  static ClusterConfig cluster(String name) {
    return new ClusterConfig(
        name, name, LbPolicy.ROUND_ROBIN, Duration.ofSeconds(1), false, List.of());
  }

  static SidecarSnapshot snapshot(
      Map<String, RouteTable> routes,
      Map<String, ClusterConfig> clusters,
      Map<String, List<Endpoint>> endpoints) {
    return new SidecarSnapshot(
        LISTENERS, routes, new ClusterSet(clusters, endpoints), InboundPolicy.NONE, Map.of());
  }

  @Test
  void namesWhatTheListenersNeedAndTheSnapshotLacks() {
    assertThat(snapshot(Map.of(), Map.of(), Map.of()).missing())
        .containsExactly("route '" + LISTENER + "'");
    assertThat(snapshot(ROUTES, Map.of(), Map.of()).missing())
        .containsExactly("cluster '" + MAIN + "'", "cluster '" + SHADOW + "'");
    assertThat(
            snapshot(ROUTES, Map.of(MAIN, cluster(MAIN), SHADOW, cluster(SHADOW)), Map.of())
                .missing())
        .containsExactly("endpoints of '" + MAIN + "'", "endpoints of '" + SHADOW + "'");
  }

  @Test
  void completeOnlyOnceEverythingArrivedAndThenStaysComplete() {
    SnapshotHolder h = new SnapshotHolder();
    assertThat(h.received()).isFalse();
    h.set(snapshot(ROUTES, Map.of(MAIN, cluster(MAIN)), Map.of(MAIN, List.of())));
    assertThat(h.received()).isTrue();
    assertThat(h.complete()).as("the mirror's cluster is still missing").isFalse();
    var all = Map.of(MAIN, cluster(MAIN), SHADOW, cluster(SHADOW));
    // An empty EDS answer is an answer: a cluster with no endpoint yet is known, not missing.
    h.set(snapshot(ROUTES, all, Map.of(MAIN, List.of(), SHADOW, List.of())));
    assertThat(h.complete()).isTrue();
    h.set(snapshot(ROUTES, Map.of(), Map.of()));
    assertThat(h.complete()).isTrue();
  }
}
