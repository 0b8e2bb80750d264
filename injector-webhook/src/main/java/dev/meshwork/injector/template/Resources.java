package dev.meshwork.injector.template;

import java.util.Objects;

/**
 * CPU and memory requests and limits of one container, as Kubernetes quantity strings.
 *
 * @param cpuRequest e.g. {@code 100m}
 * @param memoryRequest e.g. {@code 128Mi}
 * @param cpuLimit e.g. {@code 2}
 * @param memoryLimit e.g. {@code 512Mi}
 */
public record Resources(
    String cpuRequest, String memoryRequest, String cpuLimit, String memoryLimit) {
  public Resources {
    Objects.requireNonNull(cpuRequest, "cpuRequest");
    Objects.requireNonNull(memoryRequest, "memoryRequest");
    Objects.requireNonNull(cpuLimit, "cpuLimit");
    Objects.requireNonNull(memoryLimit, "memoryLimit");
  }

  /** Sidecar defaults: a JVM proxy idles near 100 MiB; the limit leaves room for load. */
  public static final Resources PROXY_DEFAULT = new Resources("100m", "128Mi", "2", "512Mi");

  /** The init container is a short JVM run of the capture command. */
  public static final Resources INIT_DEFAULT = new Resources("10m", "64Mi", "1", "256Mi");
}
