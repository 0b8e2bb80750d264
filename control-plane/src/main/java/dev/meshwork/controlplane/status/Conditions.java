package dev.meshwork.controlplane.status;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ConditionBuilder;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;

/** Builds the standard Kubernetes conditions we write into status. Pure. */
final class Conditions {
  private Conditions() {}

  /**
   * One condition. {@code lastTransitionTime} is kept from {@code previous} when a condition of
   * this type already had this status, as {@code metav1.Condition} asks: it marks the flip, not the
   * write.
   *
   * @param message empty means "nothing to say": the type is used, as the field must not be empty
   * @param previous the conditions currently written (null or empty when none)
   */
  static Condition of(
      String type,
      boolean status,
      String reason,
      String message,
      long observedGeneration,
      List<Condition> previous,
      Instant now) {
    String value = status ? "True" : "False";
    String transition = now.truncatedTo(ChronoUnit.SECONDS).toString();
    if (previous != null) {
      for (Condition c : previous) {
        if (type.equals(c.getType()) && value.equals(c.getStatus())) {
          transition = c.getLastTransitionTime();
        }
      }
    }
    return new ConditionBuilder()
        .withType(type)
        .withStatus(value)
        .withReason(reason)
        .withMessage(message.isEmpty() ? type : message)
        .withObservedGeneration(observedGeneration)
        .withLastTransitionTime(transition)
        .build();
  }
}
