package dev.meshwork.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.Map;

/** Selects workloads (pods) of the policy's namespace by label; no selector means all of them. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record WorkloadSelector(Map<String, String> matchLabels) {
  public WorkloadSelector {
    matchLabels = matchLabels == null ? Map.of() : Map.copyOf(matchLabels);
  }

  /**
   * True when every label of the selector is on {@code podLabels}; an empty selector matches all.
   */
  public boolean matches(Map<String, String> podLabels) {
    return matchLabels.entrySet().stream()
        .allMatch(e -> e.getValue().equals(podLabels.get(e.getKey())));
  }
}
