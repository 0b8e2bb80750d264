package dev.meshwork.controlplane.model;

import io.fabric8.kubernetes.api.model.gatewayapi.v1.ParentReference;
import java.util.List;

/**
 * What the builder concluded about one GRPCRoute generation, per parent: the input of the status
 * writer and of the debug page.
 *
 * @param namespace route namespace
 * @param name route name
 * @param observedGeneration the {@code metadata.generation} these conditions describe
 * @param parents one entry per parentRef this control plane owns (Gateway parents are skipped)
 * @param inForce true when some version of the route is in the model (this one when valid, else the
 *     last good one)
 */
public record RouteReport(
    String namespace,
    String name,
    long observedGeneration,
    List<ParentReport> parents,
    boolean inForce) {
  public RouteReport {
    parents = List.copyOf(parents);
  }

  /** True when every parent accepted the route and all references resolved. */
  public boolean valid() {
    return parents.stream().allMatch(p -> p.accepted().status() && p.resolvedRefs().status());
  }

  /**
   * @param parentRef the parentRef as written in the route
   * @param accepted the {@code Accepted} condition
   * @param resolvedRefs the {@code ResolvedRefs} condition
   */
  public record ParentReport(ParentReference parentRef, Verdict accepted, Verdict resolvedRefs) {}

  /** One condition's status, reason (Gateway API reason names) and a human message. */
  public record Verdict(boolean status, String reason, String message) {
    public static Verdict ok(String reason) {
      return new Verdict(true, reason, "");
    }

    public static Verdict fail(String reason, String message) {
      return new Verdict(false, reason, message);
    }
  }
}
