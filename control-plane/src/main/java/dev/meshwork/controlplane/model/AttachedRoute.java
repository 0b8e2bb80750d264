package dev.meshwork.controlplane.model;

import io.fabric8.kubernetes.api.model.gatewayapi.v1.GRPCRoute;
import java.util.List;

/**
 * A GRPCRoute that passed validation, with the Services it attaches to.
 *
 * <p>The fabric8 object is shared, never mutated: the builder keeps it as the last good version of
 * that route and hands the same instance to every model until a newer valid version arrives.
 *
 * @param route the accepted route
 * @param parents the Service parents (GAMMA) it attaches to
 */
public record AttachedRoute(GRPCRoute route, List<Parent> parents) {
  public AttachedRoute {
    parents = List.copyOf(parents);
  }

  /**
   * @param service the parent Service
   * @param port the parent's {@code port}, or null for every port of the Service
   */
  public record Parent(ServiceKey service, Integer port) {
    public boolean covers(ServiceKey key, int servicePort) {
      return service.equals(key) && (port == null || port == servicePort);
    }
  }

  public String namespace() {
    return route.getMetadata().getNamespace();
  }

  public String name() {
    return route.getMetadata().getName();
  }

  public boolean attachesTo(ServiceKey key, int servicePort) {
    return parents.stream().anyMatch(p -> p.covers(key, servicePort));
  }
}
