package dev.meshwork.sidecar.telemetry;

import dev.meshwork.sidecar.accesslog.AccessLog;
import dev.meshwork.sidecar.telemetry.CallRecord.ResponseFlag;
import dev.meshwork.sidecar.tracing.CallTracing;
import io.netty.channel.Channel;
import io.netty.handler.codec.http2.Http2Headers;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import java.net.InetSocketAddress;
import java.time.Instant;
import java.util.EnumSet;
import java.util.Map;
import java.util.Set;
import java.util.StringJoiner;

/**
 * The telemetry of one direction of a sidecar: each call becomes a metric sample ({@link
 * CallMetrics}), a span ({@link CallTracing}) and, when enabled, an access log line; each
 * passed-through connection becomes TCP metrics.
 *
 * <p>Who is who: outbound, the source is this workload and the destination comes from the route
 * (the cluster's Service) and the picked endpoint's metadata (workload). Inbound, the destination
 * is this workload and the source comes from the caller's verified SPIFFE ID (namespace) and from
 * the calling sidecar's {@value #SOURCE_WORKLOAD_HEADER} header, which is believed only over mutual
 * TLS and removed before the call reaches the app.
 *
 * <p>Thread-safe; each call's state is confined to its event loop.
 */
public final class SidecarObserver implements TrafficObserver {
  /** Request header in which an outbound sidecar names its workload to the inbound sidecar. */
  public static final String SOURCE_WORKLOAD_HEADER = "x-meshwork-source-workload";

  private static final AttributeKey<String> RPC_SYSTEM = AttributeKey.stringKey("rpc.system");
  private static final AttributeKey<String> RPC_SERVICE = AttributeKey.stringKey("rpc.service");
  private static final AttributeKey<String> RPC_METHOD = AttributeKey.stringKey("rpc.method");
  private static final AttributeKey<Long> GRPC_STATUS =
      AttributeKey.longKey("rpc.grpc.status_code");
  private static final AttributeKey<String> SERVER_ADDRESS =
      AttributeKey.stringKey("server.address");
  private static final AttributeKey<String> DIRECTION =
      AttributeKey.stringKey("meshwork.direction");
  private static final AttributeKey<String> SOURCE_WORKLOAD =
      AttributeKey.stringKey("meshwork.source.workload");
  private static final AttributeKey<String> SOURCE_NAMESPACE =
      AttributeKey.stringKey("meshwork.source.namespace");
  private static final AttributeKey<String> DESTINATION_WORKLOAD =
      AttributeKey.stringKey("meshwork.destination.workload");
  private static final AttributeKey<String> DESTINATION_NAMESPACE =
      AttributeKey.stringKey("meshwork.destination.namespace");
  private static final AttributeKey<String> DESTINATION_SERVICE =
      AttributeKey.stringKey("meshwork.destination.service");
  private static final AttributeKey<String> RESPONSE_FLAGS =
      AttributeKey.stringKey("meshwork.response_flags");
  private static final AttributeKey<Boolean> MTLS = AttributeKey.booleanKey("meshwork.mtls");
  private static final AttributeKey<String> UPSTREAM_CLUSTER =
      AttributeKey.stringKey("meshwork.upstream.cluster");

  /** gRPC codes that are server errors by the OpenTelemetry RPC conventions (server spans). */
  private static final Set<Integer> SERVER_ERRORS = Set.of(2, 4, 12, 13, 14, 15);

  /** The direction of the calls a listener sees. */
  public enum Direction {
    INBOUND("inbound", SpanKind.SERVER),
    OUTBOUND("outbound", SpanKind.CLIENT);

    final String label;
    final SpanKind kind;

    Direction(String label, SpanKind kind) {
      this.label = label;
      this.kind = kind;
    }
  }

  private final Direction direction;
  private final SidecarTelemetry.WorkloadInfo self;
  private final CallMetrics metrics;
  private final TcpMetrics tcp;
  private final CallTracing tracing;
  private final AccessLog accessLog;

  SidecarObserver(
      Direction direction,
      SidecarTelemetry.WorkloadInfo self,
      CallMetrics metrics,
      TcpMetrics tcp,
      CallTracing tracing,
      AccessLog accessLog) {
    this.direction = direction;
    this.self = self;
    this.metrics = metrics;
    this.tcp = tcp;
    this.tracing = tracing;
    this.accessLog = accessLog;
  }

  @Override
  public ObservedCall call(Http2Headers request, Channel connection) {
    return new Call(request, connection);
  }

  @Override
  public ObservedConnection connection(InetSocketAddress destination) {
    // A passthrough connection shows only an address; no label may hold an IP, so the service
    // is unknown here.
    boolean in = direction == Direction.INBOUND;
    io.opentelemetry.api.common.Attributes labels =
        tcp.attributes(
            new TcpMetrics.Peers(
                direction.label,
                in ? "unknown" : self.workload(),
                in ? "unknown" : self.namespace(),
                in ? self.workload() : "unknown",
                in ? self.namespace() : "unknown",
                "unknown"));
    tcp.opened(labels);
    return new ObservedConnection() {
      private long sent;
      private long received;
      private boolean closed;

      @Override
      public void sent(long bytes) {
        sent += bytes;
      }

      @Override
      public void received(long bytes) {
        received += bytes;
      }

      @Override
      public void closed() {
        if (!closed) {
          closed = true;
          tcp.closed(labels, sent, received);
        }
      }
    };
  }

  /** {@code greeter.demo.svc.cluster.local} from {@code outbound|50051||greeter.demo.svc...}. */
  static String serviceOfCluster(String cluster) {
    // indexOf, not split: this runs on every call and should allocate only its answer.
    if (cluster == null) {
      return null;
    }
    int third = -1;
    for (int i = 0; i < 3; i++) {
      third = cluster.indexOf('|', third + 1);
      if (third < 0) {
        return null;
      }
    }
    if (third == cluster.length() - 1 || cluster.indexOf('|', third + 1) >= 0) {
      return null;
    }
    return cluster.substring(third + 1);
  }

  /** The host of an authority, or null when it is an IP address or localhost (never a label). */
  static String serviceOfAuthority(CharSequence authority) {
    if (authority == null || authority.isEmpty()) {
      return null;
    }
    String a = authority.toString();
    if (a.startsWith("[")) {
      return null; // IPv6 literal
    }
    int colon = a.lastIndexOf(':');
    String host = colon >= 0 ? a.substring(0, colon) : a;
    if (host.isEmpty()
        || host.equals("localhost")
        || host.chars().allMatch(c -> c == '.' || Character.isDigit(c))) {
      return null;
    }
    return host;
  }

  /** {@code demo} from {@code greeter.demo.svc.cluster.local}, or null for a bare name. */
  static String namespaceOfService(String host) {
    if (host == null) {
      return null;
    }
    int first = host.indexOf('.');
    if (first < 0 || first == host.length() - 1) {
      return null; // one label (a trailing dot adds none)
    }
    int second = host.indexOf('.', first + 1);
    return host.substring(first + 1, second < 0 ? host.length() : second);
  }

  private static String or(String s, String fallback) {
    return s == null || s.isEmpty() ? fallback : s;
  }

  /** One call's state; confined to its event loop. */
  private final class Call implements ObservedCall {
    private final long startNanos = System.nanoTime();
    private final String path;
    private final String authority;
    private final String rpcService;
    private final String rpcMethod;
    private final Span span;
    private String sourceWorkload;
    private String sourceNamespace;
    private String sourcePrincipal;
    private String destinationWorkload;
    private String destinationNamespace;
    private String destinationService;
    private boolean mtls;
    private String cluster;
    private String upstreamPod;
    private int attempts;
    private int grpcStatus = -1;
    private final Set<ResponseFlag> flags = EnumSet.noneOf(ResponseFlag.class);
    private boolean ended;

    Call(Http2Headers request, Channel connection) {
      CharSequence p = request.path();
      CharSequence a = request.authority();
      path = p == null ? null : p.toString();
      authority = a == null ? null : a.toString();
      String[] sm = CallRecord.splitPath(path);
      rpcService = sm[0];
      rpcMethod = sm[1];
      if (direction == Direction.INBOUND) {
        PeerIdentity peer = PeerIdentity.of(connection);
        mtls = peer.mtls();
        if (mtls) {
          sourceNamespace = peer.id().namespace();
          sourcePrincipal = peer.id().uri();
          CharSequence w = request.get(SOURCE_WORKLOAD_HEADER);
          sourceWorkload = w == null ? null : w.toString();
        }
        destinationWorkload = self.workload();
        destinationNamespace = self.namespace();
        destinationService = serviceOfAuthority(authority);
      } else {
        sourceWorkload = self.workload();
        sourceNamespace = self.namespace();
      }
      span = tracing.start(metrics.spanName(rpcService, rpcMethod), direction.kind, request);
    }

    @Override
    public void routed(String cluster, boolean mtls, Http2Headers upstream) {
      this.cluster = cluster;
      // Nobody but a verified mesh peer may name the source workload.
      upstream.remove(SOURCE_WORKLOAD_HEADER);
      if (direction == Direction.OUTBOUND) {
        this.mtls = mtls;
        destinationService = serviceOfCluster(cluster);
        destinationNamespace = namespaceOfService(destinationService);
        if (mtls) {
          upstream.set(SOURCE_WORKLOAD_HEADER, self.workload());
        }
      }
      tracing.inject(span, upstream);
    }

    @Override
    public void attempt(Map<String, String> metadata) {
      if (++attempts > 1) {
        flags.add(ResponseFlag.RETRIED);
      }
      upstreamPod = metadata.get("pod");
      if (direction == Direction.OUTBOUND) {
        destinationWorkload = metadata.get("workload");
      }
    }

    @Override
    public void response(Http2Headers headers) {
      CharSequence s = headers.get("grpc-status");
      if (s != null) {
        try {
          grpcStatus = Integer.parseInt(s.toString());
        } catch (NumberFormatException e) {
          grpcStatus = 2; // UNKNOWN, as grpc-java reads a malformed status
        }
      }
    }

    @Override
    public void localReply(int status, ResponseFlag flag) {
      grpcStatus = status;
      if (flag != null) {
        flags.add(flag);
      }
    }

    @Override
    public void end(ResponseFlag flag) {
      if (ended) {
        return;
      }
      ended = true;
      long nanos = System.nanoTime() - startNanos;
      if (flag != null) {
        flags.add(flag);
      }
      int status = grpcStatus;
      if (status < 0 || status > 16) {
        // No status reached the caller: CANCELLED when it cancelled, else UNKNOWN.
        status = flags.contains(ResponseFlag.DOWNSTREAM_CANCELLED) ? 1 : 2;
      }
      String flagText = flagText();
      metrics.record(
          new CallRecord(
              direction.label,
              or(sourceWorkload, "unknown"),
              or(sourceNamespace, "unknown"),
              or(destinationWorkload, "unknown"),
              or(destinationNamespace, "unknown"),
              or(destinationService, "unknown"),
              rpcService,
              rpcMethod,
              status,
              flagText,
              mtls,
              nanos));
      SpanContext sc = span.getSpanContext();
      if (span.isRecording()) {
        span.setAttribute(RPC_SYSTEM, "grpc");
        span.setAttribute(RPC_SERVICE, rpcService);
        span.setAttribute(RPC_METHOD, rpcMethod);
        span.setAttribute(GRPC_STATUS, (long) status);
        if (authority != null) {
          span.setAttribute(SERVER_ADDRESS, authority);
        }
        span.setAttribute(DIRECTION, direction.label);
        span.setAttribute(SOURCE_WORKLOAD, or(sourceWorkload, "unknown"));
        span.setAttribute(SOURCE_NAMESPACE, or(sourceNamespace, "unknown"));
        span.setAttribute(DESTINATION_WORKLOAD, or(destinationWorkload, "unknown"));
        span.setAttribute(DESTINATION_NAMESPACE, or(destinationNamespace, "unknown"));
        span.setAttribute(DESTINATION_SERVICE, or(destinationService, "unknown"));
        span.setAttribute(RESPONSE_FLAGS, flagText);
        span.setAttribute(MTLS, mtls);
        if (cluster != null) {
          span.setAttribute(UPSTREAM_CLUSTER, cluster);
        }
        boolean error =
            direction == Direction.OUTBOUND ? status != 0 : SERVER_ERRORS.contains(status);
        if (error) {
          span.setStatus(StatusCode.ERROR, "grpc-status " + status);
        }
      }
      span.end();
      if (accessLog.enabled()) {
        accessLog.write(
            new AccessLog.Entry(
                Instant.now().minusNanos(nanos),
                nanos / 1e6,
                direction.label,
                sourceWorkload,
                sourceNamespace,
                sourcePrincipal,
                destinationWorkload,
                destinationNamespace,
                destinationService,
                authority,
                path,
                status,
                flagText,
                mtls,
                cluster,
                upstreamPod,
                attempts,
                sc.isValid() ? sc.getTraceId() : null,
                sc.isValid() ? sc.getSpanId() : null));
      }
    }

    private String flagText() {
      if (flags.isEmpty()) {
        return "-";
      }
      StringJoiner j = new StringJoiner(",");
      flags.forEach(f -> j.add(f.name()));
      return j.toString();
    }
  }
}
