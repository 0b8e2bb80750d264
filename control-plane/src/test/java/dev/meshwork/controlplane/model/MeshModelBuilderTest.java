package dev.meshwork.controlplane.model;

import static dev.meshwork.controlplane.testing.Meshes.pod;
import static dev.meshwork.controlplane.testing.Meshes.raw;
import static dev.meshwork.controlplane.testing.Meshes.service;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class MeshModelBuilderTest {

  static final String BASE =
      service("greeter", 8080)
          + service("greeter-v2", 8080)
          + pod("greeter-1", "greeter", "v1", "10.0.0.1", 8080, true)
          + pod("greeter-v2-1", "greeter-v2", "v2", "10.0.0.2", 8080, false);

  static String route(String name, long generation, String parent, String rules) {
    return """
        apiVersion: gateway.networking.k8s.io/v1
        kind: GRPCRoute
        metadata: {name: %s, namespace: default, generation: %d}
        spec:
          parentRefs: [%s]
        %s
        ---
        """
        .formatted(name, generation, parent, rules.indent(2));
  }

  static final String SERVICE_PARENT = "{group: \"\", kind: Service, name: greeter}";

  static final String GOOD_RULES =
      """
      rules:
      - matches: [{method: {service: demo.Greeter}}]
        backendRefs: [{name: greeter-v2, port: 8080}]
      """;

  final MeshModelBuilder builder = new MeshModelBuilder("cluster.local");

  @Test
  void podsSelectedByAServiceBecomeItsEndpointsWithWorkloadDetails() {
    MeshModel m = builder.build(raw(BASE)).model();
    MeshService svc = m.service(new ServiceKey("default", "greeter")).orElseThrow();
    assertThat(svc.endpoints(8080))
        .containsExactly(
            new Endpoint(
                "10.0.0.1", 8080, "default", "greeter-1", "greeter", "v1", "greeter", true, true));
    assertThat(m.workload("default", "greeter-1").orElseThrow().identity("cluster.local").uri())
        .isEqualTo("spiffe://cluster.local/ns/default/sa/greeter");
  }

  @Test
  void endpointSlicesWinOverSelectorsAndCarryReadiness() {
    String slice =
        """
        apiVersion: discovery.k8s.io/v1
        kind: EndpointSlice
        metadata:
          name: greeter-abc
          namespace: default
          labels: {kubernetes.io/service-name: greeter}
        addressType: IPv4
        ports: [{name: grpc, port: 9090}]
        endpoints:
        - addresses: [10.1.0.1]
          conditions: {ready: true}
          targetRef: {kind: Pod, name: greeter-1}
        - addresses: [10.1.0.2]
          conditions: {ready: false}
        ---
        """;
    MeshService svc =
        builder
            .build(raw(BASE + slice))
            .model()
            .service(new ServiceKey("default", "greeter"))
            .orElseThrow();
    assertThat(svc.endpoints(8080))
        .extracting(e -> e.ip() + ":" + e.port() + "/" + e.pod() + "/" + e.ready())
        .containsExactly("10.1.0.1:9090/greeter-1/true", "10.1.0.2:9090//false");
  }

  @Test
  void aValidRouteIsAcceptedWithResolvedRefs() {
    MeshModelBuilder.Result r =
        builder.build(raw(BASE + route("r", 1, SERVICE_PARENT, GOOD_RULES)));
    assertThat(r.model().routes()).hasSize(1);
    RouteReport report = r.reports().getFirst();
    assertThat(report.valid()).isTrue();
    assertThat(report.parents().getFirst().accepted().reason()).isEqualTo("Accepted");
    assertThat(report.parents().getFirst().resolvedRefs().reason()).isEqualTo("ResolvedRefs");
  }

  @Test
  void invalidRegexIsRejectedAndTheLastGoodVersionStays() {
    builder.build(raw(BASE + route("r", 1, SERVICE_PARENT, GOOD_RULES)));
    MeshModelBuilder.Result r =
        builder.build(
            raw(
                BASE
                    + route(
                        "r",
                        2,
                        SERVICE_PARENT,
                        """
                        rules:
                        - matches: [{headers: [{type: RegularExpression, name: x-user, value: "a(b"}]}]
                          backendRefs: [{name: greeter, port: 8080}]
                        """)));
    RouteReport report = r.reports().getFirst();
    assertThat(report.observedGeneration()).isEqualTo(2);
    assertThat(report.parents().getFirst().accepted().status()).isFalse();
    assertThat(report.parents().getFirst().accepted().reason()).isEqualTo("UnsupportedValue");
    assertThat(report.parents().getFirst().accepted().message())
        .contains("invalid regular expression");
    assertThat(report.inForce()).isTrue();
    assertThat(r.model().routes())
        .singleElement()
        .satisfies(a -> assertThat(a.route().getMetadata().getGeneration()).isEqualTo(1));
  }

  @Test
  void aMissingBackendFailsResolvedRefsWithBackendNotFound() {
    MeshModelBuilder.Result r =
        builder.build(
            raw(
                BASE
                    + route(
                        "r",
                        1,
                        SERVICE_PARENT,
                        """
                        rules:
                        - backendRefs: [{name: nope, port: 8080}]
                        """)));
    RouteReport.ParentReport p = r.reports().getFirst().parents().getFirst();
    assertThat(p.resolvedRefs().status()).isFalse();
    assertThat(p.resolvedRefs().reason()).isEqualTo("BackendNotFound");
    assertThat(p.resolvedRefs().message()).contains("default/nope");
    assertThat(r.reports().getFirst().inForce()).isFalse();
    assertThat(r.model().routes()).isEmpty();
  }

  @Test
  void allWeightsZeroIsRejected() {
    MeshModelBuilder.Result r =
        builder.build(
            raw(
                BASE
                    + route(
                        "r",
                        1,
                        SERVICE_PARENT,
                        """
                        rules:
                        - backendRefs:
                          - {name: greeter, port: 8080, weight: 0}
                          - {name: greeter-v2, port: 8080, weight: 0}
                        """)));
    RouteReport.ParentReport p = r.reports().getFirst().parents().getFirst();
    assertThat(p.accepted().status()).isFalse();
    assertThat(p.accepted().reason()).isEqualTo("UnsupportedValue");
    assertThat(p.accepted().message()).contains("weight 0");
  }

  @Test
  void aParentThatIsNotAServiceIsRejectedAndGatewayParentsAreNotOurs() {
    MeshModelBuilder.Result r =
        builder.build(
            raw(
                BASE
                    + route(
                        "deploy", 1, "{group: apps, kind: Deployment, name: greeter}", GOOD_RULES)
                    + route("gw", 1, "{name: my-gateway}", GOOD_RULES)
                    + route("ok", 1, SERVICE_PARENT, GOOD_RULES)));
    assertThat(r.reports()).extracting(RouteReport::name).containsExactly("deploy", "ok");
    RouteReport.ParentReport p = r.reports().getFirst().parents().getFirst();
    assertThat(p.accepted().reason()).isEqualTo("UnsupportedValue");
    assertThat(p.accepted().message()).contains("apps/Deployment");
    // The rest keeps flowing.
    assertThat(r.model().routes()).extracting(AttachedRoute::name).containsExactly("ok");
  }

  @Test
  void aParentServiceThatDoesNotExistIsNoMatchingParent() {
    MeshModelBuilder.Result r =
        builder.build(
            raw(BASE + route("r", 1, "{group: \"\", kind: Service, name: ghost}", GOOD_RULES)));
    assertThat(r.reports().getFirst().parents().getFirst().accepted().reason())
        .isEqualTo("NoMatchingParent");
  }

  @Test
  void aDeletedRouteIsForgottenIncludingItsLastGoodVersion() {
    builder.build(raw(BASE + route("r", 1, SERVICE_PARENT, GOOD_RULES)));
    assertThat(builder.build(raw(BASE)).model().routes()).isEmpty();
    // Re-created broken: nothing older to fall back to.
    MeshModelBuilder.Result r =
        builder.build(
            raw(
                BASE
                    + route(
                        "r", 1, SERVICE_PARENT, "rules:\n- backendRefs: [{name: x, port: 1}]\n")));
    assertThat(r.model().routes()).isEmpty();
    assertThat(r.reports().getFirst().inForce()).isFalse();
  }

  @Test
  void generationsIncrease() {
    long a = builder.build(raw(BASE)).model().generation();
    long b = builder.build(raw(BASE)).model().generation();
    assertThat(b).isEqualTo(a + 1);
    assertThat(List.of(a, b)).doesNotContain(0L);
  }

  @Test
  void clusterIpsAreCarriedAndWhatIsNotAnIpIsDropped() {
    MeshModel model =
        dev.meshwork.controlplane.testing.Meshes.model(
            """
            apiVersion: v1
            kind: Service
            metadata: {name: a, namespace: default}
            spec:
              clusterIP: 10.96.0.10
              ports: [{port: 8080}]
            ---
            apiVersion: v1
            kind: Service
            metadata: {name: b, namespace: default}
            spec:
              clusterIP: 10.96.0.11
              clusterIPs: [10.96.0.11, "FD00::B"]
              ports: [{port: 8080}]
            ---
            apiVersion: v1
            kind: Service
            metadata: {name: c, namespace: default}
            spec:
              clusterIP: not-an-ip
              ports: [{port: 8080}]
            ---
            apiVersion: v1
            kind: Service
            metadata: {name: d, namespace: default}
            spec:
              clusterIP: None
              ports: [{port: 8080}]
            """);

    assertThat(ips(model, "a")).containsExactly("10.96.0.10");
    assertThat(ips(model, "b")).containsExactly("10.96.0.11", "fd00::b");
    assertThat(ips(model, "c")).isEmpty();
    assertThat(ips(model, "d")).isEmpty();
  }

  private static List<String> ips(MeshModel model, String service) {
    return model.service(new ServiceKey("default", service)).orElseThrow().clusterIps();
  }

  @Test
  void aRejectionOfARouteWithoutGenerationIsLoggedWithoutOne() {
    ch.qos.logback.classic.Logger logger =
        (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(MeshModelBuilder.class);
    var appender =
        new ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent>();
    appender.start();
    logger.addAppender(appender);
    try {
      // What a folder source hands over: no metadata.generation.
      builder.build(
          raw(
              BASE
                  + """
                  apiVersion: gateway.networking.k8s.io/v1
                  kind: GRPCRoute
                  metadata: {name: folder, namespace: default}
                  spec:
                    parentRefs: [{group: "", kind: Service, name: greeter}]
                    rules: [{backendRefs: [{name: nope, port: 8080}]}]
                  """));
      builder.build(
          raw(
              BASE
                  + route(
                      "r",
                      3,
                      SERVICE_PARENT,
                      "rules: [{backendRefs: [{name: nope, port: 8080}]}]")));
    } finally {
      logger.detachAppender(appender);
    }
    assertThat(appender.list)
        .extracting(ch.qos.logback.classic.spi.ILoggingEvent::getFormattedMessage)
        .anySatisfy(
            m -> assertThat(m).startsWith("GRPCRoute default/folder rejected (BackendNotFound"))
        .anySatisfy(m -> assertThat(m).startsWith("GRPCRoute default/r generation 3 rejected"))
        .noneMatch(m -> m.contains("generation 0"));
  }

  static String peerAuthentication(String name, String uid, long generation, String spec) {
    return """
        apiVersion: security.meshwork.dev/v1alpha1
        kind: PeerAuthentication
        metadata: {name: %s, namespace: default, uid: %s, generation: %d}
        spec: %s
        ---
        """
        .formatted(name, uid, generation, spec);
  }

  static final String STRICT_FOR_GREETER =
      "{selector: {matchLabels: {app: greeter}}, mtls: {mode: STRICT}}";

  /** A portLevelMtls key that is no port: the schema lets it through, Istio refuses it. */
  static final String BAD_PORT_KEY =
      "{selector: {matchLabels: {app: greeter}}, mtls: {mode: DISABLE},"
          + " portLevelMtls: {grpc: {mode: DISABLE}}}";

  private static dev.meshwork.api.security.v1alpha1.PeerAuthenticationSpec.Mode mode(
      MeshModel model) {
    return dev.meshwork.controlplane.translate.MtlsResolver.resolve(
        model, "default", java.util.Map.of("app", "greeter"), 8080);
  }

  @Test
  void aPeerAuthenticationThatTurnsBadKeepsItsLastGoodVersionAndIsReported() {
    MeshModelBuilder.Result good =
        builder.build(raw(BASE + peerAuthentication("pa", "uid-1", 1, STRICT_FOR_GREETER)));
    assertThat(good.policyReports())
        .singleElement()
        .satisfies(
            r -> {
              assertThat(r.accepted()).isTrue();
              assertThat(r.reason()).isEqualTo("Accepted");
              assertThat(r.observedGeneration()).isEqualTo(1);
            });
    assertThat(mode(good.model())).hasToString("STRICT");

    MeshModelBuilder.Result bad =
        builder.build(raw(BASE + peerAuthentication("pa", "uid-1", 2, BAD_PORT_KEY)));
    PolicyReport report = bad.policyReports().getFirst();
    assertThat(report.kind()).isEqualTo("PeerAuthentication");
    assertThat(report.accepted()).isFalse();
    assertThat(report.reason()).isEqualTo("Invalid");
    assertThat(report.observedGeneration()).isEqualTo(2);
    assertThat(report.message())
        .startsWith("spec.portLevelMtls[\"grpc\"]: the key must be a port number 1..65535")
        .endsWith("(the last good version stays in force)");
    assertThat(report.inForce()).isTrue();
    // Generation 1 is what the model holds, so the workload stays STRICT.
    assertThat(bad.model().peerAuthentications())
        .singleElement()
        .satisfies(p -> assertThat(p.getMetadata().getGeneration()).isEqualTo(1));
    assertThat(mode(bad.model())).hasToString("STRICT");

    // Fixed: the new version replaces the old one.
    MeshModelBuilder.Result fixed =
        builder.build(
            raw(
                BASE
                    + peerAuthentication(
                        "pa",
                        "uid-1",
                        3,
                        "{selector: {matchLabels: {app: greeter}}, mtls: {mode: DISABLE}}")));
    assertThat(fixed.policyReports().getFirst().accepted()).isTrue();
    assertThat(mode(fixed.model())).hasToString("DISABLE");
  }

  @Test
  void aPeerAuthenticationThatWasNeverGoodIsNotAppliedAndTheNextLevelDecides() {
    String namespaceStrict =
        """
        apiVersion: security.meshwork.dev/v1alpha1
        kind: PeerAuthentication
        metadata: {name: ns-wide, namespace: default, uid: uid-ns, generation: 1}
        spec: {mtls: {mode: STRICT}}
        ---
        """;
    MeshModelBuilder.Result r =
        builder.build(
            raw(BASE + namespaceStrict + peerAuthentication("pa", "uid-1", 1, BAD_PORT_KEY)));
    PolicyReport report =
        r.policyReports().stream().filter(p -> p.name().equals("pa")).findFirst().orElseThrow();
    assertThat(report.inForce()).isFalse();
    assertThat(report.message()).endsWith("(no earlier valid version: not applied)");
    // The bad workload policy (DISABLE) is not applied: the namespace's STRICT decides.
    assertThat(r.model().peerAuthentications())
        .extracting(p -> p.getMetadata().getName())
        .containsExactly("ns-wide");
    assertThat(mode(r.model())).hasToString("STRICT");
  }

  @Test
  void aBadPolicyUnderANewUidDoesNotInheritTheLastGoodOfTheDeletedOne() {
    builder.build(raw(BASE + peerAuthentication("pa", "uid-1", 1, STRICT_FOR_GREETER)));
    // Deleted and created again under the same name, bad this time (one debounced burst).
    MeshModelBuilder.Result r =
        builder.build(raw(BASE + peerAuthentication("pa", "uid-2", 1, BAD_PORT_KEY)));
    assertThat(r.policyReports().getFirst().inForce()).isFalse();
    assertThat(r.model().peerAuthentications()).isEmpty();
    assertThat(mode(r.model())).hasToString("PERMISSIVE");
  }

  @Test
  void aDeletedPolicyTakesItsLastGoodVersionWithIt() {
    builder.build(raw(BASE + peerAuthentication("pa", "uid-1", 1, STRICT_FOR_GREETER)));
    builder.build(raw(BASE + peerAuthentication("pa", "uid-1", 2, BAD_PORT_KEY)));
    MeshModelBuilder.Result gone = builder.build(raw(BASE));
    assertThat(gone.model().peerAuthentications()).isEmpty();
    assertThat(gone.policyReports()).isEmpty();
    // Created again bad under the same uid (a folder source has none): nothing to fall back on.
    MeshModelBuilder.Result again =
        builder.build(raw(BASE + peerAuthentication("pa", "uid-1", 3, BAD_PORT_KEY)));
    assertThat(again.model().peerAuthentications()).isEmpty();
  }

  @Test
  void anUnreadablePolicyKeepsItsLastGoodVersionAndIsReported() {
    builder.build(raw(BASE + peerAuthentication("pa", "uid-1", 1, STRICT_FOR_GREETER)));
    RawConfig base = raw(BASE);
    RawConfig unreadable =
        new RawConfig(
            base.services(),
            base.endpointSlices(),
            base.pods(),
            base.namespaces(),
            List.of(),
            List.of(),
            List.of(),
            List.of(),
            List.of(
                new UnreadableObject(
                    "PeerAuthentication",
                    "default",
                    "pa",
                    "uid-1",
                    2,
                    "Cannot deserialize Mode from String \"SOMETIMES\"")));
    MeshModelBuilder.Result r = builder.build(unreadable);
    assertThat(r.policyReports())
        .singleElement()
        .satisfies(
            p -> {
              assertThat(p.accepted()).isFalse();
              assertThat(p.observedGeneration()).isEqualTo(2);
              assertThat(p.message()).startsWith("spec cannot be read: Cannot deserialize");
              assertThat(p.inForce()).isTrue();
            });
    assertThat(mode(r.model())).hasToString("STRICT");
  }
}
