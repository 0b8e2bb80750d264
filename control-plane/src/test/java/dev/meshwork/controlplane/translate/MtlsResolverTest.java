package dev.meshwork.controlplane.translate;

import static org.assertj.core.api.Assertions.assertThat;

import dev.meshwork.api.security.v1alpha1.PeerAuthenticationSpec.Mode;
import dev.meshwork.controlplane.model.MeshModel;
import dev.meshwork.controlplane.testing.Meshes;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * PeerAuthentication precedence: port of a selected workload, then the selected workload, then the
 * namespace, then mesh-wide (meshwork-system), then PERMISSIVE; UNSET defers upward; among equals
 * the oldest wins.
 */
class MtlsResolverTest {
  private static final Map<String, String> CART = Map.of("app", "cart", "version", "v1");
  private static final Map<String, String> OTHER = Map.of("app", "other");

  private static String pa(String ns, String name, String created, String spec) {
    return """
        apiVersion: security.meshwork.dev/v1alpha1
        kind: PeerAuthentication
        metadata: {name: %s, namespace: %s, creationTimestamp: "%s"}
        spec:
        %s
        ---
        """
        .formatted(name, ns, created, spec.indent(2));
  }

  private static final String MESH_STRICT =
      pa("meshwork-system", "default", "2026-01-01T00:00:00Z", "mtls: {mode: STRICT}");

  private static Mode mode(String yaml, String ns, Map<String, String> labels, int port) {
    MeshModel model = yaml.isEmpty() ? MeshModel.empty("cluster.local") : Meshes.model(yaml);
    return MtlsResolver.resolve(model, ns, labels, port);
  }

  @Test
  void withoutAnyPolicyTheMeshIsPermissive() {
    assertThat(mode("", "shop", CART, 8080)).isEqualTo(Mode.PERMISSIVE);
  }

  @Test
  void meshWidePolicyInMeshworkSystemAppliesToEveryNamespace() {
    assertThat(mode(MESH_STRICT, "shop", CART, 8080)).isEqualTo(Mode.STRICT);
    assertThat(mode(MESH_STRICT, "billing", OTHER, 9090)).isEqualTo(Mode.STRICT);
  }

  @Test
  void namespacePolicyOverridesTheMeshAndStaysInItsNamespace() {
    String yaml =
        MESH_STRICT + pa("shop", "ns", "2026-01-02T00:00:00Z", "mtls: {mode: PERMISSIVE}");
    assertThat(mode(yaml, "shop", CART, 8080)).isEqualTo(Mode.PERMISSIVE);
    assertThat(mode(yaml, "billing", CART, 8080)).as("other namespace").isEqualTo(Mode.STRICT);
  }

  @Test
  void workloadSelectorOverridesTheNamespaceOnlyForMatchingWorkloads() {
    String yaml =
        MESH_STRICT
            + pa("shop", "ns", "2026-01-02T00:00:00Z", "mtls: {mode: STRICT}")
            + pa(
                "shop",
                "cart",
                "2026-01-03T00:00:00Z",
                "selector: {matchLabels: {app: cart}}\nmtls: {mode: DISABLE}");
    assertThat(mode(yaml, "shop", CART, 8080)).isEqualTo(Mode.DISABLE);
    assertThat(mode(yaml, "shop", OTHER, 8080)).isEqualTo(Mode.STRICT);
  }

  @Test
  void portLevelIsTheMostSpecificAndOtherPortsKeepTheWorkloadMode() {
    String yaml =
        MESH_STRICT
            + pa(
                "shop",
                "cart",
                "2026-01-03T00:00:00Z",
                """
                selector: {matchLabels: {app: cart}}
                mtls: {mode: STRICT}
                portLevelMtls:
                  "9090": {mode: PERMISSIVE}
                  "9091": {mode: DISABLE}
                """);
    assertThat(mode(yaml, "shop", CART, 9090)).isEqualTo(Mode.PERMISSIVE);
    assertThat(mode(yaml, "shop", CART, 9091)).isEqualTo(Mode.DISABLE);
    assertThat(mode(yaml, "shop", CART, 8080)).isEqualTo(Mode.STRICT);
  }

  @Test
  void unsetDefersToTheNextLevel() {
    String yaml =
        MESH_STRICT
            + pa("shop", "ns", "2026-01-02T00:00:00Z", "mtls: {mode: PERMISSIVE}")
            + pa(
                "shop",
                "cart",
                "2026-01-03T00:00:00Z",
                """
                selector: {matchLabels: {app: cart}}
                mtls: {mode: UNSET}
                portLevelMtls:
                  "9090": {mode: DISABLE}
                """);
    assertThat(mode(yaml, "shop", CART, 8080))
        .as("workload UNSET -> namespace")
        .isEqualTo(Mode.PERMISSIVE);
    assertThat(mode(yaml, "shop", CART, 9090)).isEqualTo(Mode.DISABLE);
    String nsUnset = MESH_STRICT + pa("shop", "ns", "2026-01-02T00:00:00Z", "mtls: {mode: UNSET}");
    assertThat(mode(nsUnset, "shop", CART, 8080))
        .as("namespace UNSET -> mesh")
        .isEqualTo(Mode.STRICT);
  }

  @Test
  void amongPoliciesOfOneLevelTheOldestWinsWhateverTheirOrder() {
    String newer = pa("shop", "b-newer", "2026-03-01T00:00:00Z", "mtls: {mode: DISABLE}");
    String older = pa("shop", "z-older", "2026-02-01T00:00:00Z", "mtls: {mode: STRICT}");
    assertThat(mode(newer + older, "shop", CART, 8080)).isEqualTo(Mode.STRICT);
    assertThat(mode(older + newer, "shop", CART, 8080)).isEqualTo(Mode.STRICT);
  }

  @Test
  void aSelectorThatMatchesNothingLeavesTheNamespaceMode() {
    String yaml =
        pa("shop", "ns", "2026-01-02T00:00:00Z", "mtls: {mode: STRICT}")
            + pa(
                "shop",
                "ghost",
                "2026-01-03T00:00:00Z",
                "selector: {matchLabels: {app: ghost}}\nmtls: {mode: DISABLE}");
    assertThat(mode(yaml, "shop", CART, 8080)).isEqualTo(Mode.STRICT);
  }
}
