package dev.meshwork.sidecar.admin;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import dev.meshwork.sidecar.cluster.ClusterConfig;
import dev.meshwork.sidecar.cluster.Endpoint;
import dev.meshwork.sidecar.config.SidecarSnapshot;
import dev.meshwork.sidecar.config.SnapshotHolder;
import dev.meshwork.sidecar.lb.EndpointLoad;
import dev.meshwork.sidecar.lb.LoadRegistry;
import dev.meshwork.sidecar.xds.XdsClient;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;

/**
 * The admin pages' content. {@code /config_dump}: the accepted xDS resources as proto JSON plus
 * versions and the last NACK; {@code /clusters}: every cluster's endpoints with health and load.
 */
public final class AdminPages {
  /**
   * The config dump's printer, built on first use: building its type registry initializes the
   * descriptors of most of the envoy API, a few hundred milliseconds of a cold start that the
   * readiness probe (also served from this class) must not wait for.
   */
  private static final class ConfigDumpPrinter {
    static final JsonFormat.Printer PRINTER =
        JsonFormat.printer()
            .usingTypeRegistry(
                JsonFormat.TypeRegistry.newBuilder()
                    .add(Listener.getDescriptor())
                    .add(HttpConnectionManager.getDescriptor())
                    .add(RouteConfiguration.getDescriptor())
                    .add(Cluster.getDescriptor())
                    .add(ClusterLoadAssignment.getDescriptor())
                    .add(UpstreamTlsContext.getDescriptor())
                    .add(DownstreamTlsContext.getDescriptor())
                    .add(
                        io.envoyproxy.envoy.extensions.filters.http.router.v3.Router
                            .getDescriptor())
                    .build())
            .omittingInsignificantWhitespace();
  }

  private AdminPages() {}

  /**
   * @param xds the xDS client, or null when running without one (static config)
   */
  public static String configDump(SnapshotHolder holder, XdsClient xds) {
    SidecarSnapshot s = holder.get();
    StringBuilder b = new StringBuilder("{\"versions\":{");
    appendMap(b, s.versions());
    b.append("},\"last_nack\":").append(quote(xds == null ? "" : xds.lastNack()));
    b.append(",\"xds_connected\":").append(xds != null && xds.connected());
    b.append(",\"resources\":{");
    if (xds != null) {
      boolean firstType = true;
      for (Map.Entry<String, List<Any>> e : xds.acceptedResources().entrySet()) {
        if (!firstType) {
          b.append(',');
        }
        firstType = false;
        b.append(quote(e.getKey())).append(":[");
        boolean first = true;
        for (Any a : e.getValue()) {
          if (!first) {
            b.append(',');
          }
          first = false;
          try {
            b.append(ConfigDumpPrinter.PRINTER.print(a));
          } catch (InvalidProtocolBufferException ex) {
            b.append(quote("unprintable: " + ex.getMessage()));
          }
        }
        b.append(']');
      }
    }
    b.append("}}");
    return b.toString();
  }

  public static String clusters(SnapshotHolder holder, LoadRegistry loads) {
    SidecarSnapshot s = holder.get();
    StringBuilder b = new StringBuilder("{\"clusters\":[");
    boolean first = true;
    for (ClusterConfig c : s.clusters().clusters().values()) {
      if (!first) {
        b.append(',');
      }
      first = false;
      b.append("{\"name\":").append(quote(c.name()));
      b.append(",\"lb_policy\":").append(quote(c.lbPolicy().name()));
      b.append(",\"mtls\":").append(c.upstreamTls());
      b.append(",\"endpoints\":[");
      boolean firstEp = true;
      for (Endpoint e : s.clusters().endpointsOf(c.name())) {
        if (!firstEp) {
          b.append(',');
        }
        firstEp = false;
        EndpointLoad l = loads.of(e.address());
        b.append("{\"address\":").append(quote(e.address()));
        b.append(",\"healthy\":").append(e.healthy());
        b.append(",\"ejected\":").append(l.ejected());
        b.append(",\"active\":").append(l.active());
        b.append(",\"total\":").append(l.total());
        b.append(",\"connect_failures\":").append(l.failures());
        b.append(",\"metadata\":{");
        appendMap(b, e.metadata());
        b.append("}}");
      }
      b.append("]}");
    }
    b.append("]}");
    return b.toString();
  }

  /**
   * 200 "ready" once the first complete config (listeners, and the routes, clusters and endpoints
   * they name) was applied and, when required, the workload certificate arrived; else 503 saying
   * what is still missing.
   */
  public static HttpEndpoints.Reply ready(SnapshotHolder holder, BooleanSupplier certificateReady) {
    if (!holder.received()) {
      return HttpEndpoints.Reply.text(503, "waiting for the first xDS configuration\n");
    }
    if (!holder.complete()) {
      List<String> missing = holder.get().missing();
      String shown =
          String.join(", ", missing.subList(0, Math.min(5, missing.size())))
              + (missing.size() > 5 ? " and " + (missing.size() - 5) + " more" : "");
      return HttpEndpoints.Reply.text(
          503, "waiting for the first complete xDS configuration; missing " + shown + "\n");
    }
    if (!certificateReady.getAsBoolean()) {
      return HttpEndpoints.Reply.text(503, "waiting for the workload certificate\n");
    }
    return HttpEndpoints.Reply.text(200, "ready\n");
  }

  private static void appendMap(StringBuilder b, Map<String, String> m) {
    boolean first = true;
    for (Map.Entry<String, String> e : m.entrySet()) {
      if (!first) {
        b.append(',');
      }
      first = false;
      b.append(quote(e.getKey())).append(':').append(quote(e.getValue()));
    }
  }

  static String quote(String s) {
    StringBuilder b = new StringBuilder("\"");
    for (char c : s.toCharArray()) {
      switch (c) {
        case '"' -> b.append("\\\"");
        case '\\' -> b.append("\\\\");
        case '\n' -> b.append("\\n");
        default -> {
          if (c < 0x20) {
            b.append(String.format("\\u%04x", (int) c));
          } else {
            b.append(c);
          }
        }
      }
    }
    return b.append('"').toString();
  }
}
