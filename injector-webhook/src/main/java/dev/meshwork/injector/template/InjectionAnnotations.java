package dev.meshwork.injector.template;

/**
 * Pod annotations the injector reads. The opt-out / opt-in and "injected" keys live in {@code
 * MeshConstants}; these tune what is injected.
 */
public final class InjectionAnnotations {
  private InjectionAnnotations() {}

  /** Comma-separated TCP ports whose outbound traffic bypasses the sidecar. */
  public static final String EXCLUDE_OUTBOUND_PORTS = "meshwork.dev/exclude-outbound-ports";

  /** Comma-separated TCP ports whose inbound traffic bypasses the sidecar. */
  public static final String EXCLUDE_INBOUND_PORTS = "meshwork.dev/exclude-inbound-ports";

  /** Comma-separated CIDRs (IPv4) whose outbound traffic bypasses the sidecar. */
  public static final String EXCLUDE_OUTBOUND_CIDRS = "meshwork.dev/exclude-outbound-cidrs";

  /** Sidecar CPU request, a Kubernetes quantity such as {@code 200m}. */
  public static final String PROXY_CPU = "meshwork.dev/proxy-cpu";

  /** Sidecar memory request, a Kubernetes quantity such as {@code 256Mi}. */
  public static final String PROXY_MEMORY = "meshwork.dev/proxy-memory";

  /** Sidecar CPU limit. */
  public static final String PROXY_CPU_LIMIT = "meshwork.dev/proxy-cpu-limit";

  /** Sidecar memory limit. */
  public static final String PROXY_MEMORY_LIMIT = "meshwork.dev/proxy-memory-limit";

  /**
   * Replaces the sidecar's JVM flags (default: the root pom's {@code meshwork.sidecar.jvmFlags}),
   * e.g. a larger {@code -Xmx} together with a larger {@link #PROXY_MEMORY_LIMIT}.
   */
  public static final String PROXY_JVM_FLAGS = "meshwork.dev/proxy-jvm-flags";

  /** {@code "true"}: the sidecar writes one JSON line per call on stdout ({@code --access-log}). */
  public static final String ACCESS_LOG = "meshwork.dev/access-log";

  /** Prometheus scrape annotations, added unless the pod already sets them. */
  public static final String PROMETHEUS_SCRAPE = "prometheus.io/scrape";

  public static final String PROMETHEUS_PORT = "prometheus.io/port";
  public static final String PROMETHEUS_PATH = "prometheus.io/path";
}
