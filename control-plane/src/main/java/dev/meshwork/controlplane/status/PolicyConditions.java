package dev.meshwork.controlplane.status;

import dev.meshwork.controlplane.model.PolicyReport;
import io.fabric8.kubernetes.api.model.Condition;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code status.conditions} of our own CRDs ({@code dev.meshwork.api.PolicyStatus}): one {@code
 * Accepted} condition with reason, message and {@code observedGeneration}; conditions of other
 * types are kept. Pure.
 */
final class PolicyConditions {
  private PolicyConditions() {}

  /** The condition type this control plane owns. */
  static final String ACCEPTED = "Accepted";

  /** The conditions to write, given the ones written now (null when none). */
  static List<Condition> desired(List<Condition> current, PolicyReport report, Instant now) {
    List<Condition> out = new ArrayList<>();
    if (current != null) {
      current.stream().filter(c -> !ACCEPTED.equals(c.getType())).forEach(out::add);
    }
    out.add(
        Conditions.of(
            ACCEPTED,
            report.accepted(),
            report.reason(),
            report.message(),
            report.observedGeneration(),
            current,
            now));
    return out;
  }
}
