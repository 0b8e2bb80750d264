package dev.meshwork.ca.grpc;

import io.grpc.Status;
import java.util.Map;

/**
 * Read-only totals of the CSR service since the process started, for a metrics exporter to publish
 * (as monotonic counters). Implementations are thread-safe; reads never block the CSR path.
 */
public interface CaCounters {

  /** Certificates issued to workloads. */
  long issued();

  /** Requests refused, whatever the reason (the sum of {@link #refusedByCode()}). */
  long refused();

  /**
   * Refusals per gRPC status code (PERMISSION_DENIED, UNAUTHENTICATED, ...); codes never seen are
   * absent.
   */
  Map<Status.Code, Long> refusedByCode();
}
