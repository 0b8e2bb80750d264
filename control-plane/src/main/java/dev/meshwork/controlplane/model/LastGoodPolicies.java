package dev.meshwork.controlplane.model;

import io.fabric8.kubernetes.api.model.HasMetadata;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.Function;
import javax.annotation.concurrent.NotThreadSafe;

/**
 * The policies of one kind that are in force, and why: each valid policy as it is, and for a policy
 * that turned bad the last version that was valid. A policy that was never valid is not applied, so
 * the next less specific level decides for what it would have covered. "The same policy" is the
 * same namespace, name and uid: a policy deleted and created again under its name starts with no
 * last good version.
 *
 * <p>Stateful; confined to the model thread, like {@link MeshModelBuilder}.
 *
 * @param <T> the policy's Java type
 */
@NotThreadSafe
final class LastGoodPolicies<T extends HasMetadata> {
  private final String kind;
  private final Function<T, List<String>> validator;
  private final RejectionLog rejections;
  private final Map<String, T> lastGood = new HashMap<>();

  /**
   * @param kind the CRD kind, for reports and logs
   * @param validator every problem of a policy, each naming its field; empty when valid
   */
  LastGoodPolicies(String kind, Function<T, List<String>> validator, RejectionLog rejections) {
    this.kind = kind;
    this.validator = validator;
    this.rejections = rejections;
  }

  /** The policies in force (sorted by namespace and name) and a verdict for each one seen. */
  record Judged<T>(List<T> inForce, List<PolicyReport> reports) {}

  /**
   * Judges the current policies of this kind.
   *
   * @param current the policies the source read
   * @param unreadable objects of any kind the source could not read; those of this kind count as
   *     invalid
   */
  Judged<T> judge(List<T> current, List<UnreadableObject> unreadable) {
    List<PolicyReport> reports = new ArrayList<>();
    Set<String> present = new HashSet<>();
    for (T policy : current) {
      String key = key(policy.getMetadata().getNamespace(), policy.getMetadata().getName());
      present.add(key);
      List<String> problems = validator.apply(policy);
      if (problems.isEmpty()) {
        lastGood.put(key, policy);
        rejections.accepted(kind, key);
      } else {
        forgetIfReplaced(key, policy.getMetadata().getUid());
        rejections.rejected(
            kind,
            key,
            policy.getMetadata().getGeneration(),
            String.join("; ", problems),
            lastGood.containsKey(key));
      }
      reports.add(
          report(
              policy.getMetadata().getNamespace(),
              policy.getMetadata().getName(),
              MeshModelBuilder.generationOf(policy),
              problems,
              lastGood.containsKey(key)));
    }
    for (UnreadableObject u : unreadable) {
      if (!kind.equals(u.kind())) {
        continue;
      }
      String key = key(u.namespace(), u.name());
      present.add(key);
      forgetIfReplaced(key, u.uid());
      List<String> problems = List.of("spec cannot be read: " + u.error());
      rejections.rejected(
          kind,
          key,
          u.generation() == 0 ? null : u.generation(),
          problems.getFirst(),
          lastGood.containsKey(key));
      reports.add(
          report(u.namespace(), u.name(), u.generation(), problems, lastGood.containsKey(key)));
    }
    lastGood.keySet().retainAll(present);
    rejections.retain(kind, present);
    List<T> inForce = new ArrayList<>(lastGood.values());
    inForce.sort(
        Comparator.comparing((T p) -> p.getMetadata().getNamespace())
            .thenComparing(p -> p.getMetadata().getName()));
    reports.sort(Comparator.comparing(PolicyReport::namespace).thenComparing(PolicyReport::name));
    return new Judged<>(inForce, reports);
  }

  /** A bad version of a different object (new uid) has no last good version to fall back on. */
  private void forgetIfReplaced(String key, String uid) {
    T previous = lastGood.get(key);
    if (previous != null && !Objects.equals(previous.getMetadata().getUid(), uid)) {
      lastGood.remove(key);
    }
  }

  private PolicyReport report(
      String namespace, String name, long generation, List<String> problems, boolean inForce) {
    return problems.isEmpty()
        ? new PolicyReport(
            kind, namespace, name, generation, true, PolicyReport.ACCEPTED, "", inForce)
        : new PolicyReport(
            kind,
            namespace,
            name,
            generation,
            false,
            PolicyReport.INVALID,
            String.join("; ", problems)
                + (inForce
                    ? " (the last good version stays in force)"
                    : " (no earlier valid version: not applied)"),
            inForce);
  }

  private static String key(String namespace, String name) {
    return namespace + "/" + name;
  }
}
