package dev.meshwork.controlplane.translate;

import static dev.meshwork.controlplane.testing.Meshes.model;
import static dev.meshwork.controlplane.testing.Meshes.pod;
import static dev.meshwork.controlplane.testing.Meshes.service;
import static org.assertj.core.api.Assertions.assertThat;

import dev.meshwork.controlplane.model.MeshModel;
import dev.meshwork.controlplane.model.ServiceKey;
import io.envoyproxy.envoy.config.core.v3.HeaderValueOption.HeaderAppendAction;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.RouteMatch;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import io.envoyproxy.envoy.config.route.v3.WeightedCluster;
import io.envoyproxy.envoy.type.v3.FractionalPercent;
import java.util.List;
import org.junit.jupiter.api.Test;

class RouteTranslatorTest {

  static final String BASE =
      service("greeter", 8080)
          + service("greeter-v2", 8080)
          + service("shadow", 8080)
          + pod("greeter-1", "greeter", "v1", "10.0.0.1", 8080, false)
          + pod("greeter-v2-1", "greeter-v2", "v2", "10.0.0.2", 8080, false)
          + pod("shadow-1", "shadow", "v1", "10.0.0.3", 8080, false);

  static final String V1 = "outbound|8080||greeter.default.svc.cluster.local";
  static final String V2 = "outbound|8080||greeter-v2.default.svc.cluster.local";
  static final String SHADOW = "outbound|8080||shadow.default.svc.cluster.local";

  static String route(String name, String created, String spec) {
    return """
        apiVersion: gateway.networking.k8s.io/v1
        kind: GRPCRoute
        metadata: {name: %s, namespace: default, generation: 1, creationTimestamp: "%s"}
        spec:
          parentRefs: [{group: "", kind: Service, name: greeter, port: 8080}]
        %s
        ---
        """
        .formatted(name, created, spec.indent(2));
  }

  static VirtualHost vhost(MeshModel model) {
    RouteConfiguration rc =
        RouteTranslator.routeConfiguration(
            model, model.service(new ServiceKey("default", "greeter")).orElseThrow(), 8080);
    assertThat(rc.getName()).isEqualTo("greeter.default.svc.cluster.local:8080");
    assertThat(rc.getVirtualHostsList()).hasSize(1);
    return rc.getVirtualHosts(0);
  }

  static VirtualHost vhost(String routes) {
    return vhost(model(BASE + routes));
  }

  static List<String> clusters(VirtualHost vh) {
    return vh.getRoutesList().stream().map(r -> r.getRoute().getCluster()).toList();
  }

  @Test
  void withoutRoutesEverythingGoesToTheServiceItself() {
    VirtualHost vh = vhost("");
    assertThat(vh.getDomainsList())
        .containsExactly(
            "greeter",
            "greeter:8080",
            "greeter.default",
            "greeter.default:8080",
            "greeter.default.svc",
            "greeter.default.svc:8080",
            "greeter.default.svc.cluster.local",
            "greeter.default.svc.cluster.local:8080");
    assertThat(vh.getRoutesList()).hasSize(1);
    assertThat(vh.getRoutes(0).getMatch())
        .isEqualTo(RouteMatch.newBuilder().setPrefix("/").build());
    assertThat(vh.getRoutes(0).getRoute().getCluster()).isEqualTo(V1);
  }

  @Test
  void exactServiceAndMethodBecomesAPath() {
    VirtualHost vh =
        vhost(
            route(
                "r",
                "2024-01-01T00:00:00Z",
                """
                rules:
                - matches: [{method: {service: demo.Greeter, method: SayHello}}]
                  backendRefs: [{name: greeter-v2, port: 8080}]
                """));
    assertThat(vh.getRoutes(0).getMatch().getPath()).isEqualTo("/demo.Greeter/SayHello");
    assertThat(clusters(vh)).containsExactly(V2, V1);
  }

  @Test
  void serviceOnlyBecomesAPrefixAndMethodOnlyARegex() {
    VirtualHost vh =
        vhost(
            route(
                "r",
                "2024-01-01T00:00:00Z",
                """
                rules:
                - matches: [{method: {service: demo.Greeter}}]
                  backendRefs: [{name: greeter-v2, port: 8080}]
                - matches: [{method: {method: Say.Hello}}]
                  backendRefs: [{name: shadow, port: 8080}]
                """));
    assertThat(vh.getRoutes(0).getMatch().getPrefix()).isEqualTo("/demo.Greeter/");
    // The dot is escaped: a literal method name matches only itself.
    assertThat(vh.getRoutes(1).getMatch().getSafeRegex().getRegex())
        .isEqualTo("/[^/]+/Say\\.Hello");
    assertThat(clusters(vh)).containsExactly(V2, SHADOW, V1);
  }

  @Test
  void regularExpressionMethodMatchesFillTheMissingHalf() {
    VirtualHost vh =
        vhost(
            route(
                "r",
                "2024-01-01T00:00:00Z",
                """
                rules:
                - matches:
                  - method: {type: RegularExpression, service: "demo\\\\..*", method: "Say.*"}
                  - method: {type: RegularExpression, method: "Get.*"}
                  - method: {type: RegularExpression, service: "demo.Other"}
                  backendRefs: [{name: greeter-v2, port: 8080}]
                """));
    assertThat(vh.getRoutesList().subList(0, 3))
        .extracting(r -> r.getMatch().getSafeRegex().getRegex())
        .containsExactlyInAnyOrder(
            "/(?:demo\\..*)/(?:Say.*)", "/[^/]+/(?:Get.*)", "/(?:demo.Other)/[^/]+");
  }

  @Test
  void headerMatchesExactAndRegexAreLowerCased() {
    VirtualHost vh =
        vhost(
            route(
                "r",
                "2024-01-01T00:00:00Z",
                """
                rules:
                - matches:
                  - headers:
                    - {name: X-Canary, value: "true"}
                    - {type: RegularExpression, name: x-user, value: "^(alice|bob)$"}
                  backendRefs: [{name: greeter-v2, port: 8080}]
                """));
    Route r = vh.getRoutes(0);
    assertThat(r.getMatch().getPrefix()).isEqualTo("/");
    assertThat(r.getMatch().getHeaders(0).getName()).isEqualTo("x-canary");
    assertThat(r.getMatch().getHeaders(0).getStringMatch().getExact()).isEqualTo("true");
    assertThat(r.getMatch().getHeaders(1).getName()).isEqualTo("x-user");
    assertThat(r.getMatch().getHeaders(1).getStringMatch().getSafeRegex().getRegex())
        .isEqualTo("^(alice|bob)$");
  }

  @Test
  void matchesOfOneRuleAreOredIntoRoutesWithTheSameAction() {
    VirtualHost vh =
        vhost(
            route(
                "r",
                "2024-01-01T00:00:00Z",
                """
                rules:
                - matches:
                  - method: {service: demo.Greeter, method: A}
                  - method: {service: demo.Greeter, method: B}
                  backendRefs: [{name: greeter-v2, port: 8080}]
                """));
    assertThat(vh.getRoutesList()).hasSize(3);
    assertThat(vh.getRoutes(0).getMatch().getPath()).isEqualTo("/demo.Greeter/A");
    assertThat(vh.getRoutes(1).getMatch().getPath()).isEqualTo("/demo.Greeter/B");
    assertThat(clusters(vh)).containsExactly(V2, V2, V1);
  }

  @Test
  void precedenceServiceCharsThenMethodCharsThenHeaderCount() {
    VirtualHost vh =
        vhost(
            route(
                "r",
                "2024-01-01T00:00:00Z",
                """
                rules:
                - matches: [{method: {method: VeryLongMethodName}}]
                  backendRefs: [{name: shadow, port: 8080}]
                - matches: [{method: {service: demo.Greeter}}]
                  backendRefs: [{name: greeter-v2, port: 8080}]
                - matches: [{method: {service: demo.Greeter, method: Hi}}]
                  backendRefs: [{name: greeter, port: 8080}]
                - matches:
                  - method: {service: demo.Greeter, method: Hi}
                    headers: [{name: x-canary, value: "1"}]
                  backendRefs: [{name: greeter-v2, port: 8080}]
                """));
    assertThat(vh.getRoutesList())
        .extracting(Route::getName)
        .containsExactly(
            "default/r/rule-3/match-0",
            "default/r/rule-2/match-0",
            "default/r/rule-1/match-0",
            "default/r/rule-0/match-0",
            "default");
  }

  @Test
  void precedenceTiesGoToTheOlderRouteThenToTheAlphabeticallyFirst() {
    String rule =
        """
        rules:
        - matches: [{method: {service: demo.Greeter}}]
          backendRefs: [{name: greeter-v2, port: 8080}]
        """;
    VirtualHost vh =
        vhost(
            route("zz-old", "2023-01-01T00:00:00Z", rule)
                + route("bb-new", "2024-01-01T00:00:00Z", rule)
                + route("aa-new", "2024-01-01T00:00:00Z", rule));
    assertThat(vh.getRoutesList())
        .extracting(Route::getName)
        .containsExactly(
            "default/zz-old/rule-0/match-0",
            "default/aa-new/rule-0/match-0",
            "default/bb-new/rule-0/match-0",
            "default");
  }

  @Test
  void hostnamesJoinTheDomainsAndOutrankRoutesWithout() {
    VirtualHost vh =
        vhost(
            route(
                    "plain",
                    "2020-01-01T00:00:00Z",
                    """
                    rules:
                    - matches: [{method: {service: demo.Greeter, method: LongerMethod}}]
                      backendRefs: [{name: greeter-v2, port: 8080}]
                    """)
                + route(
                    "hosted",
                    "2024-01-01T00:00:00Z",
                    """
                    hostnames: [greeter.example.com]
                    rules:
                    - backendRefs: [{name: shadow, port: 8080}]
                    """));
    assertThat(vh.getDomainsList()).contains("greeter.example.com");
    assertThat(vh.getRoutesList())
        .extracting(Route::getName)
        .containsExactly(
            "default/hosted/rule-0/match-0", "default/plain/rule-0/match-0", "default");
  }

  @Test
  void weightedBackendsBecomeWeightedClustersAndZeroWeightsDropOut() {
    VirtualHost vh =
        vhost(
            route(
                "r",
                "2024-01-01T00:00:00Z",
                """
                rules:
                - backendRefs:
                  - {name: greeter, port: 8080, weight: 90}
                  - {name: greeter-v2, port: 8080, weight: 10}
                  - {name: shadow, port: 8080, weight: 0}
                """));
    WeightedCluster wc = vh.getRoutes(0).getRoute().getWeightedClusters();
    assertThat(wc.getClustersList())
        .extracting(c -> c.getName() + "=" + c.getWeight().getValue())
        .containsExactly(V1 + "=90", V2 + "=10");
  }

  @Test
  void aRuleWithoutBackendsSendsToItsParentService() {
    VirtualHost vh =
        vhost(
            route(
                "r",
                "2024-01-01T00:00:00Z",
                """
                rules:
                - matches: [{method: {service: demo.Greeter}}]
                  filters:
                  - type: RequestHeaderModifier
                    requestHeaderModifier: {set: [{name: x-routed, value: "yes"}]}
                """));
    assertThat(clusters(vh)).containsExactly(V1, V1);
  }

  @Test
  void headerModifiersAndMirrorBecomeRouteFields() {
    VirtualHost vh =
        vhost(
            route(
                "r",
                "2024-01-01T00:00:00Z",
                """
                rules:
                - filters:
                  - type: RequestHeaderModifier
                    requestHeaderModifier:
                      set: [{name: X-Env, value: prod}]
                      add: [{name: x-trace, value: "1"}]
                      remove: [X-Debug]
                  - type: ResponseHeaderModifier
                    responseHeaderModifier:
                      set: [{name: x-served-by, value: meshwork}]
                      remove: [server]
                  - type: RequestMirror
                    requestMirror: {backendRef: {name: shadow, port: 8080}, percent: 25}
                  backendRefs: [{name: greeter-v2, port: 8080}]
                """));
    Route r = vh.getRoutes(0);
    assertThat(r.getRequestHeadersToAddList())
        .extracting(
            o ->
                o.getHeader().getKey() + "=" + o.getHeader().getValue() + "/" + o.getAppendAction())
        .containsExactly(
            "x-env=prod/" + HeaderAppendAction.OVERWRITE_IF_EXISTS_OR_ADD,
            "x-trace=1/" + HeaderAppendAction.APPEND_IF_EXISTS_OR_ADD);
    assertThat(r.getRequestHeadersToRemoveList()).containsExactly("x-debug");
    assertThat(r.getResponseHeadersToAddList())
        .extracting(o -> o.getHeader().getKey())
        .containsExactly("x-served-by");
    assertThat(r.getResponseHeadersToRemoveList()).containsExactly("server");
    var mirror = r.getRoute().getRequestMirrorPolicies(0);
    assertThat(mirror.getCluster()).isEqualTo(SHADOW);
    assertThat(mirror.getRuntimeFraction().getDefaultValue())
        .isEqualTo(
            FractionalPercent.newBuilder()
                .setNumerator(25)
                .setDenominator(FractionalPercent.DenominatorType.HUNDRED)
                .build());
    // The default route carries no filters.
    assertThat(vh.getRoutes(1).getRequestHeadersToAddList()).isEmpty();
  }

  @Test
  void backendLevelHeaderFiltersStayOnTheirBackend() {
    VirtualHost vh =
        vhost(
            route(
                "r",
                "2024-01-01T00:00:00Z",
                """
                rules:
                - backendRefs:
                  - name: greeter-v2
                    port: 8080
                    filters:
                    - type: RequestHeaderModifier
                      requestHeaderModifier: {set: [{name: x-backend, value: v2}]}
                """));
    WeightedCluster wc = vh.getRoutes(0).getRoute().getWeightedClusters();
    assertThat(wc.getClustersList()).hasSize(1);
    assertThat(wc.getClusters(0).getRequestHeadersToAdd(0).getHeader().getValue()).isEqualTo("v2");
  }

  @Test
  void trafficPolicyOnTheServiceSetsTimeoutAndRetriesOnEveryRoute() {
    VirtualHost vh =
        vhost(
            """
            apiVersion: networking.meshwork.dev/v1alpha1
            kind: TrafficPolicy
            metadata: {name: tp, namespace: default}
            spec:
              targetRefs: [{kind: Service, name: greeter}]
              timeouts: {request: 1500ms}
              retries: {attempts: 2, perTryTimeout: 500ms, retryOn: [unavailable, cancelled]}
            ---
            """);
    var action = vh.getRoutes(0).getRoute();
    assertThat(action.getTimeout().getSeconds()).isEqualTo(1);
    assertThat(action.getTimeout().getNanos()).isEqualTo(500_000_000);
    assertThat(action.getRetryPolicy().getRetryOn()).isEqualTo("unavailable,cancelled");
    assertThat(action.getRetryPolicy().getNumRetries().getValue()).isEqualTo(2);
  }

  @Test
  void clusterIpsJoinTheDomainsWithAndWithoutThePortAndHeadlessAddsNothing() {
    String services =
        """
        apiVersion: v1
        kind: Service
        metadata: {name: greeter, namespace: default}
        spec:
          clusterIP: 10.96.0.10
          clusterIPs: [10.96.0.10, "fd00:10:96::a"]
          selector: {app: greeter}
          ports: [{name: grpc, port: 8080, targetPort: 8080}]
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: headless, namespace: default}
        spec:
          clusterIP: None
          selector: {app: greeter}
          ports: [{name: grpc, port: 8080, targetPort: 8080}]
        ---
        """;
    MeshModel model = model(services + pod("greeter-1", "greeter", "v1", "10.0.0.1", 8080, false));

    assertThat(vhost(model).getDomainsList())
        .endsWith(
            "greeter.default.svc.cluster.local:8080",
            "10.96.0.10:8080",
            "10.96.0.10",
            "[fd00:10:96::a]:8080",
            "[fd00:10:96::a]");
    RouteConfiguration headless =
        RouteTranslator.routeConfiguration(
            model, model.service(new ServiceKey("default", "headless")).orElseThrow(), 8080);
    assertThat(headless.getVirtualHosts(0).getDomainsList())
        .hasSize(8)
        .allMatch(d -> d.startsWith("headless"));
  }

  @Test
  void aRouteThatTurnsBadKeepsItsLastGoodTranslationWhateverTheFault() {
    String good =
        """
        rules:
        - matches: [{method: {service: demo.Greeter}}]
          backendRefs: [{name: greeter-v2, port: 8080}]
        """;
    List<String> bad =
        List.of(
            // invalid regex
            """
            rules:
            - matches: [{method: {type: RegularExpression, service: "demo.(Greeter"}}]
              backendRefs: [{name: greeter-v2, port: 8080}]
            """,
            // missing backend
            """
            rules:
            - backendRefs: [{name: nowhere, port: 8080}]
            """,
            // zero weights everywhere
            """
            rules:
            - backendRefs: [{name: greeter-v2, port: 8080, weight: 0}, {name: shadow, port: 8080, weight: 0}]
            """);
    for (String fault : bad) {
      var builder = new dev.meshwork.controlplane.model.MeshModelBuilder("cluster.local");
      builder.build(
          dev.meshwork.controlplane.testing.Meshes.raw(
              BASE + route("r", "2026-01-01T00:00:00Z", good)));
      MeshModel after =
          builder
              .build(
                  dev.meshwork.controlplane.testing.Meshes.raw(
                      BASE + route("r", "2026-01-01T00:00:00Z", fault)))
              .model();

      VirtualHost vh = vhost(after);
      assertThat(vh.getRoutesList()).as(fault).hasSize(2);
      assertThat(vh.getRoutes(0).getMatch().getPrefix()).isEqualTo("/demo.Greeter/");
      assertThat(vh.getRoutes(0).getRoute().getCluster()).isEqualTo(V2);
    }
  }
}
