package dev.meshwork.sidecar.config;

import java.util.Map;

/**
 * The inbound listener ({@code inbound|15006}) reduced to what the data path needs: for each
 * workload port, whether plaintext and/or mTLS connections are accepted.
 */
public record InboundPolicy(Map<Integer, PortMode> ports) {
  /** Which transport protocols a port accepts (from its filter chains). */
  public record PortMode(boolean plaintext, boolean tls) {}

  public static final InboundPolicy NONE = new InboundPolicy(Map.of());

  public InboundPolicy {
    ports = Map.copyOf(ports);
  }
}
