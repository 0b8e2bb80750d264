package dev.meshwork.ca.grpc;

import dev.meshwork.api.SpiffeId;
import io.grpc.Status;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import javax.annotation.concurrent.ThreadSafe;

/**
 * Counts the CSR service's outcomes in memory and exposes them as {@link CaCounters}: the CA side
 * only counts, a metrics module decides how to publish. Cheap on the request path (striped adders).
 */
@ThreadSafe
public final class CountingCaMetrics implements CaMetrics, CaCounters {
  private final LongAdder issued = new LongAdder();
  private final Map<Status.Code, LongAdder> refused = new ConcurrentHashMap<>();

  @Override
  public void issued(SpiffeId identity) {
    issued.increment();
  }

  @Override
  public void refused(Status.Code code, SpiffeId identity) {
    refused.computeIfAbsent(code, c -> new LongAdder()).increment();
  }

  @Override
  public long issued() {
    return issued.sum();
  }

  @Override
  public long refused() {
    return refused.values().stream().mapToLong(LongAdder::sum).sum();
  }

  @Override
  public Map<Status.Code, Long> refusedByCode() {
    Map<Status.Code, Long> out = new EnumMap<>(Status.Code.class);
    refused.forEach((code, n) -> out.put(code, n.sum()));
    return Map.copyOf(out);
  }
}
