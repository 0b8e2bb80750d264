package dev.meshwork.controlplane.translate;

import dev.meshwork.api.networking.v1alpha1.TrafficPolicySpec;
import dev.meshwork.controlplane.model.AttachedRoute;
import dev.meshwork.controlplane.model.MeshModel;
import dev.meshwork.controlplane.model.MeshService;
import dev.meshwork.controlplane.model.ServiceKey;
import dev.meshwork.controlplane.model.ServicePort;
import io.envoyproxy.envoy.config.core.v3.HeaderValue;
import io.envoyproxy.envoy.config.core.v3.HeaderValueOption;
import io.envoyproxy.envoy.config.core.v3.RuntimeFractionalPercent;
import io.envoyproxy.envoy.config.route.v3.HeaderMatcher;
import io.envoyproxy.envoy.config.route.v3.RetryPolicy;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.RouteAction;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.RouteMatch;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import io.envoyproxy.envoy.config.route.v3.WeightedCluster;
import io.envoyproxy.envoy.type.matcher.v3.RegexMatcher;
import io.envoyproxy.envoy.type.matcher.v3.StringMatcher;
import io.envoyproxy.envoy.type.v3.FractionalPercent;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.GRPCBackendRef;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.GRPCHeaderMatch;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.GRPCMethodMatch;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.GRPCRouteFilter;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.GRPCRouteMatch;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.GRPCRouteRule;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPHeaderFilter;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRequestMirrorFilter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * RDS: one {@link RouteConfiguration} per Service port, named like its outbound listener. GRPCRoute
 * rules become envoy routes in Gateway API precedence order; the last route sends everything else
 * to the Service itself. Pure.
 *
 * <p>Precedence (Gateway API GRPCRoute spec), highest first, per match: characters of the longest
 * non-wildcard hostname, characters of the longest hostname, characters of the service, characters
 * of the method, number of header matches; then the older route, then {@code namespace/name}
 * alphabetically, then rule and match order inside the route.
 */
public final class RouteTranslator {
  private RouteTranslator() {}

  /** Route configurations for every Service port of the mesh; the same for every proxy. */
  public static List<RouteConfiguration> translate(MeshModel model, ProxyKey proxy) {
    return shared(model);
  }

  static List<RouteConfiguration> shared(MeshModel model) {
    List<RouteConfiguration> out = new ArrayList<>();
    for (MeshService svc : model.services().values()) {
      for (ServicePort port : svc.ports()) {
        out.add(routeConfiguration(model, svc, port.port()));
      }
    }
    return out;
  }

  /** The route configuration of one Service port. */
  public static RouteConfiguration routeConfiguration(MeshModel model, MeshService svc, int port) {
    ServiceKey key = svc.key();
    String name = Names.outboundListener(key, port);
    List<AttachedRoute> attached = model.routesFor(key, port);

    Set<String> domains = new LinkedHashSet<>();
    for (AttachedRoute r : attached) {
      if (r.route().getSpec().getHostnames() != null) {
        domains.addAll(r.route().getSpec().getHostnames());
      }
    }
    for (String host :
        List.of(
            key.name(),
            key.name() + "." + key.namespace(),
            key.name() + "." + key.namespace() + ".svc",
            key.fqdn())) {
      domains.add(host);
      domains.add(host + ":" + port);
    }
    // Without cluster DNS a client dials the ClusterIP, so that is the call's :authority.
    for (String ip : svc.clusterIps()) {
      String host = ip.indexOf(':') >= 0 ? "[" + ip + "]" : ip;
      domains.add(host + ":" + port);
      domains.add(host);
    }

    List<Candidate> candidates = new ArrayList<>();
    for (AttachedRoute r : attached) {
      List<GRPCRouteRule> rules =
          r.route().getSpec().getRules() == null ? List.of() : r.route().getSpec().getRules();
      for (int i = 0; i < rules.size(); i++) {
        GRPCRouteRule rule = rules.get(i);
        List<GRPCRouteMatch> matches =
            rule.getMatches() == null || rule.getMatches().isEmpty()
                ? java.util.Collections.singletonList(null)
                : rule.getMatches();
        for (int j = 0; j < matches.size(); j++) {
          candidates.add(new Candidate(r, i, rule, j, matches.get(j)));
        }
      }
    }
    candidates.sort(PRECEDENCE);

    VirtualHost.Builder vhost = VirtualHost.newBuilder().setName(name).addAllDomains(domains);
    for (Candidate c : candidates) {
      Optional<RouteAction.Builder> action = action(model, svc, port, c);
      if (action.isEmpty()) {
        continue; // every backend vanished since the route was accepted; the default applies
      }
      Route.Builder route =
          Route.newBuilder()
              .setName(
                  c.route.namespace()
                      + "/"
                      + c.route.name()
                      + "/rule-"
                      + c.ruleIndex
                      + "/match-"
                      + c.matchIndex)
              .setMatch(match(c.match))
              .setRoute(action.get());
      applyHeaderFilters(route, c.rule.getFilters());
      vhost.addRoutes(route);
    }
    vhost.addRoutes(
        Route.newBuilder()
            .setName("default")
            .setMatch(RouteMatch.newBuilder().setPrefix("/"))
            .setRoute(
                withPolicy(
                    RouteAction.newBuilder().setCluster(Names.outboundCluster(key, port)),
                    TrafficPolicies.forService(model, key))));
    return RouteConfiguration.newBuilder().setName(name).addVirtualHosts(vhost).build();
  }

  private record Candidate(
      AttachedRoute route,
      int ruleIndex,
      GRPCRouteRule rule,
      int matchIndex,
      GRPCRouteMatch match) {
    int nonWildcardHost() {
      return hosts().stream()
          .filter(h -> !h.startsWith("*"))
          .mapToInt(String::length)
          .max()
          .orElse(0);
    }

    int anyHost() {
      return hosts().stream().mapToInt(String::length).max().orElse(0);
    }

    List<String> hosts() {
      List<String> h = route.route().getSpec().getHostnames();
      return h == null ? List.of() : h;
    }

    int serviceChars() {
      GRPCMethodMatch m = match == null ? null : match.getMethod();
      return m == null || m.getService() == null ? 0 : m.getService().length();
    }

    int methodChars() {
      GRPCMethodMatch m = match == null ? null : match.getMethod();
      return m == null || m.getMethod() == null ? 0 : m.getMethod().length();
    }

    int headerCount() {
      return match == null || match.getHeaders() == null ? 0 : match.getHeaders().size();
    }

    String created() {
      String ts = route.route().getMetadata().getCreationTimestamp();
      return ts == null ? "" : ts;
    }
  }

  static final Comparator<Candidate> PRECEDENCE =
      Comparator.comparingInt(Candidate::nonWildcardHost)
          .reversed()
          .thenComparing(Comparator.comparingInt(Candidate::anyHost).reversed())
          .thenComparing(Comparator.comparingInt(Candidate::serviceChars).reversed())
          .thenComparing(Comparator.comparingInt(Candidate::methodChars).reversed())
          .thenComparing(Comparator.comparingInt(Candidate::headerCount).reversed())
          // RFC 3339 timestamps of one format sort chronologically as strings.
          .thenComparing(Candidate::created)
          .thenComparing(c -> c.route.namespace() + "/" + c.route.name())
          .thenComparingInt(Candidate::ruleIndex)
          .thenComparingInt(Candidate::matchIndex);

  /** The envoy match of one GRPCRoute match (null = the rule had no matches: everything). */
  static RouteMatch match(GRPCRouteMatch match) {
    RouteMatch.Builder m = RouteMatch.newBuilder();
    GRPCMethodMatch method = match == null ? null : match.getMethod();
    if (method == null) {
      m.setPrefix("/");
    } else {
      String service = blankToNull(method.getService());
      String name = blankToNull(method.getMethod());
      boolean regex = "RegularExpression".equals(method.getType());
      if (!regex && service != null && name != null) {
        m.setPath("/" + service + "/" + name);
      } else if (!regex && service != null) {
        m.setPrefix("/" + service + "/");
      } else if (!regex) {
        m.setSafeRegex(regex("/[^/]+/" + quote(name)));
      } else {
        String s = service == null ? "[^/]+" : "(?:" + service + ")";
        String n = name == null ? "[^/]+" : "(?:" + name + ")";
        m.setSafeRegex(regex("/" + s + "/" + n));
      }
    }
    if (match != null && match.getHeaders() != null) {
      for (GRPCHeaderMatch h : match.getHeaders()) {
        StringMatcher.Builder sm = StringMatcher.newBuilder();
        if ("RegularExpression".equals(h.getType())) {
          sm.setSafeRegex(regex(h.getValue()));
        } else {
          sm.setExact(h.getValue() == null ? "" : h.getValue());
        }
        // gRPC metadata keys are lower case; Gateway API header names are case-insensitive.
        m.addHeaders(
            HeaderMatcher.newBuilder()
                .setName(h.getName().toLowerCase(java.util.Locale.ROOT))
                .setStringMatch(sm));
      }
    }
    return m.build();
  }

  private static Optional<RouteAction.Builder> action(
      MeshModel model, MeshService parent, int port, Candidate c) {
    List<GRPCBackendRef> backends =
        c.rule.getBackendRefs() == null ? List.of() : c.rule.getBackendRefs();
    RouteAction.Builder action = RouteAction.newBuilder();
    if (backends.isEmpty()) {
      // A rule without backends sends to its parent Service (GAMMA: the Service's own backends).
      action.setCluster(Names.outboundCluster(parent.key(), port));
    } else {
      WeightedCluster.Builder wc = WeightedCluster.newBuilder();
      boolean needsWeighted = false;
      for (GRPCBackendRef b : backends) {
        int weight = b.getWeight() == null ? 1 : b.getWeight();
        ServiceKey target = new ServiceKey(c.route.namespace(), b.getName());
        if (weight <= 0
            || b.getPort() == null
            || model.service(target).flatMap(s -> s.port(b.getPort())).isEmpty()) {
          continue;
        }
        WeightedCluster.ClusterWeight.Builder cw =
            WeightedCluster.ClusterWeight.newBuilder()
                .setName(Names.outboundCluster(target, b.getPort()))
                .setWeight(com.google.protobuf.UInt32Value.of(weight));
        if (b.getFilters() != null && !b.getFilters().isEmpty()) {
          needsWeighted = true;
          for (GRPCRouteFilter f : b.getFilters()) {
            if (f.getRequestHeaderModifier() != null) {
              HTTPHeaderFilter hf = f.getRequestHeaderModifier();
              cw.addAllRequestHeadersToAdd(headerOptions(hf));
              if (hf.getRemove() != null) {
                cw.addAllRequestHeadersToRemove(lower(hf.getRemove()));
              }
            }
            if (f.getResponseHeaderModifier() != null) {
              HTTPHeaderFilter hf = f.getResponseHeaderModifier();
              cw.addAllResponseHeadersToAdd(headerOptions(hf));
              if (hf.getRemove() != null) {
                cw.addAllResponseHeadersToRemove(lower(hf.getRemove()));
              }
            }
          }
        }
        wc.addClusters(cw);
      }
      if (wc.getClustersCount() == 0) {
        return Optional.empty();
      }
      if (wc.getClustersCount() == 1 && !needsWeighted) {
        action.setCluster(wc.getClusters(0).getName());
      } else {
        action.setWeightedClusters(wc);
      }
    }
    if (c.rule.getFilters() != null) {
      for (GRPCRouteFilter f : c.rule.getFilters()) {
        if (f.getRequestMirror() != null) {
          mirror(model, c.route.namespace(), f.getRequestMirror())
              .ifPresent(action::addRequestMirrorPolicies);
        }
      }
    }
    Optional<TrafficPolicySpec> policy =
        TrafficPolicies.forTarget(model, c.route.namespace(), "GRPCRoute", c.route.name())
            .or(() -> TrafficPolicies.forService(model, parent.key()));
    return Optional.of(withPolicy(action, policy));
  }

  private static Optional<RouteAction.RequestMirrorPolicy> mirror(
      MeshModel model, String namespace, HTTPRequestMirrorFilter f) {
    if (f.getBackendRef() == null || f.getBackendRef().getPort() == null) {
      return Optional.empty();
    }
    ServiceKey target = new ServiceKey(namespace, f.getBackendRef().getName());
    if (model.service(target).flatMap(s -> s.port(f.getBackendRef().getPort())).isEmpty()) {
      return Optional.empty();
    }
    RouteAction.RequestMirrorPolicy.Builder p =
        RouteAction.RequestMirrorPolicy.newBuilder()
            .setCluster(Names.outboundCluster(target, f.getBackendRef().getPort()));
    FractionalPercent fraction = null;
    if (f.getPercent() != null) {
      fraction =
          FractionalPercent.newBuilder()
              .setNumerator(f.getPercent())
              .setDenominator(FractionalPercent.DenominatorType.HUNDRED)
              .build();
    } else if (f.getFraction() != null && f.getFraction().getNumerator() != null) {
      int den = f.getFraction().getDenominator() == null ? 100 : f.getFraction().getDenominator();
      fraction =
          FractionalPercent.newBuilder()
              .setNumerator((int) ((long) f.getFraction().getNumerator() * 1_000_000 / den))
              .setDenominator(FractionalPercent.DenominatorType.MILLION)
              .build();
    }
    if (fraction != null) {
      p.setRuntimeFraction(RuntimeFractionalPercent.newBuilder().setDefaultValue(fraction));
    }
    return Optional.of(p.build());
  }

  private static void applyHeaderFilters(Route.Builder route, List<GRPCRouteFilter> filters) {
    if (filters == null) {
      return;
    }
    for (GRPCRouteFilter f : filters) {
      if (f.getRequestHeaderModifier() != null) {
        route.addAllRequestHeadersToAdd(headerOptions(f.getRequestHeaderModifier()));
        if (f.getRequestHeaderModifier().getRemove() != null) {
          route.addAllRequestHeadersToRemove(lower(f.getRequestHeaderModifier().getRemove()));
        }
      }
      if (f.getResponseHeaderModifier() != null) {
        route.addAllResponseHeadersToAdd(headerOptions(f.getResponseHeaderModifier()));
        if (f.getResponseHeaderModifier().getRemove() != null) {
          route.addAllResponseHeadersToRemove(lower(f.getResponseHeaderModifier().getRemove()));
        }
      }
    }
  }

  /** {@code set} overwrites, {@code add} appends: the Gateway API meaning of each list. */
  private static List<HeaderValueOption> headerOptions(HTTPHeaderFilter f) {
    List<HeaderValueOption> out = new ArrayList<>();
    if (f.getSet() != null) {
      f.getSet()
          .forEach(
              h ->
                  out.add(
                      option(
                          h.getName(),
                          h.getValue(),
                          HeaderValueOption.HeaderAppendAction.OVERWRITE_IF_EXISTS_OR_ADD)));
    }
    if (f.getAdd() != null) {
      f.getAdd()
          .forEach(
              h ->
                  out.add(
                      option(
                          h.getName(),
                          h.getValue(),
                          HeaderValueOption.HeaderAppendAction.APPEND_IF_EXISTS_OR_ADD)));
    }
    return out;
  }

  private static HeaderValueOption option(
      String name, String value, HeaderValueOption.HeaderAppendAction action) {
    return HeaderValueOption.newBuilder()
        .setHeader(
            HeaderValue.newBuilder()
                .setKey(name.toLowerCase(java.util.Locale.ROOT))
                .setValue(value == null ? "" : value))
        .setAppendAction(action)
        .build();
  }

  private static RouteAction.Builder withPolicy(
      RouteAction.Builder action, Optional<TrafficPolicySpec> policy) {
    if (policy.isEmpty()) {
      return action;
    }
    TrafficPolicySpec p = policy.get();
    if (p.timeouts() != null && p.timeouts().request() != null) {
      try {
        action.setTimeout(Durations.parse(p.timeouts().request()));
      } catch (IllegalArgumentException e) {
        // Left unset: the TrafficPolicy's own validation reports it; routing keeps working.
      }
    }
    if (p.retries() != null && p.retries().attempts() != null && p.retries().attempts() > 0) {
      RetryPolicy.Builder retry =
          RetryPolicy.newBuilder()
              .setRetryOn(
                  p.retries().retryOn().isEmpty()
                      ? "unavailable"
                      : String.join(",", p.retries().retryOn()))
              .setNumRetries(com.google.protobuf.UInt32Value.of(p.retries().attempts()));
      if (p.retries().perTryTimeout() != null) {
        try {
          retry.setPerTryTimeout(Durations.parse(p.retries().perTryTimeout()));
        } catch (IllegalArgumentException e) {
          // as above
        }
      }
      action.setRetryPolicy(retry);
    }
    return action;
  }

  private static RegexMatcher regex(String re) {
    return RegexMatcher.newBuilder().setRegex(re).build();
  }

  /** Escapes RE2 metacharacters so a literal method name matches only itself. */
  static String quote(String literal) {
    StringBuilder sb = new StringBuilder();
    for (char ch : literal.toCharArray()) {
      if ("\\.+*?()|[]{}^$".indexOf(ch) >= 0) {
        sb.append('\\');
      }
      sb.append(ch);
    }
    return sb.toString();
  }

  private static List<String> lower(List<String> names) {
    return names.stream().map(n -> n.toLowerCase(java.util.Locale.ROOT)).toList();
  }

  private static String blankToNull(String s) {
    return s == null || s.isBlank() ? null : s;
  }
}
