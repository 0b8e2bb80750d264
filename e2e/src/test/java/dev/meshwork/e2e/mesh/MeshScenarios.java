package dev.meshwork.e2e.mesh;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.meshwork.e2e.mesh.Testbed.Caller;
import dev.meshwork.e2e.mesh.Testbed.Calls;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.GRPCRoute;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.RouteParentStatus;
import java.time.Duration;
import java.util.List;
import org.awaitility.core.ConditionTimeoutException;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The mesh's behaviour as a user checks it in a cluster, against any {@link Testbed}: calls from
 * one client connection balanced per call over the greeter replicas, a GRPCRoute canary (by header
 * and by weight) taking effect within seconds with its status written back, and PeerAuthentication
 * STRICT refusing a plaintext client that PERMISSIVE lets through.
 *
 * <p>The meshed caller dials the greeter Service's ClusterIP: there is no kube-proxy (process
 * harness), so the call reaches a greeter only because the capture hands it to the caller's
 * sidecar, which maps the destination to the Service.
 */
abstract class MeshScenarios {
  /** Every scenario waits at most this long for the mesh to reach the state it checks. */
  static final Duration SETTLE = Duration.ofSeconds(30);

  protected abstract Testbed testbed();

  @BeforeEach
  void meshIsWarm() {
    // Sidecars get config and certificates on their own schedule after Ready: wait until a call
    // through the mesh reaches every greeter, so scenarios measure the mesh, not its start-up.
    Testbed t = testbed();
    String greeter = t.serviceAddress("greeter");
    try {
      await("calls through the mesh reach every greeter")
          .atMost(Duration.ofSeconds(90))
          .pollInterval(Duration.ofMillis(500))
          .untilAsserted(
              () ->
                  assertThat(t.call(Caller.MESHED, greeter, 30, null, false).instances().keySet())
                      .containsExactlyInAnyOrderElementsOf(t.greeterPods()));
    } catch (ConditionTimeoutException e) {
      throw new AssertionError(e.getMessage() + t.diagnostics(), e);
    }
  }

  @Test
  void callsOverOneConnectionAreBalancedPerCallAcrossReplicas() {
    Testbed t = testbed();
    Calls c = t.call(Caller.MESHED, t.serviceAddress("greeter"), 300, null, false);

    assertThat(c.ok()).as("%s", c).isEqualTo(300);
    // One client connection: a plain Service would pin all 300 calls to one pod.
    double mean = 300.0 / t.greeterPods().size();
    for (String pod : t.greeterPods()) {
      assertThat((double) c.instances().getOrDefault(pod, 0L))
          .as("calls answered by %s of %s", pod, c.instances())
          .isBetween(mean * 0.6, mean * 1.4);
    }
    // Every hop was mutual TLS: the greeter's sidecar saw the caller's SPIFFE identity.
    assertThat(c.mtls()).as("calls whose greeter saw a verified caller identity").isEqualTo(300);
  }

  @Test
  void aCallWhoseAuthorityNamesNoServiceGoesToTheServiceOfItsOriginalDestination() {
    Testbed t = testbed();
    // The app dials greeter-v2's ClusterIP but sends an authority no route knows: the sidecar
    // routes by where the connection was going (SO_ORIGINAL_DST), i.e. to greeter-v2 only.
    Calls c =
        t.callWithAuthority(
            Caller.MESHED, t.serviceAddress("greeter-v2"), "nowhere.example:80", 30);

    assertThat(c.ok()).as("%s", c).isEqualTo(30);
    assertThat(c.versions()).as("%s", c).containsOnlyKeys("v2");
  }

  @Test
  void grpcRouteCanaryByHeaderAndWeightTakesEffectWithinSeconds() {
    Testbed t = testbed();
    String greeter = t.serviceAddress("greeter");
    String route = canaryRoute(t.meshNamespace());
    t.apply(route);
    try {
      await("header canary routes x-canary: true to v2")
          .atMost(SETTLE)
          .pollInterval(Duration.ofMillis(250))
          .untilAsserted(
              () -> {
                Calls c = t.call(Caller.MESHED, greeter, 20, "x-canary:true", false);
                assertThat(c.version("v2")).as("%s", c).isEqualTo(20);
              });
      await("the weighted split is in force")
          .atMost(SETTLE)
          .pollInterval(Duration.ofMillis(250))
          .untilAsserted(
              () -> {
                Calls c = t.call(Caller.MESHED, greeter, 20, "x-canary:false", false);
                assertThat(c.version("v1")).as("%s", c).isPositive();
              });

      int n = 800;
      Calls c = t.call(Caller.MESHED, greeter, n, null, false);
      assertThat(c.ok()).as("%s", c).isEqualTo(n);
      assertThat(c.version("v2") / (double) n)
          .as("share of v2 under a 90/10 split: %s", c.versions())
          .isBetween(0.055, 0.145);
      assertThat(c.instances())
          .as("both v1 replicas share the 90")
          .containsKeys("greeter-a", "greeter-b");

      await("route status written back")
          .atMost(SETTLE)
          .untilAsserted(
              () -> {
                GRPCRoute r =
                    t.client()
                        .resources(GRPCRoute.class)
                        .inNamespace(t.meshNamespace())
                        .withName("greeter-canary")
                        .get();
                assertThat(r.getStatus()).isNotNull();
                List<RouteParentStatus> parents = r.getStatus().getParents();
                assertThat(parents).hasSize(1);
                assertThat(parents.get(0).getControllerName())
                    .isEqualTo("meshwork.dev/control-plane");
                assertThat(parents.get(0).getConditions())
                    .extracting(Condition::getType, Condition::getStatus)
                    .contains(
                        org.assertj.core.groups.Tuple.tuple("Accepted", "True"),
                        org.assertj.core.groups.Tuple.tuple("ResolvedRefs", "True"));
              });
    } finally {
      t.delete(route);
    }
    await("without the route, calls reach v1 and v2 again")
        .atMost(SETTLE)
        .untilAsserted(
            () ->
                assertThat(t.call(Caller.MESHED, greeter, 30, "x-canary:true", false).versions())
                    .containsKeys("v1", "v2"));
  }

  @Test
  void strictPeerAuthenticationRefusesAPlaintextClientThatPermissiveAccepts() {
    Testbed t = testbed();
    String greeterPod = t.podAddress("greeter-a");
    String ns = t.meshNamespace();
    try {
      t.apply(peerAuthentication(ns, "PERMISSIVE"));
      await("PERMISSIVE: a plaintext client outside the mesh is answered")
          .atMost(SETTLE)
          .pollInterval(Duration.ofMillis(250))
          .untilAsserted(
              () -> {
                Calls c = t.call(Caller.PLAIN, greeterPod, 3, null, true);
                assertThat(c.ok()).as("%s", c).isEqualTo(3);
                assertThat(c.mtls()).as("no client certificate was shown").isZero();
              });

      t.apply(peerAuthentication(ns, "STRICT"));
      await("STRICT: a new plaintext connection is refused")
          .atMost(SETTLE)
          .pollInterval(Duration.ofMillis(250))
          .untilAsserted(
              () -> {
                Calls c = t.call(Caller.PLAIN, greeterPod, 3, null, true);
                assertThat(c.ok()).as("%s", c).isZero();
                assertThat(c.errors()).as("%s", c).containsKey("UNAVAILABLE");
              });
      // The meshed caller still gets through: its sidecar speaks mTLS.
      Calls meshed = t.call(Caller.MESHED, t.serviceAddress("greeter"), 30, null, false);
      assertThat(meshed.ok()).as("%s", meshed).isEqualTo(30);
      assertThat(meshed.mtls()).isEqualTo(30);
    } finally {
      t.delete(peerAuthentication(ns, "STRICT"));
    }
  }

  static String canaryRoute(String namespace) {
    return """
        apiVersion: gateway.networking.k8s.io/v1
        kind: GRPCRoute
        metadata: {name: greeter-canary, namespace: %s}
        spec:
          parentRefs:
          - {group: "", kind: Service, name: greeter, port: %d}
          rules:
          - matches:
            - headers: [{name: x-canary, value: "true"}]
            backendRefs:
            - {name: greeter-v2, port: %d}
          - backendRefs:
            - {name: greeter-v1, port: %d, weight: 90}
            - {name: greeter-v2, port: %d, weight: 10}
        """
        .formatted(
            namespace,
            Testbed.GREETER_PORT,
            Testbed.GREETER_PORT,
            Testbed.GREETER_PORT,
            Testbed.GREETER_PORT);
  }

  static String peerAuthentication(String namespace, String mode) {
    return """
        apiVersion: security.meshwork.dev/v1alpha1
        kind: PeerAuthentication
        metadata: {name: greeter-mtls, namespace: %s}
        spec:
          mtls: {mode: %s}
        """
        .formatted(namespace, mode);
  }
}
