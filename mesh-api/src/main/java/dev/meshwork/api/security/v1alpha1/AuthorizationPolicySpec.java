package dev.meshwork.api.security.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import dev.meshwork.api.WorkloadSelector;
import java.util.List;

/**
 * @param selector workloads this applies to; null means every workload of the namespace
 * @param action ALLOW or DENY; null means ALLOW
 * @param rules a call matches the policy when it matches any rule; no rules matches nothing
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record AuthorizationPolicySpec(WorkloadSelector selector, Action action, List<Rule> rules) {
  public AuthorizationPolicySpec {
    rules = rules == null ? List.of() : List.copyOf(rules);
  }

  public enum Action {
    ALLOW,
    DENY
  }

  /** All present fields must match (AND); within each list, any entry may match (OR). */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record Rule(List<Source> from, List<Operation> to, List<Condition> when) {
    public Rule {
      from = from == null ? List.of() : List.copyOf(from);
      to = to == null ? List.of() : List.copyOf(to);
      when = when == null ? List.of() : List.copyOf(when);
    }
  }

  /** Caller: SPIFFE principals (exact, or a trailing {@code *}) or namespaces. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record Source(List<String> principals, List<String> namespaces) {
    public Source {
      principals = principals == null ? List.of() : List.copyOf(principals);
      namespaces = namespaces == null ? List.of() : List.copyOf(namespaces);
    }
  }

  /** Callee: fully qualified gRPC services ({@code pkg.Service}) and method names. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record Operation(List<String> services, List<String> methods) {
    public Operation {
      services = services == null ? List.of() : List.copyOf(services);
      methods = methods == null ? List.of() : List.copyOf(methods);
    }
  }

  /** A request header that must carry one of {@code values}. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record Condition(String header, List<String> values) {
    public Condition {
      values = values == null ? List.of() : List.copyOf(values);
    }
  }
}
