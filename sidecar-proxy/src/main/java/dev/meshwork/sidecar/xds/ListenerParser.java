package dev.meshwork.sidecar.xds;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.meshwork.sidecar.config.InboundPolicy;
import dev.meshwork.sidecar.config.OutboundListener;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * LDS: outbound listeners must be {@code api_listener}s holding an {@code HttpConnectionManager}
 * that names its RDS config and ends with the router filter; the inbound listener's filter chains
 * give, per destination port, which transport protocols are accepted.
 */
public final class ListenerParser implements ResourceParser<ListenerResource> {
  static final String ROUTER_FILTER = "envoy.filters.http.router";

  @Override
  public String typeUrl() {
    return TypeUrls.LISTENER;
  }

  @Override
  public Parsed<ListenerResource> parse(Any resource) {
    Listener l;
    try {
      l = resource.unpack(Listener.class);
    } catch (InvalidProtocolBufferException e) {
      return Parsed.error("?", List.of("not a Listener: " + e.getMessage()));
    }
    String name = l.getName();
    if (name.isEmpty()) {
      return Parsed.error("?", List.of("listener without a name"));
    }
    if (l.hasApiListener()) {
      return parseOutbound(name, l);
    }
    return parseInbound(name, l);
  }

  private static Parsed<ListenerResource> parseOutbound(String name, Listener l) {
    Any api = l.getApiListener().getApiListener();
    if (!api.getTypeUrl().equals(TypeUrls.HCM)) {
      return Parsed.error(
          name, List.of("api_listener is not an HttpConnectionManager: " + api.getTypeUrl()));
    }
    HttpConnectionManager hcm;
    try {
      hcm = api.unpack(HttpConnectionManager.class);
    } catch (InvalidProtocolBufferException e) {
      return Parsed.error(name, List.of("bad HttpConnectionManager: " + e.getMessage()));
    }
    List<String> errors = new ArrayList<>();
    if (!hcm.hasRds() || hcm.getRds().getRouteConfigName().isEmpty()) {
      errors.add(
          "HttpConnectionManager must name an RDS route_config_name (inline route_config is not supported)");
    }
    if (hcm.getHttpFiltersCount() == 0
        || !hcm.getHttpFilters(hcm.getHttpFiltersCount() - 1).getName().equals(ROUTER_FILTER)) {
      errors.add("the last http filter must be " + ROUTER_FILTER);
    }
    // The router is the only HTTP filter this proxy runs. Skipping one the control plane relies on
    // (authorization, fault injection...) would serve a different policy than asked: refuse it,
    // unless the control plane marked it optional.
    for (int i = 0; i < hcm.getHttpFiltersCount() - 1; i++) {
      HttpFilter f = hcm.getHttpFilters(i);
      if (!f.getIsOptional()) {
        errors.add(
            "http filter '"
                + f.getName()
                + "' ("
                + (f.hasTypedConfig() ? f.getTypedConfig().getTypeUrl() : "no typed_config")
                + ") is not supported; only "
                + ROUTER_FILTER
                + " (others only when is_optional)");
      }
    }
    if (!errors.isEmpty()) {
      return Parsed.error(name, errors);
    }
    return Parsed.ok(
        name,
        new ListenerResource(new OutboundListener(name, hcm.getRds().getRouteConfigName()), null));
  }

  private static Parsed<ListenerResource> parseInbound(String name, Listener l) {
    List<String> errors = new ArrayList<>();
    Map<Integer, boolean[]> modes = new HashMap<>();
    for (FilterChain fc : l.getFilterChainsList()) {
      var m = fc.getFilterChainMatch();
      if (!m.hasDestinationPort()) {
        errors.add("filter chain '" + fc.getName() + "' has no destination_port");
        continue;
      }
      int port = m.getDestinationPort().getValue();
      if (port < 1 || port > 65535) {
        errors.add(
            "filter chain '" + fc.getName() + "' has destination_port out of range: " + port);
        continue;
      }
      String proto = m.getTransportProtocol();
      boolean[] mode = modes.computeIfAbsent(port, p -> new boolean[2]);
      switch (proto) {
        case "tls" -> mode[1] = true;
        case "raw_buffer", "" -> mode[0] = true;
        default ->
            errors.add(
                "filter chain '" + fc.getName() + "' has unknown transport_protocol " + proto);
      }
    }
    if (!errors.isEmpty()) {
      return Parsed.error(name, errors);
    }
    Map<Integer, InboundPolicy.PortMode> ports = new HashMap<>();
    modes.forEach((p, m) -> ports.put(p, new InboundPolicy.PortMode(m[0], m[1])));
    return Parsed.ok(name, new ListenerResource(null, new InboundPolicy(ports)));
  }
}
