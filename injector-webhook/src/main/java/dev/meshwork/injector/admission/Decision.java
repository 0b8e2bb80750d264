package dev.meshwork.injector.admission;

import java.util.Objects;

/**
 * Whether a pod gets the sidecar, and why (the reason goes into logs and the audit annotation).
 *
 * @param inject true to inject
 * @param reason short, human-readable, e.g. {@code "hostNetwork pod"}
 */
public record Decision(boolean inject, String reason) {
  public Decision {
    Objects.requireNonNull(reason, "reason");
  }

  public static Decision inject(String reason) {
    return new Decision(true, reason);
  }

  public static Decision skip(String reason) {
    return new Decision(false, reason);
  }
}
