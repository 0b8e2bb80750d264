package dev.meshwork.controlplane.status;

import dev.meshwork.controlplane.model.RouteReport;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.GRPCRouteStatus;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.ParentReference;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.RouteParentStatus;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * GRPCRoute {@code status.parents} as Gateway API asks: one entry per parent with our controller
 * name, {@code Accepted} and {@code ResolvedRefs}; entries of other controllers are left alone.
 * Pure.
 */
final class RouteStatus {
  private RouteStatus() {}

  /** The status to write, preserving other controllers' entries and unchanged transition times. */
  static GRPCRouteStatus desired(GRPCRouteStatus current, RouteReport report, Instant now) {
    List<RouteParentStatus> parents = new ArrayList<>();
    List<RouteParentStatus> existing =
        current == null || current.getParents() == null ? List.of() : current.getParents();
    for (RouteParentStatus p : existing) {
      if (!StatusWriter.CONTROLLER_NAME.equals(p.getControllerName())) {
        parents.add(p);
      }
    }
    for (RouteReport.ParentReport pr : report.parents()) {
      List<Condition> old =
          existing.stream()
              .filter(p -> StatusWriter.CONTROLLER_NAME.equals(p.getControllerName()))
              .filter(p -> sameParent(p.getParentRef(), pr.parentRef()))
              .findFirst()
              .map(RouteParentStatus::getConditions)
              .orElse(List.of());
      List<Condition> conditions = new ArrayList<>();
      conditions.add(condition("Accepted", pr.accepted(), report.observedGeneration(), old, now));
      conditions.add(
          condition("ResolvedRefs", pr.resolvedRefs(), report.observedGeneration(), old, now));
      parents.add(new RouteParentStatus(conditions, StatusWriter.CONTROLLER_NAME, pr.parentRef()));
    }
    return new GRPCRouteStatus(parents);
  }

  private static Condition condition(
      String type, RouteReport.Verdict v, long generation, List<Condition> old, Instant now) {
    return Conditions.of(type, v.status(), v.reason(), v.message(), generation, old, now);
  }

  private static boolean sameParent(ParentReference a, ParentReference b) {
    return a != null
        && b != null
        && Objects.equals(a.getName(), b.getName())
        && Objects.equals(a.getKind(), b.getKind())
        && Objects.equals(a.getGroup(), b.getGroup())
        && Objects.equals(a.getNamespace(), b.getNamespace())
        && Objects.equals(a.getPort(), b.getPort())
        && Objects.equals(a.getSectionName(), b.getSectionName());
  }
}
