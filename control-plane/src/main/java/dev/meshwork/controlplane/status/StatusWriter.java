package dev.meshwork.controlplane.status;

import dev.meshwork.api.networking.v1alpha1.TrafficPolicy;
import dev.meshwork.api.security.v1alpha1.AuthorizationPolicy;
import dev.meshwork.api.security.v1alpha1.PeerAuthentication;
import dev.meshwork.controlplane.model.PolicyReport;
import dev.meshwork.controlplane.model.RouteReport;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.GRPCRoute;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.GRPCRouteStatus;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;
import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;
import javax.annotation.concurrent.ThreadSafe;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes the model builder's verdicts into the status of the objects they describe: GRPCRoutes
 * ({@link RouteStatus}) and our own policies ({@link PolicyConditions}). Only while this replica
 * leads; a write happens only when the conditions changed, and only for the generation the verdict
 * describes (a newer spec's verdict follows through the informer).
 */
@ThreadSafe
public final class StatusWriter implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(StatusWriter.class);

  /** Our {@code controllerName} in route status, as Gateway API asks: a domain-prefixed path. */
  public static final String CONTROLLER_NAME = "meshwork.dev/control-plane";

  /** Policy kinds whose status we write. Read untyped, so an unreadable spec can still be told. */
  private static final Map<String, ResourceDefinitionContext> POLICY_KINDS =
      Stream.of(PeerAuthentication.class, AuthorizationPolicy.class, TrafficPolicy.class)
          .collect(
              java.util.stream.Collectors.toUnmodifiableMap(
                  HasMetadata::getKind, ResourceDefinitionContext::fromResourceType));

  private final KubernetesClient client;
  private final BooleanSupplier isLeader;
  private final Clock clock;
  private final ExecutorService executor =
      Executors.newSingleThreadExecutor(
          r -> Thread.ofPlatform().name("meshwork-status").daemon().unstarted(r));
  private volatile List<RouteReport> routes = List.of();
  private volatile List<PolicyReport> policies = List.of();

  public StatusWriter(KubernetesClient client, BooleanSupplier isLeader, Clock clock) {
    this.client = client;
    this.isLeader = isLeader;
    this.clock = clock;
  }

  /** The builder's latest verdicts; written now if this replica leads, remembered otherwise. */
  public void onReports(List<RouteReport> routeReports, List<PolicyReport> policyReports) {
    routes = List.copyOf(routeReports);
    policies = List.copyOf(policyReports);
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
    for (RouteReport report : routes) {
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
    for (PolicyReport report : policies) {
      try {
        write(report);
      } catch (KubernetesClientException e) {
        log.warn(
            "cannot write status of {} {}/{}: {}",
            report.kind(),
            report.namespace(),
            report.name(),
            e.getMessage());
      }
    }
  }

  void write(RouteReport report) {
    GRPCRoute current =
        client
            .resources(GRPCRoute.class)
            .inNamespace(report.namespace())
            .withName(report.name())
            .get();
    if (current == null || !describes(current, report.observedGeneration())) {
      return;
    }
    GRPCRouteStatus desired = RouteStatus.desired(current.getStatus(), report, clock.instant());
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

  void write(PolicyReport report) {
    ResourceDefinitionContext kind = POLICY_KINDS.get(report.kind());
    if (kind == null) {
      throw new IllegalArgumentException("no status for kind " + report.kind());
    }
    var resources = client.genericKubernetesResources(kind).inNamespace(report.namespace());
    GenericKubernetesResource current = resources.withName(report.name()).get();
    if (current == null || !describes(current, report.observedGeneration())) {
      return;
    }
    Map<String, Object> status = new LinkedHashMap<>();
    if (current.getAdditionalProperties().get("status") instanceof Map<?, ?> m) {
      m.forEach((k, v) -> status.put(String.valueOf(k), v));
    }
    List<Condition> written = conditions(status.get("conditions"));
    List<Condition> desired = PolicyConditions.desired(written, report, clock.instant());
    if (desired.equals(written)) {
      return;
    }
    status.put("conditions", desired);
    current.getAdditionalProperties().put("status", status);
    resources.resource(current).updateStatus();
    log.info(
        "{} {}/{} status: {}",
        report.kind(),
        report.namespace(),
        report.name(),
        report.accepted() ? "Accepted" : "rejected (" + report.message() + ")");
  }

  private List<Condition> conditions(Object raw) {
    if (!(raw instanceof List<?> list)) {
      return List.of();
    }
    return list.stream()
        .map(c -> client.getKubernetesSerialization().convertValue(c, Condition.class))
        .toList();
  }

  /** False when the object changed since the verdict was made: its own verdict will follow. */
  private static boolean describes(HasMetadata current, long observedGeneration) {
    Long generation = current.getMetadata().getGeneration();
    return generation == null || generation == observedGeneration;
  }

  @Override
  public void close() {
    executor.shutdownNow();
  }
}
