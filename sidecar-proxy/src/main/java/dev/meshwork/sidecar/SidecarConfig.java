package dev.meshwork.sidecar;

import dev.meshwork.api.MeshConstants;
import dev.meshwork.sidecar.config.ProxyLimits;
import dev.meshwork.sidecar.telemetry.TelemetrySettings;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Static configuration of {@code sidecar run}, from flags and the downward-API environment.
 *
 * @param xdsAddress control plane {@code host:port}
 * @param xdsCaFile PEM trust bundle to verify the control plane with TLS, or null for plaintext
 * @param outboundCapture capture listener address (15001), or null when disabled
 * @param inboundCapture capture listener address (15006), or null when disabled
 * @param outboundListen explicit outbound listener an app dials directly, or null
 * @param outboundAuthority authority used when a call's {@code :authority} matches no virtual host
 * @param inboundListen explicit inbound listener, or null
 * @param appPort the local app's port behind {@code inboundListen}
 * @param caAddress the CA's {@code host:port} for the workload certificate, or null for no mTLS
 * @param caAuthority the TLS name on the CA's certificate
 * @param caRootsFile PEM root(s) that sign the CA's serving certificate
 * @param caTokenFile the projected ServiceAccount token proving this workload's identity
 * @param trustDomain SPIFFE trust domain of this workload and its peers
 * @param telemetry metrics, traces and access log settings (docs/metrics.md)
 */
public record SidecarConfig(
    String xdsAddress,
    String xdsCaFile,
    String namespace,
    String podName,
    String serviceAccount,
    String workload,
    Map<String, String> labels,
    List<String> instanceIps,
    InetSocketAddress outboundCapture,
    InetSocketAddress inboundCapture,
    InetSocketAddress outboundListen,
    String outboundAuthority,
    InetSocketAddress inboundListen,
    int appPort,
    InetSocketAddress admin,
    InetSocketAddress status,
    int workers,
    boolean requireCertificate,
    ProxyLimits limits,
    String caAddress,
    String caAuthority,
    String caRootsFile,
    String caTokenFile,
    String trustDomain,
    TelemetrySettings telemetry) {

  /** Flags, one per line, for {@code --help}. */
  public static final String USAGE =
      """
      sidecar-proxy run [flags]       (default command)
      sidecar-proxy capture [flags]   (iptables rules; see the capture package)

        --xds HOST:PORT               control plane ADS address (default meshwork-control-plane.meshwork-system.svc:15012)
        --xds-ca FILE                 PEM roots to verify the control plane (TLS); plaintext when absent
        --namespace NS                default $POD_NAMESPACE, else "default"
        --pod-name NAME               default $POD_NAME, else the host name
        --service-account SA          default $SERVICE_ACCOUNT, else "default"
        --workload NAME               node.cluster; default $WORKLOAD, else the pod name
        --labels k=v,k=v              pod labels; default $POD_LABELS
        --instance-ips IP,IP          default $INSTANCE_IPS
        --outbound-port PORT          outbound capture port (15001); -1 disables
        --inbound-port PORT           inbound capture port (15006); -1 disables
        --outbound-listen HOST:PORT   explicit outbound listener (the app dials it directly)
        --outbound-authority NAME     authority for calls whose :authority matches no route
        --inbound-listen HOST:PORT    explicit inbound listener, forwarding to --app-port
        --app-port PORT               local application port for --inbound-listen
        --admin-port PORT             admin on 127.0.0.1 (15000); -1 disables
        --status-port PORT            readiness /ready (15020); -1 disables
        --workers N                   event loop threads (default: CPUs)
        --require-certificate BOOL    readiness waits for a workload certificate (default: true with --ca)
        --ca HOST:PORT                the CA (control plane, 15012): get a workload certificate, speak mTLS
        --ca-authority NAME           TLS name of the CA (default meshwork-control-plane.meshwork-system.svc)
        --ca-roots FILE               PEM roots of the CA's certificate (default the mounted trust bundle)
        --ca-token FILE               projected ServiceAccount token (default the injected token path)
        --trust-domain NAME           SPIFFE trust domain (default cluster.local)
        --max-header-list-size BYTES  default 16384
        --max-concurrent-streams N    per downstream connection, default 1000
        --initial-window BYTES        HTTP/2 stream window, default 1048576
        --idle-timeout SECONDS        idle downstream connections are closed, default 600
        --connect-timeout MILLIS      upstream connect timeout, default 2000
        --drain-timeout SECONDS       time for calls in flight after SIGTERM, default 5
        --otlp-endpoint URL           OTLP/gRPC receiver for metrics and spans, e.g. http://collector:4317
                                      (default $OTEL_EXPORTER_OTLP_ENDPOINT; none: metrics on /metrics only, no spans)
        --trace-sampling SHARE        share of new traces recorded, 0..1 (default 0.01; a caller's decision is kept)
        --access-log BOOL             one JSON line per call on stdout (default $MESHWORK_ACCESS_LOG, else false)
        --telemetry BOOL              false turns off metrics, spans and access log of calls (default true)
      """;

  /** Parses {@code --flag value} / {@code --flag=value} pairs; {@code env} reads environment. */
  public static SidecarConfig parse(String[] args, Function<String, String> env) {
    Map<String, String> f = new LinkedHashMap<>();
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      if (!a.startsWith("--")) {
        throw new IllegalArgumentException("unexpected argument '" + a + "'\n" + USAGE);
      }
      int eq = a.indexOf('=');
      if (eq > 0) {
        f.put(a.substring(2, eq), a.substring(eq + 1));
      } else {
        if (i + 1 >= args.length) {
          throw new IllegalArgumentException("flag " + a + " needs a value");
        }
        f.put(a.substring(2), args[++i]);
      }
    }
    Map<String, String> flags = new HashMap<>(f);
    String ns = take(flags, "namespace", env.apply("POD_NAMESPACE"), "default");
    String pod = take(flags, "pod-name", env.apply("POD_NAME"), hostName());
    String sa = take(flags, "service-account", env.apply("SERVICE_ACCOUNT"), "default");
    String workload = take(flags, "workload", env.apply("WORKLOAD"), pod);
    Map<String, String> labels = new LinkedHashMap<>();
    for (String kv : split(take(flags, "labels", env.apply("POD_LABELS"), ""))) {
      int e = kv.indexOf('=');
      if (e <= 0) {
        throw new IllegalArgumentException("--labels wants k=v pairs, got '" + kv + "'");
      }
      labels.put(kv.substring(0, e), kv.substring(e + 1));
    }
    List<String> ips = split(take(flags, "instance-ips", env.apply("INSTANCE_IPS"), ""));
    ProxyLimits d = ProxyLimits.DEFAULTS;
    ProxyLimits limits =
        new ProxyLimits(
            Long.parseLong(
                take(flags, "max-header-list-size", null, Long.toString(d.maxHeaderListSize()))),
            Integer.parseInt(
                take(
                    flags,
                    "max-concurrent-streams",
                    null,
                    Integer.toString(d.maxConcurrentStreams()))),
            Integer.parseInt(
                take(flags, "initial-window", null, Integer.toString(d.initialWindowSize()))),
            Duration.ofSeconds(
                Long.parseLong(
                    take(flags, "idle-timeout", null, Long.toString(d.idleTimeout().toSeconds())))),
            Duration.ofMillis(
                Long.parseLong(
                    take(
                        flags,
                        "connect-timeout",
                        null,
                        Long.toString(d.connectTimeout().toMillis())))),
            Duration.ofSeconds(
                Long.parseLong(
                    take(
                        flags,
                        "drain-timeout",
                        null,
                        Long.toString(d.drainTimeout().toSeconds())))),
            d.retryBufferBytes(),
            d.maxAttempts());
    int outPort =
        Integer.parseInt(
            take(
                flags,
                "outbound-port",
                null,
                Integer.toString(MeshConstants.SIDECAR_OUTBOUND_PORT)));
    int inPort =
        Integer.parseInt(
            take(
                flags, "inbound-port", null, Integer.toString(MeshConstants.SIDECAR_INBOUND_PORT)));
    int adminPort =
        Integer.parseInt(
            take(flags, "admin-port", null, Integer.toString(MeshConstants.SIDECAR_ADMIN_PORT)));
    int statusPort =
        Integer.parseInt(
            take(flags, "status-port", null, Integer.toString(MeshConstants.SIDECAR_METRICS_PORT)));
    String outListen = take(flags, "outbound-listen", null, null);
    String inListen = take(flags, "inbound-listen", null, null);
    int appPort = Integer.parseInt(take(flags, "app-port", null, "0"));
    String ca = take(flags, "ca", null, null);
    if (inListen != null && appPort <= 0) {
      throw new IllegalArgumentException("--inbound-listen needs --app-port");
    }
    SidecarConfig c =
        new SidecarConfig(
            take(
                flags,
                "xds",
                null,
                "meshwork-control-plane.meshwork-system.svc:"
                    + MeshConstants.CONTROL_PLANE_GRPC_PORT),
            take(flags, "xds-ca", null, null),
            ns,
            pod,
            sa,
            workload,
            labels,
            ips,
            outPort < 0 ? null : new InetSocketAddress("0.0.0.0", outPort),
            inPort < 0 ? null : new InetSocketAddress("0.0.0.0", inPort),
            outListen == null ? null : hostPort(outListen),
            take(flags, "outbound-authority", null, null),
            inListen == null ? null : hostPort(inListen),
            appPort,
            adminPort < 0 ? null : new InetSocketAddress("127.0.0.1", adminPort),
            statusPort < 0 ? null : new InetSocketAddress("0.0.0.0", statusPort),
            Integer.parseInt(
                take(
                    flags,
                    "workers",
                    null,
                    Integer.toString(Runtime.getRuntime().availableProcessors()))),
            Boolean.parseBoolean(
                take(flags, "require-certificate", null, Boolean.toString(ca != null))),
            limits,
            ca,
            take(
                flags,
                "ca-authority",
                null,
                "meshwork-control-plane." + MeshConstants.SYSTEM_NAMESPACE + ".svc"),
            take(flags, "ca-roots", null, MeshConstants.TRUST_BUNDLE_PATH),
            take(flags, "ca-token", null, MeshConstants.CA_TOKEN_PATH),
            take(flags, "trust-domain", null, MeshConstants.DEFAULT_TRUST_DOMAIN),
            TelemetrySettings.parse(
                take(flags, "telemetry", null, null),
                take(flags, "otlp-endpoint", env.apply("OTEL_EXPORTER_OTLP_ENDPOINT"), null),
                take(flags, "trace-sampling", null, null),
                take(flags, "access-log", env.apply("MESHWORK_ACCESS_LOG"), null)));
    if (!flags.isEmpty()) {
      throw new IllegalArgumentException("unknown flag(s) " + flags.keySet() + "\n" + USAGE);
    }
    return c;
  }

  /** {@code host:port} (IPv6 in brackets) to an unresolved-if-needed socket address. */
  public static InetSocketAddress hostPort(String s) {
    int c = s.lastIndexOf(':');
    if (c <= 0) {
      throw new IllegalArgumentException("want HOST:PORT, got '" + s + "'");
    }
    String host = s.substring(0, c);
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
    }
    return new InetSocketAddress(host, Integer.parseInt(s.substring(c + 1)));
  }

  private static String take(Map<String, String> flags, String name, String envValue, String dflt) {
    String v = flags.remove(name);
    if (v != null) {
      return v;
    }
    return envValue != null && !envValue.isEmpty() ? envValue : dflt;
  }

  private static List<String> split(String s) {
    List<String> out = new ArrayList<>();
    for (String p : s.split(",")) {
      if (!p.isBlank()) {
        out.add(p.trim());
      }
    }
    return out;
  }

  private static String hostName() {
    try {
      return java.net.InetAddress.getLocalHost().getHostName();
    } catch (java.net.UnknownHostException e) {
      return "sidecar";
    }
  }
}
