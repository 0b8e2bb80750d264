package dev.meshwork.controlplane.model;

import dev.meshwork.controlplane.model.RouteReport.ParentReport;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.BackendObjectReference;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.GRPCBackendRef;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.GRPCHeaderMatch;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.GRPCMethodMatch;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.GRPCRoute;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.GRPCRouteFilter;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.GRPCRouteMatch;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.GRPCRouteRule;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.ParentReference;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * Checks one GRPCRoute against the Gateway API rules and the Services that exist, and says per
 * parent what is wrong using the Gateway API condition reasons. Pure.
 */
final class RouteValidator {
  static final String GATEWAY_GROUP = "gateway.networking.k8s.io";

  /** Gateway API reasons this control plane uses. */
  static final String ACCEPTED = "Accepted";

  static final String RESOLVED_REFS = "ResolvedRefs";
  static final String NO_MATCHING_PARENT = "NoMatchingParent";
  static final String UNSUPPORTED_VALUE = "UnsupportedValue";
  static final String BACKEND_NOT_FOUND = "BackendNotFound";
  static final String INVALID_KIND = "InvalidKind";
  static final String REF_NOT_PERMITTED = "RefNotPermitted";

  /**
   * @param parents one report per parent this control plane owns
   * @param attachments the Services the route attaches to (when valid)
   */
  record Outcome(List<ParentReport> parents, List<AttachedRoute.Parent> attachments) {
    boolean valid() {
      return !parents.isEmpty()
          && parents.stream().allMatch(p -> p.accepted().status() && p.resolvedRefs().status());
    }
  }

  Outcome validate(GRPCRoute route, Map<ServiceKey, MeshService> services) {
    String ns =
        route.getMetadata().getNamespace() == null ? "default" : route.getMetadata().getNamespace();
    List<String> specProblems = new ArrayList<>();
    List<String> refProblems = new ArrayList<>();
    String refReason = RESOLVED_REFS;
    List<GRPCRouteRule> rules =
        route.getSpec() == null || route.getSpec().getRules() == null
            ? List.of()
            : route.getSpec().getRules();
    for (int i = 0; i < rules.size(); i++) {
      GRPCRouteRule rule = rules.get(i);
      String where = "rules[" + i + "]";
      if (rule.getMatches() != null) {
        for (int j = 0; j < rule.getMatches().size(); j++) {
          checkMatch(rule.getMatches().get(j), where + ".matches[" + j + "]", specProblems);
        }
      }
      List<GRPCRouteFilter> filters = rule.getFilters() == null ? List.of() : rule.getFilters();
      for (GRPCRouteFilter f : filters) {
        String problem = checkFilter(f, where);
        if (problem != null) {
          specProblems.add(problem);
        } else if (f.getRequestMirror() != null) {
          String[] ref = checkBackend(toRef(f.getRequestMirror().getBackendRef()), ns, services);
          if (ref != null) {
            refReason = ref[0];
            refProblems.add(where + ".filters.requestMirror: " + ref[1]);
          }
        }
      }
      List<GRPCBackendRef> backends =
          rule.getBackendRefs() == null ? List.of() : rule.getBackendRefs();
      int totalWeight = 0;
      for (int b = 0; b < backends.size(); b++) {
        GRPCBackendRef br = backends.get(b);
        Integer w = br.getWeight();
        if (w != null && (w < 0 || w > 1_000_000)) {
          specProblems.add(
              where + ".backendRefs[" + b + "].weight " + w + " is outside 0..1000000");
        }
        totalWeight += w == null ? 1 : Math.max(0, w);
        String[] ref =
            checkBackend(
                new BackendObjectReference(
                    br.getGroup(), br.getKind(), br.getName(), br.getNamespace(), br.getPort()),
                ns,
                services);
        if (ref != null) {
          refReason = ref[0];
          refProblems.add(where + ".backendRefs[" + b + "]: " + ref[1]);
        }
        if (br.getFilters() != null) {
          for (GRPCRouteFilter f : br.getFilters()) {
            String problem = checkFilter(f, where + ".backendRefs[" + b + "]");
            if (problem != null) {
              specProblems.add(problem);
            }
          }
        }
      }
      if (!backends.isEmpty() && totalWeight == 0) {
        specProblems.add(where + ": every backendRef has weight 0, the rule would send nothing");
      }
    }

    List<ParentReport> parents = new ArrayList<>();
    List<AttachedRoute.Parent> attachments = new ArrayList<>();
    List<ParentReference> refs =
        route.getSpec() == null || route.getSpec().getParentRefs() == null
            ? List.of()
            : route.getSpec().getParentRefs();
    RouteReport.Verdict resolved =
        refProblems.isEmpty()
            ? RouteReport.Verdict.ok(RESOLVED_REFS)
            : RouteReport.Verdict.fail(refReason, String.join("; ", refProblems));
    for (ParentReference p : refs) {
      String group = p.getGroup() == null ? GATEWAY_GROUP : p.getGroup();
      String kind = p.getKind() == null ? "Gateway" : p.getKind();
      if (GATEWAY_GROUP.equals(group) && "Gateway".equals(kind)) {
        continue; // north-south: a gateway controller owns this parent's status
      }
      RouteReport.Verdict accepted;
      if (!(group.isEmpty() || "core".equals(group)) || !"Service".equals(kind)) {
        accepted =
            RouteReport.Verdict.fail(
                UNSUPPORTED_VALUE,
                "parentRef "
                    + group
                    + "/"
                    + kind
                    + " "
                    + p.getName()
                    + " is not supported: attach GRPCRoutes to a Service (group \"\", kind Service)");
      } else {
        String parentNs = p.getNamespace() == null ? ns : p.getNamespace();
        ServiceKey key = new ServiceKey(parentNs, p.getName());
        MeshService svc = services.get(key);
        if (!parentNs.equals(ns)) {
          accepted =
              RouteReport.Verdict.fail(
                  UNSUPPORTED_VALUE,
                  "consumer routes (parent Service in another namespace) are not supported yet");
        } else if (svc == null) {
          accepted = RouteReport.Verdict.fail(NO_MATCHING_PARENT, "Service " + key + " not found");
        } else if (p.getPort() != null && svc.port(p.getPort()).isEmpty()) {
          accepted =
              RouteReport.Verdict.fail(
                  NO_MATCHING_PARENT, "Service " + key + " has no port " + p.getPort());
        } else if (!specProblems.isEmpty()) {
          accepted = RouteReport.Verdict.fail(UNSUPPORTED_VALUE, String.join("; ", specProblems));
        } else {
          accepted = RouteReport.Verdict.ok(ACCEPTED);
          attachments.add(new AttachedRoute.Parent(key, p.getPort()));
        }
      }
      parents.add(new ParentReport(p, accepted, resolved));
    }
    return new Outcome(parents, attachments);
  }

  private static BackendObjectReference toRef(BackendObjectReference r) {
    return r;
  }

  /** Returns null when the reference resolves, else {reason, message}. */
  private static String[] checkBackend(
      BackendObjectReference ref, String ns, Map<ServiceKey, MeshService> services) {
    if (ref == null || ref.getName() == null) {
      return new String[] {BACKEND_NOT_FOUND, "backendRef has no name"};
    }
    String group = ref.getGroup() == null ? "" : ref.getGroup();
    String kind = ref.getKind() == null ? "Service" : ref.getKind();
    if (!(group.isEmpty() || "core".equals(group)) || !"Service".equals(kind)) {
      return new String[] {
        INVALID_KIND, "backend kind " + group + "/" + kind + " is not supported"
      };
    }
    String backendNs = ref.getNamespace() == null ? ns : ref.getNamespace();
    if (!backendNs.equals(ns)) {
      return new String[] {
        REF_NOT_PERMITTED,
        "backend in namespace " + backendNs + " needs a ReferenceGrant (unsupported)"
      };
    }
    ServiceKey key = new ServiceKey(backendNs, ref.getName());
    MeshService svc = services.get(key);
    if (svc == null) {
      return new String[] {BACKEND_NOT_FOUND, "Service " + key + " not found"};
    }
    if (ref.getPort() == null) {
      return new String[] {BACKEND_NOT_FOUND, "backendRef to Service " + key + " needs a port"};
    }
    if (svc.port(ref.getPort()).isEmpty()) {
      return new String[] {BACKEND_NOT_FOUND, "Service " + key + " has no port " + ref.getPort()};
    }
    return null;
  }

  private static void checkMatch(GRPCRouteMatch match, String where, List<String> problems) {
    GRPCMethodMatch m = match.getMethod();
    if (m != null) {
      String type = m.getType() == null ? "Exact" : m.getType();
      if (isBlank(m.getService()) && isBlank(m.getMethod())) {
        problems.add(where + ".method: one of service or method must be set");
      }
      switch (type) {
        case "Exact" -> {
          if ((m.getService() != null && m.getService().contains("/"))
              || (m.getMethod() != null && m.getMethod().contains("/"))) {
            problems.add(where + ".method: service and method must not contain '/'");
          }
        }
        case "RegularExpression" -> {
          checkRegex(m.getService(), where + ".method.service", problems);
          checkRegex(m.getMethod(), where + ".method.method", problems);
        }
        default -> problems.add(where + ".method.type " + type + " is not supported");
      }
    }
    if (match.getHeaders() != null) {
      for (GRPCHeaderMatch h : match.getHeaders()) {
        String type = h.getType() == null ? "Exact" : h.getType();
        if (isBlank(h.getName())) {
          problems.add(where + ".headers: a header match needs a name");
        }
        switch (type) {
          case "Exact" -> {}
          case "RegularExpression" ->
              checkRegex(h.getValue(), where + ".headers[" + h.getName() + "]", problems);
          default -> problems.add(where + ".headers type " + type + " is not supported");
        }
      }
    }
  }

  private static void checkRegex(String regex, String where, List<String> problems) {
    if (regex == null) {
      return;
    }
    try {
      // Proxies evaluate RE2; java.util.regex rejects the same malformed patterns (unbalanced
      // groups, dangling operators), and we refuse back-references, which RE2 lacks.
      Pattern.compile(regex);
      if (regex.matches(".*\\\\[1-9].*")) {
        problems.add(where + ": back-references are not supported by RE2: " + regex);
      }
    } catch (PatternSyntaxException e) {
      problems.add(where + ": invalid regular expression '" + regex + "': " + e.getDescription());
    }
  }

  private static String checkFilter(GRPCRouteFilter f, String where) {
    String type = f.getType();
    if (type == null) {
      return where + ".filters: a filter needs a type";
    }
    return switch (type) {
      case "RequestHeaderModifier" ->
          f.getRequestHeaderModifier() == null ? where + ": requestHeaderModifier missing" : null;
      case "ResponseHeaderModifier" ->
          f.getResponseHeaderModifier() == null ? where + ": responseHeaderModifier missing" : null;
      case "RequestMirror" ->
          f.getRequestMirror() == null ? where + ": requestMirror missing" : null;
      default -> where + ".filters type " + type + " is not supported";
    };
  }

  private static boolean isBlank(String s) {
    return s == null || s.isBlank();
  }
}
