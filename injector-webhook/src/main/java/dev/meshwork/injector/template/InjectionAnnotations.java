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

  /** Prometheus scrape annotations, added unless the pod already sets them. */
  public static final String PROMETHEUS_SCRAPE = "prometheus.io/scrape";

  public static final String PROMETHEUS_PORT = "prometheus.io/port";
  public static final String PROMETHEUS_PATH = "prometheus.io/path";
}
