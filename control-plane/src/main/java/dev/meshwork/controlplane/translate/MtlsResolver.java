package dev.meshwork.controlplane.translate;

import dev.meshwork.api.MeshConstants;
import dev.meshwork.api.security.v1alpha1.PeerAuthentication;
import dev.meshwork.api.security.v1alpha1.PeerAuthenticationSpec;
import dev.meshwork.api.security.v1alpha1.PeerAuthenticationSpec.Mode;
import dev.meshwork.controlplane.model.MeshModel;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

/**
 * Which mTLS mode a workload's port accepts: the most specific PeerAuthentication wins (port of a
 * selected workload, then the selected workload, then the namespace, then mesh-wide in {@code
 * meshwork-system}); an {@code UNSET} level defers to the next; the default is PERMISSIVE. Among
 * policies of one level the oldest wins, as in Istio, so adding a conflicting one changes nothing.
 */
public final class MtlsResolver {
  private MtlsResolver() {}

  public static Mode resolve(
      MeshModel model, String namespace, Map<String, String> labels, int port) {
    List<PeerAuthentication> inNs =
        model.peerAuthentications().stream()
            .filter(p -> namespace.equals(p.getMetadata().getNamespace()))
            .sorted(OLDEST_FIRST)
            .toList();
    // 1 + 2: workload level (selector present and matching), port first.
    for (PeerAuthentication pa : inNs) {
      PeerAuthenticationSpec spec = pa.getSpec();
      if (spec == null || spec.selector() == null || spec.selector().matchLabels().isEmpty()) {
        continue;
      }
      if (!spec.selector().matches(labels)) {
        continue;
      }
      Mode portMode = mode(spec.portLevelMtls().get(Integer.toString(port)));
      if (portMode != Mode.UNSET) {
        return portMode;
      }
      Mode m = mode(spec.mtls());
      if (m != Mode.UNSET) {
        return m;
      }
    }
    // 3: namespace level.
    Mode ns = scopeMode(inNs, port);
    if (ns != Mode.UNSET) {
      return ns;
    }
    // 4: mesh level.
    Mode mesh =
        scopeMode(
            model.peerAuthentications().stream()
                .filter(p -> MeshConstants.SYSTEM_NAMESPACE.equals(p.getMetadata().getNamespace()))
                .sorted(OLDEST_FIRST)
                .toList(),
            port);
    return mesh != Mode.UNSET ? mesh : Mode.PERMISSIVE;
  }

  private static Mode scopeMode(List<PeerAuthentication> policies, int port) {
    for (PeerAuthentication pa : policies) {
      PeerAuthenticationSpec spec = pa.getSpec();
      if (spec == null || (spec.selector() != null && !spec.selector().matchLabels().isEmpty())) {
        continue;
      }
      Mode portMode = mode(spec.portLevelMtls().get(Integer.toString(port)));
      if (portMode != Mode.UNSET) {
        return portMode;
      }
      Mode m = mode(spec.mtls());
      if (m != Mode.UNSET) {
        return m;
      }
    }
    return Mode.UNSET;
  }

  private static Mode mode(PeerAuthenticationSpec.MutualTls mtls) {
    return mtls == null || mtls.mode() == null ? Mode.UNSET : mtls.mode();
  }

  private static final Comparator<PeerAuthentication> OLDEST_FIRST =
      Comparator.comparing(
              (PeerAuthentication p) ->
                  p.getMetadata().getCreationTimestamp() == null
                      ? ""
                      : p.getMetadata().getCreationTimestamp())
          .thenComparing(p -> p.getMetadata().getName());
}
