package dev.meshwork.e2e.controlplane;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import dev.meshwork.api.MeshConstants;
import dev.meshwork.controlplane.ControlPlane;
import dev.meshwork.controlplane.translate.Names;
import dev.meshwork.controlplane.translate.ProxyKey;
import dev.meshwork.e2e.kube.KubeApiServerTest;
import dev.meshwork.e2e.kube.KubeCluster;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.service.discovery.v3.AggregatedDiscoveryServiceGrpc;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.GenericKubernetesResourceBuilder;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.stub.StreamObserver;
import java.net.InetAddress;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A PeerAuthentication that turns bad on the real API server keeps its last good version in force:
 * the control plane (in the test JVM, informers on the real API server) writes {@code Accepted
 * False / Invalid} naming the field on the object, and the sidecar's inbound listener, as a proxy
 * reads it over ADS, stays STRICT. The API server itself refuses what the CRD's schema can express.
 */
@KubeApiServerTest
class PeerAuthenticationStatusIT {
  private static final String NS = "peerauthn-" + UUID.randomUUID().toString().substring(0, 6);
  private static final String POD = "greeter-1";
  private static final int APP_PORT = 8080;
  private static final String API_VERSION = "security.meshwork.dev/v1alpha1";
  private static final String KIND = "PeerAuthentication";

  private static InJvmControlPlane cp;
  private static ControlPlane controlPlane;
  private static ManagedChannel channel;
  private static final AtomicReference<Listener> inbound = new AtomicReference<>();

  @BeforeAll
  static void start(KubeCluster cluster, KubernetesClient client) throws Exception {
    client
        .namespaces()
        .resource(new NamespaceBuilder().withNewMetadata().withName(NS).endMetadata().build())
        .create();
    // A meshed pod as the control plane sees it; there is no kubelet here, so its status (the IP
    // that makes it a workload) is written as a kubelet would.
    Pod pod =
        client
            .pods()
            .inNamespace(NS)
            .resource(
                new PodBuilder()
                    .withNewMetadata()
                    .withName(POD)
                    .withLabels(Map.of("app", "greeter"))
                    .withAnnotations(Map.of(MeshConstants.INJECTED_ANNOTATION, "true"))
                    .endMetadata()
                    .withNewSpec()
                    .addNewContainer()
                    .withName("app")
                    .withImage("greeter")
                    .addNewPort()
                    .withContainerPort(APP_PORT)
                    .endPort()
                    .endContainer()
                    .endSpec()
                    .build())
            .create();
    pod.setStatus(
        new io.fabric8.kubernetes.api.model.PodStatusBuilder()
            .withPhase("Running")
            .withPodIP("10.213.9.9")
            .withPodIPs(new io.fabric8.kubernetes.api.model.PodIP("10.213.9.9"))
            .build());
    client.pods().inNamespace(NS).resource(pod).updateStatus();

    cp = InJvmControlPlane.start(cluster);
    controlPlane = cp.controlPlane();
    channel =
        Grpc.newChannelBuilderForAddress(
                InetAddress.getLoopbackAddress().getHostAddress(),
                controlPlane.grpcPort(),
                InsecureChannelCredentials.create())
            .build();
    watchListeners();
  }

  @AfterAll
  static void stop(KubernetesClient client) {
    if (channel != null) {
      channel.shutdownNow();
    }
    if (cp != null) {
      cp.close();
    }
    client.namespaces().withName(NS).delete();
  }

  @Test
  void aPolicyThatTurnsBadIsReportedOnTheObjectAndItsLastGoodModeStays(KubernetesClient client) {
    await("the sidecar's first inbound listener")
        .atMost(Duration.ofSeconds(20))
        .until(() -> inboundMode().equals("PERMISSIVE"));

    apply(
        client,
        Map.of(
            "selector", Map.of("matchLabels", Map.of("app", "greeter")), "mtls", mode("STRICT")));
    await("STRICT in force and accepted")
        .atMost(Duration.ofSeconds(20))
        .pollInterval(Duration.ofMillis(200))
        .untilAsserted(
            () -> {
              assertThat(inboundMode()).isEqualTo("STRICT");
              Condition c = accepted(client).orElseThrow();
              assertThat(c.getStatus()).isEqualTo("True");
              assertThat(c.getObservedGeneration()).isEqualTo(1L);
            });

    // The schema lets this through (the CEL rule only asks that a selector exists), Istio refuses
    // it: port-level mTLS on what is now a namespace-wide policy. Applied, it would be DISABLE.
    apply(
        client,
        Map.of(
            "selector", Map.of(),
            "mtls", mode("DISABLE"),
            "portLevelMtls", Map.of(Integer.toString(APP_PORT), mode("DISABLE"))));
    await("Accepted False on generation 2")
        .atMost(Duration.ofSeconds(20))
        .pollInterval(Duration.ofMillis(200))
        .untilAsserted(
            () -> {
              Condition c = accepted(client).orElseThrow();
              assertThat(c.getObservedGeneration()).isEqualTo(2L);
              assertThat(c.getStatus()).isEqualTo("False");
              assertThat(c.getReason()).isEqualTo("Invalid");
              assertThat(c.getMessage())
                  .contains("spec.portLevelMtls needs a spec.selector")
                  .contains("the last good version stays in force");
            });
    // The verdict on generation 2 comes from the model built from it: that model kept STRICT.
    assertThat(controlPlane.policyReports())
        .filteredOn(r -> r.namespace().equals(NS))
        .singleElement()
        .satisfies(r -> assertThat(r.inForce()).isTrue());
    // The condition is written before the debounced push of that model reaches the proxy, so a
    // single look now would pass even if the bad version were applied: watch for a while.
    await("the inbound listener stays STRICT")
        .during(Duration.ofSeconds(3))
        .atMost(Duration.ofSeconds(10))
        .pollInterval(Duration.ofMillis(100))
        .until(() -> inboundMode().equals("STRICT"));
    // What an operator reads on the debug port says the same.
    assertThat(debugPolicies(client))
        .filteredOn(p -> (NS + "/greeter-mtls").equals(p.get("policy")))
        .singleElement()
        .satisfies(
            p -> {
              assertThat(p).containsEntry("kind", KIND);
              assertThat(p).containsEntry("accepted", false);
              assertThat(p).containsEntry("reason", "Invalid");
              assertThat(p).containsEntry("inForce", true);
              assertThat((String) p.get("message")).contains("spec.portLevelMtls needs a");
            });

    // Fixed: the new mode applies and the condition flips back.
    apply(
        client,
        Map.of(
            "selector", Map.of("matchLabels", Map.of("app", "greeter")), "mtls", mode("DISABLE")));
    await("DISABLE in force and accepted")
        .atMost(Duration.ofSeconds(20))
        .pollInterval(Duration.ofMillis(200))
        .untilAsserted(
            () -> {
              assertThat(inboundMode()).isEqualTo("DISABLE");
              Condition c = accepted(client).orElseThrow();
              assertThat(c.getStatus()).isEqualTo("True");
              assertThat(c.getObservedGeneration()).isEqualTo(3L);
            });
  }

  @Test
  void theApiServerRefusesWhatTheSchemaExpresses(KubernetesClient client) {
    // No selector at all with portLevelMtls: the CRD's CEL rule.
    assertThatThrownBy(
            () ->
                client
                    .resource(
                        policy(
                            "no-selector",
                            Map.of("portLevelMtls", Map.of("8080", mode("DISABLE")))))
                    .create())
        .isInstanceOf(KubernetesClientException.class)
        .hasMessageContaining("portLevelMtls needs a selector");
    // A mode outside the enum.
    assertThatThrownBy(
            () ->
                client
                    .resource(
                        policy(
                            "bad-port-mode",
                            Map.of(
                                "selector",
                                Map.of("matchLabels", Map.of("app", "greeter")),
                                "portLevelMtls",
                                Map.of("8080", mode("SOMETIMES")))))
                    .create())
        .isInstanceOf(KubernetesClientException.class)
        .hasMessageContaining("SOMETIMES");
  }

  /** The entries of the control plane's {@code /debug/policies} page. */
  @SuppressWarnings("unchecked")
  private static List<Map<String, Object>> debugPolicies(KubernetesClient client) {
    String url =
        "http://"
            + InetAddress.getLoopbackAddress().getHostAddress()
            + ":"
            + controlPlane.httpPort()
            + "/debug/policies";
    try (java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient()) {
      String body =
          http.send(
                  java.net.http.HttpRequest.newBuilder(java.net.URI.create(url)).build(),
                  java.net.http.HttpResponse.BodyHandlers.ofString())
              .body();
      Map<String, Object> page = client.getKubernetesSerialization().unmarshal(body, Map.class);
      return (List<Map<String, Object>>) page.get("policies");
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  private static Map<String, Object> mode(String mode) {
    return Map.of("mode", mode);
  }

  private static GenericKubernetesResource policy(String name, Map<String, Object> spec) {
    return new GenericKubernetesResourceBuilder()
        .withApiVersion(API_VERSION)
        .withKind(KIND)
        .withNewMetadata()
        .withName(name)
        .withNamespace(NS)
        .endMetadata()
        .withAdditionalProperties(Map.of("spec", spec))
        .build();
  }

  /** Creates or replaces the spec of {@code greeter-mtls}. */
  private static void apply(KubernetesClient client, Map<String, Object> spec) {
    var resource =
        client
            .genericKubernetesResources(API_VERSION, KIND)
            .inNamespace(NS)
            .withName("greeter-mtls");
    GenericKubernetesResource current = resource.get();
    if (current == null) {
      client.resource(policy("greeter-mtls", spec)).create();
    } else {
      current.setAdditionalProperty("spec", spec);
      client.resource(current).update();
    }
  }

  private static Optional<Condition> accepted(KubernetesClient client) {
    GenericKubernetesResource pa =
        client
            .genericKubernetesResources(API_VERSION, KIND)
            .inNamespace(NS)
            .withName("greeter-mtls")
            .get();
    List<Map<String, Object>> conditions = pa == null ? null : pa.get("status", "conditions");
    if (conditions == null) {
      return Optional.empty();
    }
    return conditions.stream()
        .map(c -> client.getKubernetesSerialization().convertValue(c, Condition.class))
        .filter(c -> "Accepted".equals(c.getType()))
        .findFirst();
  }

  /**
   * The mode the sidecar's inbound listener enforces on the app port: TLS chain only is STRICT,
   * plaintext only DISABLE, both PERMISSIVE ("none" before the first listener).
   */
  private static String inboundMode() {
    Listener l = inbound.get();
    if (l == null) {
      return "none";
    }
    TreeSet<String> transports = new TreeSet<>();
    for (FilterChain chain : l.getFilterChainsList()) {
      if (chain.getFilterChainMatch().getDestinationPort().getValue() == APP_PORT) {
        transports.add(chain.getFilterChainMatch().getTransportProtocol());
      }
    }
    if (transports.equals(new TreeSet<>(List.of("tls")))) {
      return "STRICT";
    }
    if (transports.equals(new TreeSet<>(List.of("raw_buffer")))) {
      return "DISABLE";
    }
    return transports.size() == 2 ? "PERMISSIVE" : "none";
  }

  /** Subscribes to listeners over ADS as the pod's sidecar and ACKs every response. */
  private static void watchListeners() {
    Node node =
        Node.newBuilder()
            .setId(NS + "/" + POD)
            .setCluster("greeter")
            .setMetadata(
                Struct.newBuilder()
                    .putFields(ProxyKey.NAMESPACE, Value.newBuilder().setStringValue(NS).build())
                    .putFields(ProxyKey.POD_NAME, Value.newBuilder().setStringValue(POD).build()))
            .build();
    String lds = "type.googleapis.com/envoy.config.listener.v3.Listener";
    AtomicReference<StreamObserver<DiscoveryRequest>> requests = new AtomicReference<>();
    requests.set(
        AggregatedDiscoveryServiceGrpc.newStub(channel)
            .streamAggregatedResources(
                new StreamObserver<>() {
                  @Override
                  public void onNext(DiscoveryResponse r) {
                    for (var any : r.getResourcesList()) {
                      try {
                        Listener l = any.unpack(Listener.class);
                        if (l.getName().equals(Names.INBOUND_LISTENER)) {
                          inbound.set(l);
                        }
                      } catch (com.google.protobuf.InvalidProtocolBufferException e) {
                        throw new IllegalStateException(e);
                      }
                    }
                    requests
                        .get()
                        .onNext(
                            DiscoveryRequest.newBuilder()
                                .setNode(node)
                                .setTypeUrl(lds)
                                .setVersionInfo(r.getVersionInfo())
                                .setResponseNonce(r.getNonce())
                                .build());
                  }

                  @Override
                  public void onError(Throwable t) {}

                  @Override
                  public void onCompleted() {}
                }));
    requests.get().onNext(DiscoveryRequest.newBuilder().setNode(node).setTypeUrl(lds).build());
  }
}
