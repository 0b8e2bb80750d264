package dev.meshwork.controlplane.debug;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.ListValue;
import com.google.protobuf.Message;
import com.google.protobuf.Struct;
import com.google.protobuf.TypeRegistry;
import com.google.protobuf.Value;
import com.google.protobuf.util.JsonFormat;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import com.sun.net.httpserver.HttpServer;
import dev.meshwork.controlplane.model.PolicyReport;
import dev.meshwork.controlplane.model.RouteReport;
import dev.meshwork.controlplane.translate.ProxyResources;
import dev.meshwork.controlplane.xds.ProxyRegistry;
import dev.meshwork.controlplane.xds.SnapshotPublisher;
import io.envoyproxy.envoy.extensions.filters.http.router.v3.Router;
import io.envoyproxy.envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext;
import io.envoyproxy.envoy.extensions.upstreams.http.v3.HttpProtocolOptions;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The HTTP debug and health server. See the package documentation for the endpoints. */
public final class DebugHttpServer implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(DebugHttpServer.class);

  /** Every {@code Any} type the translator emits, so JSON shows them expanded. */
  static final TypeRegistry TYPES =
      TypeRegistry.newBuilder()
          .add(HttpConnectionManager.getDescriptor())
          .add(Router.getDescriptor())
          .add(TlsInspector.getDescriptor())
          .add(UpstreamTlsContext.getDescriptor())
          .add(DownstreamTlsContext.getDescriptor())
          .add(HttpProtocolOptions.getDescriptor())
          .build();

  private static final JsonFormat.Printer PRINTER = JsonFormat.printer().usingTypeRegistry(TYPES);

  private final HttpServer server;
  private final ExecutorService executor =
      Executors.newFixedThreadPool(
          2, r -> Thread.ofPlatform().name("meshwork-http").daemon().unstarted(r));

  /**
   * @param ready true once the first config was published (what {@code /healthz} reports)
   * @param reports the latest route verdicts
   * @param policyReports the latest verdicts on the validated mesh policies
   */
  public DebugHttpServer(
      InetSocketAddress address,
      ProxyRegistry registry,
      SnapshotPublisher publisher,
      BooleanSupplier ready,
      Supplier<List<RouteReport>> reports,
      Supplier<List<PolicyReport>> policyReports)
      throws IOException {
    server = HttpServer.create(address, 0);
    server.setExecutor(executor);
    server.createContext(
        "/healthz",
        ex -> {
          boolean ok = ready.getAsBoolean();
          send(ex, ok ? 200 : 503, "text/plain", ok ? "ok\n" : "waiting for first config\n");
        });
    server.createContext("/debug/proxies", ex -> send(ex, 200, JSON, proxies(registry, publisher)));
    server.createContext(
        "/debug/config",
        ex -> {
          String id = query(ex).get("proxy");
          if (id == null || id.isEmpty()) {
            send(ex, 400, "text/plain", "missing ?proxy=<namespace>/<pod>\n");
            return;
          }
          Optional<ProxyResources> r = publisher.published(id);
          if (r.isEmpty()) {
            send(ex, 404, "text/plain", "no config published for proxy " + id + "\n");
            return;
          }
          send(ex, 200, JSON, config(id, r.get()));
        });
    server.createContext("/debug/routes", ex -> send(ex, 200, JSON, routes(reports.get())));
    server.createContext(
        "/debug/policies", ex -> send(ex, 200, JSON, policies(policyReports.get())));
  }

  /** Adds an endpoint, e.g. {@code /metrics} from the telemetry module. */
  public DebugHttpServer addHandler(String path, HttpHandler handler) {
    server.createContext(path, handler);
    return this;
  }

  public DebugHttpServer start() {
    server.start();
    log.info("debug/health HTTP on port {}", port());
    return this;
  }

  public int port() {
    return server.getAddress().getPort();
  }

  private static final String JSON = "application/json";

  static String proxies(ProxyRegistry registry, SnapshotPublisher publisher) {
    ListValue.Builder list = ListValue.newBuilder();
    for (ProxyRegistry.ProxyStatus p : registry.proxies()) {
      Struct.Builder types = Struct.newBuilder();
      p.types()
          .forEach(
              (typeUrl, t) ->
                  types.putFields(
                      shortType(typeUrl),
                      struct(
                          Map.of(
                              "sent", t.sent(),
                              "acked", t.acked(),
                              "nacked", t.nacked(),
                              "lastError", t.lastError(),
                              "updated", t.updated().toString()))));
      Struct.Builder proxy =
          Struct.newBuilder()
              .putFields("id", str(p.proxy().id()))
              .putFields("namespace", str(p.proxy().namespace()))
              .putFields("type", str(p.proxy().sidecar() ? "sidecar" : "proxyless"))
              .putFields("connectedSince", str(p.connectedSince().toString()))
              .putFields("streams", Value.newBuilder().setNumberValue(p.streams()).build())
              .putFields("nacks", num(p.nacks()))
              .putFields("types", Value.newBuilder().setStructValue(types).build());
      publisher
          .published(p.proxy().id())
          .ifPresent(
              r ->
                  proxy.putFields(
                      "published",
                      struct(
                          Map.of(
                              "listeners", r.versions().listeners(),
                              "routes", r.versions().routes(),
                              "clusters", r.versions().clusters(),
                              "endpoints", r.versions().endpoints()))));
      list.addValues(Value.newBuilder().setStructValue(proxy));
    }
    Struct out =
        Struct.newBuilder()
            .putFields(
                "modelGeneration",
                num(publisher.currentModel() == null ? 0 : publisher.currentModel().generation()))
            .putFields("nacks", num(registry.nackCount()))
            .putFields("pushes", num(publisher.pushCount()))
            .putFields(
                "lastPushMs",
                Value.newBuilder()
                    .setNumberValue(publisher.lastPushDuration().toNanos() / 1e6)
                    .build())
            .putFields("proxies", Value.newBuilder().setListValue(list).build())
            .build();
    return print(out);
  }

  static String config(String id, ProxyResources r) {
    StringBuilder sb = new StringBuilder();
    sb.append("{\n\"proxy\": ").append(quote(id)).append(",\n\"versions\": ");
    sb.append(
        print(
            struct(
                Map.of(
                    "listeners", r.versions().listeners(),
                    "routes", r.versions().routes(),
                    "clusters", r.versions().clusters(),
                    "endpoints", r.versions().endpoints()))));
    section(sb, "listeners", r.listeners());
    section(sb, "routes", r.routes());
    section(sb, "clusters", r.clusters());
    section(sb, "endpoints", r.endpoints());
    return sb.append("\n}\n").toString();
  }

  static String routes(List<RouteReport> reports) {
    ListValue.Builder list = ListValue.newBuilder();
    for (RouteReport r : reports) {
      ListValue.Builder parents = ListValue.newBuilder();
      for (RouteReport.ParentReport p : r.parents()) {
        parents.addValues(
            Value.newBuilder()
                .setStructValue(
                    Struct.newBuilder()
                        .putFields(
                            "parent", str(p.parentRef().getKind() + "/" + p.parentRef().getName()))
                        .putFields("accepted", verdict(p.accepted()))
                        .putFields("resolvedRefs", verdict(p.resolvedRefs()))));
      }
      list.addValues(
          Value.newBuilder()
              .setStructValue(
                  Struct.newBuilder()
                      .putFields("route", str(r.namespace() + "/" + r.name()))
                      .putFields("observedGeneration", num(r.observedGeneration()))
                      .putFields("inForce", Value.newBuilder().setBoolValue(r.inForce()).build())
                      .putFields("parents", Value.newBuilder().setListValue(parents).build())));
    }
    return print(
        Struct.newBuilder()
            .putFields("routes", Value.newBuilder().setListValue(list).build())
            .build());
  }

  static String policies(List<PolicyReport> reports) {
    ListValue.Builder list = ListValue.newBuilder();
    for (PolicyReport r : reports) {
      list.addValues(
          Value.newBuilder()
              .setStructValue(
                  Struct.newBuilder()
                      .putFields("kind", str(r.kind()))
                      .putFields("policy", str(r.namespace() + "/" + r.name()))
                      .putFields("observedGeneration", num(r.observedGeneration()))
                      .putFields("accepted", Value.newBuilder().setBoolValue(r.accepted()).build())
                      .putFields("reason", str(r.reason()))
                      .putFields("message", str(r.message()))
                      .putFields("inForce", Value.newBuilder().setBoolValue(r.inForce()).build())));
    }
    return print(
        Struct.newBuilder()
            .putFields("policies", Value.newBuilder().setListValue(list).build())
            .build());
  }

  private static Value verdict(RouteReport.Verdict v) {
    return struct(
        Map.of(
            "status", v.status() ? "True" : "False", "reason", v.reason(), "message", v.message()));
  }

  private static void section(StringBuilder sb, String name, List<? extends Message> messages) {
    sb.append(",\n").append(quote(name)).append(": [");
    for (int i = 0; i < messages.size(); i++) {
      sb.append(i == 0 ? "\n" : ",\n").append(print(messages.get(i)));
    }
    sb.append("]");
  }

  static String print(Message m) {
    try {
      return PRINTER.print(m);
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException("a type is missing from the debug TypeRegistry", e);
    }
  }

  private static Value struct(Map<String, String> fields) {
    Struct.Builder s = Struct.newBuilder();
    new java.util.TreeMap<>(fields).forEach((k, v) -> s.putFields(k, str(v)));
    return Value.newBuilder().setStructValue(s).build();
  }

  private static Value str(String s) {
    return Value.newBuilder().setStringValue(s == null ? "" : s).build();
  }

  private static Value num(long n) {
    return Value.newBuilder().setNumberValue(n).build();
  }

  private static String quote(String s) {
    return print(Value.newBuilder().setStringValue(s).build());
  }

  private static String shortType(String typeUrl) {
    int dot = typeUrl.lastIndexOf('.');
    return dot >= 0 ? typeUrl.substring(dot + 1) : typeUrl;
  }

  private static Map<String, String> query(HttpExchange ex) {
    String q = ex.getRequestURI().getRawQuery();
    Map<String, String> out = new java.util.HashMap<>();
    if (q == null) {
      return out;
    }
    for (String pair : q.split("&")) {
      int eq = pair.indexOf('=');
      if (eq > 0) {
        out.put(
            URLDecoder.decode(pair.substring(0, eq), StandardCharsets.UTF_8),
            URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8));
      }
    }
    return out;
  }

  private static void send(HttpExchange ex, int status, String type, String body)
      throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    ex.getResponseHeaders().set("Content-Type", type + "; charset=utf-8");
    ex.sendResponseHeaders(status, bytes.length);
    try (OutputStream out = ex.getResponseBody()) {
      out.write(bytes);
    }
  }

  @Override
  public void close() {
    server.stop(0);
    executor.shutdownNow();
  }
}
