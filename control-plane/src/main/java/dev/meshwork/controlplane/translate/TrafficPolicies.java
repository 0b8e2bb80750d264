package dev.meshwork.controlplane.translate;

import dev.meshwork.api.networking.v1alpha1.TrafficPolicy;
import dev.meshwork.api.networking.v1alpha1.TrafficPolicySpec;
import dev.meshwork.controlplane.model.MeshModel;
import dev.meshwork.controlplane.model.ServiceKey;
import java.util.Comparator;
import java.util.Optional;

/** Finds the TrafficPolicy attached to a Service or a route (oldest wins on conflict). */
final class TrafficPolicies {
  private TrafficPolicies() {}

  static Optional<TrafficPolicySpec> forTarget(
      MeshModel model, String namespace, String kind, String name) {
    return model.trafficPolicies().stream()
        .filter(tp -> namespace.equals(tp.getMetadata().getNamespace()) && tp.getSpec() != null)
        .filter(
            tp ->
                tp.getSpec().targetRefs().stream()
                    .anyMatch(t -> kind.equals(t.kind()) && name.equals(t.name())))
        .sorted(
            Comparator.comparing(
                    (TrafficPolicy tp) ->
                        tp.getMetadata().getCreationTimestamp() == null
                            ? ""
                            : tp.getMetadata().getCreationTimestamp())
                .thenComparing(tp -> tp.getMetadata().getName()))
        .map(TrafficPolicy::getSpec)
        .findFirst();
  }

  static Optional<TrafficPolicySpec> forService(MeshModel model, ServiceKey svc) {
    return forTarget(model, svc.namespace(), "Service", svc.name());
  }
}
