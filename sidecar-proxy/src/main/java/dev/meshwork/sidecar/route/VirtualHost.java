package dev.meshwork.sidecar.route;

import java.util.List;

/** A set of domains (authorities) and the routes tried in order for them. */
public record VirtualHost(String name, List<String> domains, List<Route> routes) {
  public VirtualHost {
    domains = List.copyOf(domains);
    routes = List.copyOf(routes);
  }

  /** Envoy's domain rules, simplified: exact, {@code *}, {@code *.suffix} and {@code prefix*}. */
  public boolean matchesDomain(String authority) {
    for (String d : domains) {
      if (d.equals("*") || d.equalsIgnoreCase(authority)) {
        return true;
      }
      if (d.startsWith("*") && authority.toLowerCase().endsWith(d.substring(1).toLowerCase())) {
        return true;
      }
      if (d.endsWith("*")
          && authority.toLowerCase().startsWith(d.substring(0, d.length() - 1).toLowerCase())) {
        return true;
      }
    }
    return false;
  }
}
