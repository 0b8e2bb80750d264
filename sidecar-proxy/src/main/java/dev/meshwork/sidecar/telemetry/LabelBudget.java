package dev.meshwork.sidecar.telemetry;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Caps the distinct values one label may take. The first {@code limit} values pass as they are;
 * later new values become {@value #OVERFLOW}. Values the mesh itself vouches for (gRPC services and
 * methods named in routes) can be admitted up front, so only unknown callers' inventions overflow.
 *
 * <p>Thread-safe.
 */
public final class LabelBudget {
  public static final String OVERFLOW = "other";

  private final int limit;
  private final Set<String> seen = ConcurrentHashMap.newKeySet();

  public LabelBudget(int limit) {
    if (limit < 1) {
      throw new IllegalArgumentException("label budget must be at least 1, got " + limit);
    }
    this.limit = limit;
  }

  /**
   * The value to record for {@code value}: itself while the budget lasts, else {@value #OVERFLOW}.
   */
  public String admit(String value) {
    if (value == null || value.isEmpty()) {
      return "unknown";
    }
    if (seen.contains(value)) {
      return value;
    }
    // Racy by design: two threads may both pass at the limit, overshooting by at most the thread
    // count, which keeps the hot path lock-free and the bound meaningful.
    if (seen.size() < limit) {
      seen.add(value);
      return value;
    }
    return OVERFLOW;
  }
}
