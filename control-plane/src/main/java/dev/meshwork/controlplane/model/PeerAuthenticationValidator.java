package dev.meshwork.controlplane.model;

import dev.meshwork.api.WorkloadSelector;
import dev.meshwork.api.security.v1alpha1.PeerAuthentication;
import dev.meshwork.api.security.v1alpha1.PeerAuthenticationSpec;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * Checks one PeerAuthentication for what the CRD schema lets through but Istio's validation refuses
 * (and a YAML folder has no schema at all), and names the field of each problem. Pure.
 *
 * <p>Rules (Istio's {@code ValidatePeerAuthentication} and workload selector checks):
 *
 * <ul>
 *   <li>a {@code portLevelMtls} key is a port number 1..65535, written without leading zeros: the
 *       translator looks a port up by its decimal form, so {@code "080"} would be accepted and
 *       never match (Istio reads it as port 80);
 *   <li>{@code portLevelMtls} needs a selector with at least one label: ports belong to a workload,
 *       and a namespace- or mesh-wide policy has none ("mesh/namespace peer authentication cannot
 *       have port level mTLS" in Istio);
 *   <li>selector labels are not wildcards and keys are not empty (Istio), and are valid Kubernetes
 *       label keys and values (stricter than Istio): a label no pod can carry would select nothing,
 *       silently.
 * </ul>
 *
 * <p>Not problems, as in Istio: an empty spec or {@code mode: UNSET} (inherit); {@code selector:
 * {}} (same as no selector); a policy with a selector in {@code meshwork-system} (it selects
 * workloads of that namespace, it is not mesh-wide). An unknown mode never gets here: the CRD's
 * enum refuses it, and a file with one does not parse (it is reported as unreadable). Accepted,
 * unlike Istio: {@code portLevelMtls: {}} (Istio: "must have at least one element"); the model
 * cannot tell it from an absent map, and it changes nothing.
 */
final class PeerAuthenticationValidator {
  private PeerAuthenticationValidator() {}

  // Kubernetes label syntax (apimachinery validation.IsQualifiedName / IsValidLabelValue).
  private static final Pattern NAME = Pattern.compile("([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)");
  private static final Pattern DNS_SUBDOMAIN =
      Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*");

  /** Every problem of the policy, each naming its field; empty when it is valid. */
  static List<String> problems(PeerAuthentication policy) {
    PeerAuthenticationSpec spec = policy.getSpec();
    if (spec == null) {
      return List.of(); // an empty policy inherits everything
    }
    List<String> problems = new ArrayList<>();
    WorkloadSelector selector = spec.selector();
    if (selector != null) {
      // Sorted, so the message is the same on every build.
      new TreeMap<>(selector.matchLabels())
          .forEach((k, v) -> checkLabel("spec.selector.matchLabels", k, v, problems));
    }
    Map<String, PeerAuthenticationSpec.MutualTls> ports = spec.portLevelMtls();
    if (!ports.isEmpty() && (selector == null || selector.matchLabels().isEmpty())) {
      problems.add(
          "spec.portLevelMtls needs a spec.selector with at least one label: ports belong to a"
              + " workload, and a namespace- or mesh-wide policy selects none");
    }
    for (String port : new TreeMap<>(ports).keySet()) {
      if (!isPortNumber(port)) {
        problems.add(
            "spec.portLevelMtls[\""
                + port
                + "\"]: the key must be a port number 1..65535, without leading zeros");
      }
    }
    return List.copyOf(problems);
  }

  static boolean isPortNumber(String key) {
    if (key == null || !key.matches("[1-9][0-9]{0,4}")) {
      return false;
    }
    int port = Integer.parseInt(key);
    return port >= 1 && port <= 65535;
  }

  private static void checkLabel(String field, String key, String value, List<String> problems) {
    String where = field + "[\"" + key + "\"]";
    if (key.contains("*") || value.contains("*")) {
      problems.add(where + ": wildcards are not supported in a selector");
      return;
    }
    if (!isLabelKey(key)) {
      problems.add(
          where
              + ": not a valid label key (an optional DNS subdomain prefix and '/', then up to 63"
              + " alphanumerics, '-', '_' or '.', starting and ending alphanumeric)");
    }
    if (!value.isEmpty() && (value.length() > 63 || !NAME.matcher(value).matches())) {
      problems.add(
          where
              + ": value \""
              + value
              + "\" is not a valid label value (up to 63 alphanumerics, '-', '_' or '.',"
              + " starting and ending alphanumeric)");
    }
  }

  private static boolean isLabelKey(String key) {
    int slash = key.indexOf('/');
    String name = slash < 0 ? key : key.substring(slash + 1);
    if (slash >= 0) {
      String prefix = key.substring(0, slash);
      if (prefix.isEmpty() || prefix.length() > 253 || !DNS_SUBDOMAIN.matcher(prefix).matches()) {
        return false;
      }
    }
    return !name.isEmpty() && name.length() <= 63 && NAME.matcher(name).matches();
  }
}
