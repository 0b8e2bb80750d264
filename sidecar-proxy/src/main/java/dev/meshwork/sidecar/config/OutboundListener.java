package dev.meshwork.sidecar.config;

/**
 * An outbound LDS listener (an {@code api_listener}): a Service port this proxy may call, named
 * {@code <svc>.<ns>.svc.cluster.local:<port>}, and the RDS route configuration it uses.
 */
public record OutboundListener(String name, String routeConfigName) {}
