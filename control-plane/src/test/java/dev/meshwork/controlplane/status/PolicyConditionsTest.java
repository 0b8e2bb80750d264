package dev.meshwork.controlplane.status;

import static org.assertj.core.api.Assertions.assertThat;

import dev.meshwork.controlplane.model.PolicyReport;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ConditionBuilder;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class PolicyConditionsTest {
  static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");
  static final Instant T1 = Instant.parse("2026-01-01T01:00:00Z");

  static PolicyReport report(long generation, boolean accepted) {
    return accepted
        ? new PolicyReport("PeerAuthentication", "ns", "p", generation, true, "Accepted", "", true)
        : new PolicyReport(
            "PeerAuthentication", "ns", "p", generation, false, "Invalid", "spec.x: bad", true);
  }

  @Test
  void transitionTimeMarksTheFlipNotTheWrite() {
    List<Condition> first = PolicyConditions.desired(null, report(1, true), T0);
    assertThat(first)
        .singleElement()
        .satisfies(
            c -> {
              assertThat(c.getType()).isEqualTo("Accepted");
              assertThat(c.getStatus()).isEqualTo("True");
              assertThat(c.getMessage()).isEqualTo("Accepted");
              assertThat(c.getObservedGeneration()).isEqualTo(1);
              assertThat(c.getLastTransitionTime()).isEqualTo("2026-01-01T00:00:00Z");
            });
    // Generation 2 still valid: same status, so the transition time stays.
    assertThat(PolicyConditions.desired(first, report(2, true), T1).getFirst())
        .satisfies(
            c -> {
              assertThat(c.getObservedGeneration()).isEqualTo(2);
              assertThat(c.getLastTransitionTime()).isEqualTo("2026-01-01T00:00:00Z");
            });
    // Turned bad: a flip, stamped now, with the reason and message.
    assertThat(PolicyConditions.desired(first, report(3, false), T1).getFirst())
        .satisfies(
            c -> {
              assertThat(c.getStatus()).isEqualTo("False");
              assertThat(c.getReason()).isEqualTo("Invalid");
              assertThat(c.getMessage()).isEqualTo("spec.x: bad");
              assertThat(c.getLastTransitionTime()).isEqualTo("2026-01-01T01:00:00Z");
            });
  }

  @Test
  void conditionsOfOtherTypesAreKept() {
    Condition other =
        new ConditionBuilder()
            .withType("Ready")
            .withStatus("True")
            .withReason("X")
            .withMessage("x")
            .withLastTransitionTime("2025-01-01T00:00:00Z")
            .build();
    assertThat(PolicyConditions.desired(List.of(other), report(1, true), T0))
        .extracting(Condition::getType)
        .containsExactly("Ready", "Accepted");
  }
}
