package dev.meshwork.controlplane.status;

import dev.meshwork.controlplane.model.RouteReport;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ConditionBuilder;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.GRPCRoute;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.GRPCRouteStatus;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.ParentReference;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.RouteParentStatus;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.BooleanSupplier;
import javax.annotation.concurrent.ThreadSafe;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes {@link RouteReport}s into GRPCRoute {@code status.parents}, one entry per parent with our
 * controller name; entries of other controllers are left alone. A write happens only when the
 * conditions changed, and keeps {@code lastTransitionTime} of a condition whose status did not
 * flip.
 */
@ThreadSafe
public final class RouteStatusWriter implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(RouteStatusWriter.class);

  /** Our {@code controllerName} in route status, as Gateway API asks: a domain-prefixed path. */
  public static final String CONTROLLER_NAME = "meshwork.dev/control-plane";

  private final KubernetesClient client;
  private final BooleanSupplier isLeader;
  private final Clock clock;
  private final ExecutorService executor =
      Executors.newSingleThreadExecutor(
          r -> Thread.ofPlatform().name("meshwork-status").daemon().unstarted(r));
  private volatile List<RouteReport> latest = List.of();

  public RouteStatusWriter(KubernetesClient client, BooleanSupplier isLeader, Clock clock) {
    this.client = client;
    this.isLeader = isLeader;
    this.clock = clock;
  }

  /** The builder's latest verdicts; written now if this replica leads, remembered otherwise. */
  public void onReports(List<RouteReport> reports) {
    latest = List.copyOf(reports);
    executor.execute(this::writeAll);
  }

  /** Called when this replica becomes leader: the previous leader's writes may be stale. */
  public void rewriteAll() {
    executor.execute(this::writeAll);
  }

  private void writeAll() {
    if (!isLeader.getAsBoolean()) {
      return;
    }
    for (RouteReport report : latest) {
      try {
        write(report);
      } catch (KubernetesClientException e) {
        // Conflicts and deletions race with us; the next report retries with fresh data.
        log.warn(
            "cannot write status of GRPCRoute {}/{}: {}",
            report.namespace(),
            report.name(),
            e.getMessage());
      }
    }
  }

  void write(RouteReport report) {
    var resource =
        client.resources(GRPCRoute.class).inNamespace(report.namespace()).withName(report.name());
    GRPCRoute current = resource.get();
    if (current == null) {
      return;
    }
    Long generation = current.getMetadata().getGeneration();
    if (generation != null && generation != report.observedGeneration()) {
      return; // a newer spec is on its way through the informer; its report will follow
    }
    GRPCRouteStatus desired = desiredStatus(current.getStatus(), report, clock.instant());
    if (Objects.equals(desired, current.getStatus())) {
      return;
    }
    current.setStatus(desired);
    client.resource(current).updateStatus();
    log.info(
        "GRPCRoute {}/{} status: {}",
        report.namespace(),
        report.name(),
        report.valid() ? "Accepted" : "rejected");
  }

  /** The status to write, preserving other controllers' entries and unchanged transition times. */
  static GRPCRouteStatus desiredStatus(GRPCRouteStatus current, RouteReport report, Instant now) {
    List<RouteParentStatus> parents = new ArrayList<>();
    List<RouteParentStatus> existing =
        current == null || current.getParents() == null ? List.of() : current.getParents();
    for (RouteParentStatus p : existing) {
      if (!CONTROLLER_NAME.equals(p.getControllerName())) {
        parents.add(p);
      }
    }
    for (RouteReport.ParentReport pr : report.parents()) {
      RouteParentStatus old =
          existing.stream()
              .filter(p -> CONTROLLER_NAME.equals(p.getControllerName()))
              .filter(p -> sameParent(p.getParentRef(), pr.parentRef()))
              .findFirst()
              .orElse(null);
      List<Condition> conditions = new ArrayList<>();
      conditions.add(condition("Accepted", pr.accepted(), report.observedGeneration(), old, now));
      conditions.add(
          condition("ResolvedRefs", pr.resolvedRefs(), report.observedGeneration(), old, now));
      parents.add(new RouteParentStatus(conditions, CONTROLLER_NAME, pr.parentRef()));
    }
    return new GRPCRouteStatus(parents);
  }

  private static Condition condition(
      String type, RouteReport.Verdict v, long generation, RouteParentStatus old, Instant now) {
    String status = v.status() ? "True" : "False";
    String transition = now.truncatedTo(ChronoUnit.SECONDS).toString();
    if (old != null && old.getConditions() != null) {
      for (Condition c : old.getConditions()) {
        if (type.equals(c.getType()) && status.equals(c.getStatus())) {
          transition = c.getLastTransitionTime();
        }
      }
    }
    return new ConditionBuilder()
        .withType(type)
        .withStatus(status)
        .withReason(v.reason())
        .withMessage(v.message().isEmpty() ? type : v.message())
        .withObservedGeneration(generation)
        .withLastTransitionTime(transition)
        .build();
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

  @Override
  public void close() {
    executor.shutdownNow();
  }
}
