package dev.meshwork.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import io.fabric8.kubernetes.api.model.Condition;
import java.util.List;

/**
 * Status shared by the mesh CRDs: the control plane writes {@code Accepted} (and, where references
 * are resolved, {@code ResolvedRefs}) conditions with a reason and the generation it observed.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record PolicyStatus(List<Condition> conditions) {
  public PolicyStatus {
    conditions = conditions == null ? List.of() : List.copyOf(conditions);
  }
}
