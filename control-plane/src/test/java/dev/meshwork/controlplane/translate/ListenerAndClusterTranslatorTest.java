package dev.meshwork.controlplane.translate;

import static dev.meshwork.controlplane.testing.Meshes.model;
import static dev.meshwork.controlplane.testing.Meshes.pod;
import static dev.meshwork.controlplane.testing.Meshes.service;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.meshwork.controlplane.model.MeshModel;
import dev.meshwork.controlplane.model.ServiceKey;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext;
import java.util.List;
import org.junit.jupiter.api.Test;

class ListenerAndClusterTranslatorTest {

  static final String MESH =
      service("greeter", 8080)
          + service("legacy", 9090)
          + pod("greeter-1", "greeter", "v1", "10.0.0.1", 8080, true)
          + pod("legacy-1", "legacy", "v1", "10.0.0.9", 9090, false);

  static final ProxyKey GREETER = ProxyKey.of("default", "greeter-1", true);

  static String peerAuth(String ns, String name, String body) {
    return """
        apiVersion: security.meshwork.dev/v1alpha1
        kind: PeerAuthentication
        metadata: {name: %s, namespace: %s}
        spec:
        %s
        ---
        """
        .formatted(name, ns, body.indent(2));
  }

  static Listener inbound(MeshModel m) {
    return ListenerTranslator.translate(m, GREETER).stream()
        .filter(l -> l.getName().equals("inbound|15006"))
        .findFirst()
        .orElseThrow();
  }

  static List<String> chains(Listener l) {
    return l.getFilterChainsList().stream()
        .map(
            c ->
                c.getFilterChainMatch().getDestinationPort().getValue()
                    + "/"
                    + c.getFilterChainMatch().getTransportProtocol())
        .toList();
  }

  @Test
  void outboundListenerIsAnApiListenerNamingRdsAndEndingWithTheRouter() throws Exception {
    Listener l =
        ListenerTranslator.translate(model(MESH), ProxyKey.of("default", "client", false)).stream()
            .filter(x -> x.getName().equals("greeter.default.svc.cluster.local:8080"))
            .findFirst()
            .orElseThrow();
    HttpConnectionManager hcm =
        l.getApiListener().getApiListener().unpack(HttpConnectionManager.class);
    assertThat(hcm.getRds().getRouteConfigName())
        .isEqualTo("greeter.default.svc.cluster.local:8080");
    assertThat(hcm.getRds().getConfigSource().hasAds()).isTrue();
    assertThat(hcm.getHttpFiltersList())
        .last()
        .extracting(f -> f.getName())
        .isEqualTo("envoy.filters.http.router");
  }

  @Test
  void proxylessClientsGetNoInboundListener() {
    assertThat(
            ListenerTranslator.translate(model(MESH), ProxyKey.of("default", "greeter-1", false)))
        .extracting(Listener::getName)
        .doesNotContain("inbound|15006");
  }

  @Test
  void defaultIsPermissiveWithBothChains() throws InvalidProtocolBufferException {
    Listener l = inbound(model(MESH));
    assertThat(l.getAddress().getSocketAddress().getPortValue()).isEqualTo(15006);
    assertThat(chains(l)).containsExactly("8080/tls", "8080/raw_buffer");
    FilterChain tls = l.getFilterChains(0);
    DownstreamTlsContext ctx =
        tls.getTransportSocket().getTypedConfig().unpack(DownstreamTlsContext.class);
    assertThat(ctx.getRequireClientCertificate().getValue()).isTrue();
    assertThat(ctx.getCommonTlsContext().getTlsCertificateProviderInstance().getInstanceName())
        .isEqualTo("default");
    assertThat(
            ctx.getCommonTlsContext()
                .getValidationContext()
                .getCaCertificateProviderInstance()
                .getInstanceName())
        .isEqualTo("default");
  }

  @Test
  void meshWideStrictLeavesOnlyTheTlsChain() {
    MeshModel m = model(MESH + peerAuth("meshwork-system", "mesh", "mtls: {mode: STRICT}"));
    assertThat(chains(inbound(m))).containsExactly("8080/tls");
  }

  @Test
  void namespaceBeatsMeshAndWorkloadBeatsNamespaceAndPortBeatsWorkload() {
    String mesh = peerAuth("meshwork-system", "mesh", "mtls: {mode: STRICT}");
    String ns = peerAuth("default", "ns", "mtls: {mode: DISABLE}");
    assertThat(chains(inbound(model(MESH + mesh + ns)))).containsExactly("8080/raw_buffer");
    String workload =
        peerAuth(
            "default", "wl", "selector: {matchLabels: {app: greeter}}\nmtls: {mode: PERMISSIVE}");
    assertThat(chains(inbound(model(MESH + mesh + ns + workload))))
        .containsExactly("8080/tls", "8080/raw_buffer");
    String port =
        peerAuth(
            "default",
            "port",
            "selector: {matchLabels: {app: greeter}}\nportLevelMtls: {\"8080\": {mode: STRICT}}");
    assertThat(chains(inbound(model(MESH + mesh + ns + port)))).containsExactly("8080/tls");
    // A selector that does not match changes nothing.
    String other =
        peerAuth(
            "default", "other", "selector: {matchLabels: {app: legacy}}\nmtls: {mode: STRICT}");
    assertThat(chains(inbound(model(MESH + ns + other)))).containsExactly("8080/raw_buffer");
  }

  static Cluster cluster(MeshModel m, String svc, int port) {
    return ClusterTranslator.outbound(
        m, m.service(new ServiceKey("default", svc)).orElseThrow(), port);
  }

  @Test
  void clustersAreEdsOverAdsNamedByTheContract() {
    Cluster c = cluster(model(MESH), "greeter", 8080);
    assertThat(c.getName()).isEqualTo("outbound|8080||greeter.default.svc.cluster.local");
    assertThat(c.getType()).isEqualTo(Cluster.DiscoveryType.EDS);
    assertThat(c.getEdsClusterConfig().getServiceName()).isEqualTo(c.getName());
    assertThat(c.getEdsClusterConfig().getEdsConfig().hasAds()).isTrue();
    assertThat(c.getLbPolicy()).isEqualTo(Cluster.LbPolicy.ROUND_ROBIN);
    assertThat(c.getTypedExtensionProtocolOptionsMap())
        .containsKey("envoy.extensions.upstreams.http.v3.HttpProtocolOptions");
  }

  @Test
  void autoMtlsToMeshedEndpointsWithTheirSpiffeIds() throws Exception {
    Cluster meshed = cluster(model(MESH), "greeter", 8080);
    UpstreamTlsContext tls =
        meshed.getTransportSocket().getTypedConfig().unpack(UpstreamTlsContext.class);
    assertThat(tls.getSni()).isEqualTo("greeter.default.svc.cluster.local");
    assertThat(tls.getCommonTlsContext().getValidationContext().getMatchSubjectAltNamesList())
        .extracting(m -> m.getExact())
        .containsExactly("spiffe://cluster.local/ns/default/sa/greeter");
    assertThat(cluster(model(MESH), "legacy", 9090).hasTransportSocket()).isFalse();
  }

  @Test
  void autoMtlsStaysOffWhenTheDestinationDisablesMtls() {
    MeshModel m =
        model(
            MESH
                + peerAuth(
                    "default",
                    "off",
                    "selector: {matchLabels: {app: greeter}}\nmtls: {mode: DISABLE}"));
    assertThat(cluster(m, "greeter", 8080).hasTransportSocket()).isFalse();
  }

  @Test
  void trafficPolicyChoosesLbLimitsAndOutlierDetection() {
    MeshModel m =
        model(
            MESH
                + """
                apiVersion: networking.meshwork.dev/v1alpha1
                kind: TrafficPolicy
                metadata: {name: tp, namespace: default}
                spec:
                  targetRefs: [{kind: Service, name: greeter}]
                  loadBalancer: {algorithm: LEAST_REQUEST}
                  connectionLimits: {maxConnections: 10, maxPendingRequests: 5}
                  outlierDetection: {consecutiveErrors: 3, interval: 10s, baseEjectionTime: 30s, maxEjectionPercent: 50}
                  retries: {attempts: 2, budget: {percent: 20, minRetriesPerSecond: 3}}
                ---
                """);
    Cluster c = cluster(m, "greeter", 8080);
    assertThat(c.getLbPolicy()).isEqualTo(Cluster.LbPolicy.LEAST_REQUEST);
    var t = c.getCircuitBreakers().getThresholds(0);
    assertThat(t.getMaxConnections().getValue()).isEqualTo(10);
    assertThat(t.getMaxPendingRequests().getValue()).isEqualTo(5);
    assertThat(t.getRetryBudget().getBudgetPercent().getValue()).isEqualTo(20.0);
    assertThat(c.getOutlierDetection().getConsecutive5Xx().getValue()).isEqualTo(3);
    assertThat(c.getOutlierDetection().getBaseEjectionTime().getSeconds()).isEqualTo(30);
    assertThat(cluster(m, "legacy", 9090).getLbPolicy()).isEqualTo(Cluster.LbPolicy.ROUND_ROBIN);
  }

  @Test
  void sidecarsGetStaticInboundClustersForTheirPorts() {
    assertThat(ClusterTranslator.translate(model(MESH), GREETER))
        .filteredOn(c -> c.getName().startsWith("inbound|"))
        .singleElement()
        .satisfies(
            c -> {
              assertThat(c.getName()).isEqualTo("inbound|8080||");
              assertThat(c.getType()).isEqualTo(Cluster.DiscoveryType.STATIC);
              assertThat(
                      c.getLoadAssignment()
                          .getEndpoints(0)
                          .getLbEndpoints(0)
                          .getEndpoint()
                          .getAddress()
                          .getSocketAddress()
                          .getAddress())
                  .isEqualTo("127.0.0.1");
            });
  }

  @Test
  void endpointsCarryWeightsAndMeshworkMetadataAndOnlyReadyOnes() {
    MeshModel m = model(MESH);
    ClusterLoadAssignment cla =
        EndpointTranslator.assignment(
            m.service(new ServiceKey("default", "greeter")).orElseThrow(), 8080);
    assertThat(cla.getClusterName()).isEqualTo("outbound|8080||greeter.default.svc.cluster.local");
    var locality = cla.getEndpoints(0);
    assertThat(locality.getLoadBalancingWeight().getValue()).isEqualTo(1);
    var ep = locality.getLbEndpoints(0);
    assertThat(ep.getLoadBalancingWeight().getValue()).isEqualTo(1);
    assertThat(ep.getEndpoint().getAddress().getSocketAddress().getAddress()).isEqualTo("10.0.0.1");
    var md = ep.getMetadata().getFilterMetadataMap().get("meshwork").getFieldsMap();
    assertThat(md.get("pod").getStringValue()).isEqualTo("greeter-1");
    assertThat(md.get("workload").getStringValue()).isEqualTo("greeter");
    assertThat(md.get("version").getStringValue()).isEqualTo("v1");
  }

  @Test
  void versionsChangeOnlyWhenResourcesChange() {
    SnapshotAssembler assembler = new SnapshotAssembler();
    ProxyResources a = assembler.assemble(model(MESH), GREETER);
    ProxyResources b = assembler.assemble(model(MESH), GREETER);
    assertThat(b.versions()).isEqualTo(a.versions());
    ProxyResources c =
        assembler.assemble(
            model(MESH + pod("greeter-2", "greeter", "v1", "10.0.0.2", 8080, true)), GREETER);
    assertThat(c.versions().endpoints()).isNotEqualTo(a.versions().endpoints());
    assertThat(c.versions().routes()).isEqualTo(a.versions().routes());
    // The assembled set equals what each translator gives on its own.
    MeshModel m = model(MESH);
    ProxyResources d = assembler.assemble(m, GREETER);
    assertThat(d.listeners()).containsExactlyElementsOf(ListenerTranslator.translate(m, GREETER));
    assertThat(d.clusters()).containsExactlyElementsOf(ClusterTranslator.translate(m, GREETER));
    assertThat(d.routes()).containsExactlyElementsOf(RouteTranslator.translate(m, GREETER));
    assertThat(d.endpoints()).containsExactlyElementsOf(EndpointTranslator.translate(m, GREETER));
  }
}
