package dev.meshwork.controlplane.xds;

import java.util.Map;

/**
 * Read-only NACK counters, for the metrics exporter: how many xDS responses proxies rejected, in
 * total since start and per connected proxy. Implementations are thread-safe.
 */
public interface NackCounts {

  /** NACKs received since the control plane started, from every proxy ever connected. */
  long totalNacks();

  /**
   * NACKs per currently connected proxy ({@code node.id} to count, proxies without NACKs included
   * with 0). A proxy's count goes away when its last stream closes, so pod churn does not grow this
   * map; {@link #totalNacks()} keeps counting.
   */
  Map<String, Long> nacksByProxy();
}
