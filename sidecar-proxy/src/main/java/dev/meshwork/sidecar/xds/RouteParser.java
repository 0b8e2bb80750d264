package dev.meshwork.sidecar.xds;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.meshwork.sidecar.route.HeaderMatcher;
import dev.meshwork.sidecar.route.HeaderMutations;
import dev.meshwork.sidecar.route.Route;
import dev.meshwork.sidecar.route.RouteMatch;
import dev.meshwork.sidecar.route.RouteTable;
import dev.meshwork.sidecar.route.VirtualHost;
import dev.meshwork.sidecar.route.WeightedCluster;
import io.envoyproxy.envoy.config.core.v3.HeaderValueOption;
import io.envoyproxy.envoy.config.route.v3.RouteAction;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.type.matcher.v3.StringMatcher;
import io.envoyproxy.envoy.type.v3.FractionalPercent;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * RDS: virtual hosts, routes in order, matches (path prefix / exact / safe_regex, headers), the
 * cluster or weighted clusters, header changes (virtual host then route), mirrors and timeout.
 * Anything it cannot honour is a NACK reason rather than a silently different route.
 */
public final class RouteParser implements ResourceParser<RouteTable> {

  @Override
  public String typeUrl() {
    return TypeUrls.ROUTE;
  }

  @Override
  public Parsed<RouteTable> parse(Any resource) {
    RouteConfiguration rc;
    try {
      rc = resource.unpack(RouteConfiguration.class);
    } catch (InvalidProtocolBufferException e) {
      return Parsed.error("?", List.of("not a RouteConfiguration: " + e.getMessage()));
    }
    String name = rc.getName();
    List<String> errors = new ArrayList<>();
    List<VirtualHost> hosts = new ArrayList<>();
    for (var vh : rc.getVirtualHostsList()) {
      String where = "virtual host '" + vh.getName() + "'";
      if (vh.getDomainsCount() == 0) {
        errors.add(where + " has no domains");
      }
      List<Route> routes = new ArrayList<>();
      int i = 0;
      for (var r : vh.getRoutesList()) {
        String rname = r.getName().isEmpty() ? vh.getName() + "#" + i : r.getName();
        i++;
        Route parsed = parseRoute(rname, r, vh, errors);
        if (parsed != null) {
          routes.add(parsed);
        }
      }
      hosts.add(new VirtualHost(vh.getName(), vh.getDomainsList(), routes));
    }
    if (!errors.isEmpty()) {
      return Parsed.error(name, errors);
    }
    return Parsed.ok(name, new RouteTable(name, hosts));
  }

  private static Route parseRoute(
      String name,
      io.envoyproxy.envoy.config.route.v3.Route r,
      io.envoyproxy.envoy.config.route.v3.VirtualHost vh,
      List<String> errors) {
    String where = "route '" + name + "'";
    int before = errors.size();
    RouteMatch match = parseMatch(where, r.getMatch(), errors);
    if (!r.hasRoute()) {
      errors.add(where + " has action " + r.getActionCase() + "; only route actions are supported");
      return null;
    }
    RouteAction a = r.getRoute();
    List<WeightedCluster> clusters = new ArrayList<>();
    switch (a.getClusterSpecifierCase()) {
      case CLUSTER -> clusters.add(new WeightedCluster(a.getCluster(), 1));
      case WEIGHTED_CLUSTERS -> {
        for (var cw : a.getWeightedClusters().getClustersList()) {
          int w = cw.hasWeight() ? cw.getWeight().getValue() : 0;
          if (cw.getName().isEmpty()) {
            errors.add(where + " has a weighted cluster without a name");
          } else if (w > 0) {
            clusters.add(new WeightedCluster(cw.getName(), w));
          }
        }
        if (clusters.isEmpty()) {
          errors.add(where + " has no weighted cluster with a positive weight");
        }
      }
      default ->
          errors.add(
              where
                  + " has cluster specifier "
                  + a.getClusterSpecifierCase()
                  + "; only cluster and weighted_clusters are supported");
    }
    List<Route.Mirror> mirrors = new ArrayList<>();
    for (var m : a.getRequestMirrorPoliciesList()) {
      double pct = 100;
      if (m.hasRuntimeFraction()) {
        FractionalPercent f = m.getRuntimeFraction().getDefaultValue();
        double denom =
            switch (f.getDenominator()) {
              case TEN_THOUSAND -> 10_000;
              case MILLION -> 1_000_000;
              default -> 100;
            };
        pct = 100.0 * f.getNumerator() / denom;
      }
      if (m.getCluster().isEmpty()) {
        errors.add(where + " has a mirror policy without a cluster");
      } else {
        mirrors.add(new Route.Mirror(m.getCluster(), pct));
      }
    }
    Duration timeout = null;
    if (a.hasTimeout() && (a.getTimeout().getSeconds() > 0 || a.getTimeout().getNanos() > 0)) {
      timeout = Duration.ofSeconds(a.getTimeout().getSeconds(), a.getTimeout().getNanos());
    }
    List<HeaderMutations.Header> reqAdd = new ArrayList<>();
    List<HeaderMutations.Header> respAdd = new ArrayList<>();
    addHeaders(vh.getRequestHeadersToAddList(), reqAdd, where, errors);
    addHeaders(r.getRequestHeadersToAddList(), reqAdd, where, errors);
    addHeaders(vh.getResponseHeadersToAddList(), respAdd, where, errors);
    addHeaders(r.getResponseHeadersToAddList(), respAdd, where, errors);
    List<String> reqRemove = new ArrayList<>();
    vh.getRequestHeadersToRemoveList().forEach(h -> reqRemove.add(h.toLowerCase(Locale.ROOT)));
    r.getRequestHeadersToRemoveList().forEach(h -> reqRemove.add(h.toLowerCase(Locale.ROOT)));
    List<String> respRemove = new ArrayList<>();
    vh.getResponseHeadersToRemoveList().forEach(h -> respRemove.add(h.toLowerCase(Locale.ROOT)));
    r.getResponseHeadersToRemoveList().forEach(h -> respRemove.add(h.toLowerCase(Locale.ROOT)));
    if (errors.size() > before || match == null) {
      return null;
    }
    return new Route(
        name,
        match,
        clusters,
        new HeaderMutations(reqAdd, reqRemove, respAdd, respRemove),
        mirrors,
        timeout);
  }

  private static void addHeaders(
      List<HeaderValueOption> in,
      List<HeaderMutations.Header> out,
      String where,
      List<String> errors) {
    for (HeaderValueOption o : in) {
      String key = o.getHeader().getKey().toLowerCase(Locale.ROOT);
      if (key.isEmpty() || key.startsWith(":") || key.equals("host")) {
        errors.add(where + " may not set header '" + key + "'");
        continue;
      }
      boolean append =
          o.hasAppend()
              ? o.getAppend().getValue()
              : o.getAppendAction() == HeaderValueOption.HeaderAppendAction.APPEND_IF_EXISTS_OR_ADD;
      out.add(new HeaderMutations.Header(key, o.getHeader().getValue(), append));
    }
  }

  private static RouteMatch parseMatch(
      String where, io.envoyproxy.envoy.config.route.v3.RouteMatch m, List<String> errors) {
    boolean cs = !m.hasCaseSensitive() || m.getCaseSensitive().getValue();
    RouteMatch.PathKind kind;
    String path = "";
    Pattern regex = null;
    switch (m.getPathSpecifierCase()) {
      case PREFIX -> {
        kind = RouteMatch.PathKind.PREFIX;
        path = m.getPrefix();
      }
      case PATH -> {
        kind = RouteMatch.PathKind.EXACT;
        path = m.getPath();
      }
      case SAFE_REGEX -> {
        kind = RouteMatch.PathKind.REGEX;
        regex = compile(where, m.getSafeRegex().getRegex(), errors);
      }
      default -> {
        errors.add(
            where
                + " has path specifier "
                + m.getPathSpecifierCase()
                + "; need prefix, path or safe_regex");
        return null;
      }
    }
    if (m.hasRuntimeFraction()
        || m.getQueryParametersCount() > 0
        || m.hasGrpc()
        || m.hasTlsContext()) {
      errors.add(
          where
              + " uses match fields this proxy does not support (runtime_fraction, query_parameters, grpc, tls_context)");
    }
    List<HeaderMatcher> headers = new ArrayList<>();
    for (var h : m.getHeadersList()) {
      HeaderMatcher hm = parseHeader(where, h, errors);
      if (hm != null) {
        headers.add(hm);
      }
    }
    return new RouteMatch(kind, path, regex, cs, headers);
  }

  @SuppressWarnings("deprecation") // exact_match etc. are deprecated but still sent by some planes
  private static HeaderMatcher parseHeader(
      String where, io.envoyproxy.envoy.config.route.v3.HeaderMatcher h, List<String> errors) {
    String name = h.getName().toLowerCase(Locale.ROOT);
    boolean inv = h.getInvertMatch();
    return switch (h.getHeaderMatchSpecifierCase()) {
      case EXACT_MATCH ->
          new HeaderMatcher(name, HeaderMatcher.Kind.EXACT, h.getExactMatch(), null, inv);
      case PREFIX_MATCH ->
          new HeaderMatcher(name, HeaderMatcher.Kind.PREFIX, h.getPrefixMatch(), null, inv);
      case SUFFIX_MATCH ->
          new HeaderMatcher(name, HeaderMatcher.Kind.SUFFIX, h.getSuffixMatch(), null, inv);
      case CONTAINS_MATCH ->
          new HeaderMatcher(name, HeaderMatcher.Kind.CONTAINS, h.getContainsMatch(), null, inv);
      case PRESENT_MATCH ->
          new HeaderMatcher(
              name, HeaderMatcher.Kind.PRESENT, "", null, inv != !h.getPresentMatch());
      case SAFE_REGEX_MATCH -> {
        Pattern p = compile(where, h.getSafeRegexMatch().getRegex(), errors);
        yield p == null ? null : new HeaderMatcher(name, HeaderMatcher.Kind.REGEX, "", p, inv);
      }
      case STRING_MATCH -> fromStringMatcher(where, name, h.getStringMatch(), inv, errors);
      default -> {
        errors.add(
            where
                + " header '"
                + name
                + "' uses unsupported matcher "
                + h.getHeaderMatchSpecifierCase());
        yield null;
      }
    };
  }

  private static HeaderMatcher fromStringMatcher(
      String where, String name, StringMatcher s, boolean inv, List<String> errors) {
    if (s.getIgnoreCase()) {
      errors.add(where + " header '" + name + "' uses ignore_case, which is not supported");
      return null;
    }
    return switch (s.getMatchPatternCase()) {
      case EXACT -> new HeaderMatcher(name, HeaderMatcher.Kind.EXACT, s.getExact(), null, inv);
      case PREFIX -> new HeaderMatcher(name, HeaderMatcher.Kind.PREFIX, s.getPrefix(), null, inv);
      case SUFFIX -> new HeaderMatcher(name, HeaderMatcher.Kind.SUFFIX, s.getSuffix(), null, inv);
      case CONTAINS ->
          new HeaderMatcher(name, HeaderMatcher.Kind.CONTAINS, s.getContains(), null, inv);
      case SAFE_REGEX -> {
        Pattern p = compile(where, s.getSafeRegex().getRegex(), errors);
        yield p == null ? null : new HeaderMatcher(name, HeaderMatcher.Kind.REGEX, "", p, inv);
      }
      default -> {
        errors.add(where + " header '" + name + "' has an empty string matcher");
        yield null;
      }
    };
  }

  private static Pattern compile(String where, String regex, List<String> errors) {
    try {
      return Pattern.compile(regex);
    } catch (PatternSyntaxException e) {
      errors.add(where + " has an invalid regex '" + regex + "': " + e.getDescription());
      return null;
    }
  }
}
