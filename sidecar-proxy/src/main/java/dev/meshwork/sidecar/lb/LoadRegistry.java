package dev.meshwork.sidecar.lb;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** The {@link EndpointLoad} of each endpoint address, created on first use. Thread-safe. */
public final class LoadRegistry {
  private final Map<String, EndpointLoad> loads = new ConcurrentHashMap<>();

  public EndpointLoad of(String address) {
    return loads.computeIfAbsent(address, a -> new EndpointLoad());
  }

  /** A read-only view for the admin endpoint. */
  public Map<String, EndpointLoad> view() {
    return Map.copyOf(loads);
  }
}
