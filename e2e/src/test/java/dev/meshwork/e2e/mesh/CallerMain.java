package dev.meshwork.e2e.mesh;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.meshwork.meshctl.demo.v1.GreeterGrpc;
import dev.meshwork.meshctl.demo.v1.HelloReply;
import dev.meshwork.meshctl.demo.v1.HelloRequest;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.MetadataUtils;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * The scenarios' test caller, the app container of a caller pod: a plain grpc-java client that
 * knows nothing of the mesh, driven by the test over a small HTTP control port.
 *
 * <p>{@code GET /call?target=HOST:PORT&calls=N[&header=name:value][&authority=A][&fresh=true]}
 * makes N unary Greeter calls one after another over one channel (one HTTP/2 connection, as an app
 * keeps it) and answers JSON counts per answering instance and version, per error code, and how
 * many replies saw a mutual-TLS hop ({@code x-forwarded-client-cert} with a caller URI). Channels
 * are kept per target across requests; {@code fresh=true} uses a new one for this request only (a
 * new connection, e.g. to see a policy that applies to new connections). {@code authority}
 * overrides the {@code :authority} the calls carry (default: the target).
 *
 * <p>Usage: {@code CallerMain --port 8080}. The port must be excluded from inbound capture (pod
 * annotation {@code meshwork.dev/exclude-inbound-ports}): the test talks HTTP/1.1 to it.
 */
public final class CallerMain {
  private static final ObjectMapper JSON = new ObjectMapper();
  private final Map<String, ManagedChannel> channels = new ConcurrentHashMap<>();

  private CallerMain() {}

  public static void main(String[] args) throws IOException {
    if (args.length != 2 || !args[0].equals("--port")) {
      System.err.println("usage: CallerMain --port PORT");
      System.exit(2);
    }
    CallerMain caller = new CallerMain();
    HttpServer http = HttpServer.create(new InetSocketAddress(Integer.parseInt(args[1])), 16);
    http.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
    http.createContext("/call", caller::handle);
    http.start();
    System.out.println("caller control port " + http.getAddress().getPort());
  }

  private void handle(HttpExchange ex) throws IOException {
    int code = 200;
    Object body;
    try {
      body = call(query(ex.getRequestURI().getRawQuery()));
    } catch (IllegalArgumentException e) {
      code = 400;
      body = Map.of("error", e.getMessage());
    }
    byte[] bytes = JSON.writeValueAsBytes(body);
    ex.getResponseHeaders().set("Content-Type", "application/json");
    ex.sendResponseHeaders(code, bytes.length);
    try (OutputStream out = ex.getResponseBody()) {
      out.write(bytes);
    }
  }

  private Map<String, Object> call(Map<String, String> q) {
    String target = q.get("target");
    if (target == null) {
      throw new IllegalArgumentException("missing target=HOST:PORT");
    }
    int calls = Integer.parseInt(q.getOrDefault("calls", "1"));
    boolean fresh = Boolean.parseBoolean(q.getOrDefault("fresh", "false"));
    String authority = q.get("authority");
    String key = authority == null ? target : target + "@" + authority;
    ManagedChannel channel =
        fresh
            ? newChannel(target, authority)
            : channels.computeIfAbsent(key, k -> newChannel(target, authority));
    GreeterGrpc.GreeterBlockingStub stub = GreeterGrpc.newBlockingStub(channel);
    String header = q.get("header");
    if (header != null) {
      int colon = header.indexOf(':');
      if (colon <= 0) {
        throw new IllegalArgumentException("header wants name:value, got " + header);
      }
      Metadata md = new Metadata();
      md.put(
          Metadata.Key.of(header.substring(0, colon), Metadata.ASCII_STRING_MARSHALLER),
          header.substring(colon + 1));
      stub = stub.withInterceptors(MetadataUtils.newAttachHeadersInterceptor(md));
    }
    Map<String, Long> instances = new TreeMap<>();
    Map<String, Long> versions = new TreeMap<>();
    Map<String, Long> errors = new TreeMap<>();
    long ok = 0;
    long mtls = 0;
    String lastError = "";
    HelloRequest request = HelloRequest.newBuilder().setName("e2e").build();
    try {
      for (int i = 0; i < calls; i++) {
        try {
          HelloReply r = stub.withDeadlineAfter(5, TimeUnit.SECONDS).sayHello(request);
          ok++;
          instances.merge(r.getInstance(), 1L, Long::sum);
          versions.merge(r.getVersion(), 1L, Long::sum);
          if (r.getForwardedClientCert().contains("URI=spiffe://")) {
            mtls++;
          }
        } catch (StatusRuntimeException e) {
          errors.merge(e.getStatus().getCode().name(), 1L, Long::sum);
          lastError = e.getStatus().toString();
        }
      }
    } finally {
      if (fresh) {
        channel.shutdownNow();
      }
    }
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("calls", calls);
    out.put("ok", ok);
    out.put("mtls", mtls);
    out.put("instances", instances);
    out.put("versions", versions);
    out.put("errors", errors);
    out.put("lastError", lastError);
    return out;
  }

  private static ManagedChannel newChannel(String target, String authority) {
    NettyChannelBuilder b = NettyChannelBuilder.forTarget(target).usePlaintext();
    if (authority != null) {
      b.overrideAuthority(authority);
    }
    return b.build();
  }

  private static Map<String, String> query(String raw) {
    Map<String, String> q = new LinkedHashMap<>();
    if (raw == null) {
      return q;
    }
    for (String kv : raw.split("&")) {
      int eq = kv.indexOf('=');
      if (eq > 0) {
        q.put(
            URLDecoder.decode(kv.substring(0, eq), StandardCharsets.UTF_8),
            URLDecoder.decode(kv.substring(eq + 1), StandardCharsets.UTF_8));
      }
    }
    return q;
  }
}
