package dev.meshwork.injector.template;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * What a pod's annotations change in the injected containers, validated.
 *
 * @param excludeInboundPorts extra inbound ports that bypass the sidecar
 * @param excludeOutboundPorts outbound ports that bypass the sidecar
 * @param excludeOutboundCidrs outbound destinations that bypass the sidecar
 * @param proxyResources the sidecar's resources after overrides
 * @param proxyJvmFlags the sidecar's JVM flags, or null for the build's default
 * @param accessLog whether the sidecar logs every call
 */
public record PodOverrides(
    List<Integer> excludeInboundPorts,
    List<Integer> excludeOutboundPorts,
    List<String> excludeOutboundCidrs,
    Resources proxyResources,
    String proxyJvmFlags,
    boolean accessLog) {

  public PodOverrides {
    excludeInboundPorts = List.copyOf(excludeInboundPorts);
    excludeOutboundPorts = List.copyOf(excludeOutboundPorts);
    excludeOutboundCidrs = List.copyOf(excludeOutboundCidrs);
    Objects.requireNonNull(proxyResources, "proxyResources");
  }

  // The Kubernetes quantity grammar (resource.Quantity), strict enough that the API server
  // accepts what passes here.
  private static final Pattern QUANTITY =
      Pattern.compile(
          "^\\+?([0-9]+(\\.[0-9]*)?|\\.[0-9]+)(([KMGTPE]i)|[numkMGTPE]|[eE][-+]?[0-9]+)?$");

  private static final Pattern IPV4_CIDR =
      Pattern.compile("^(\\d{1,3})\\.(\\d{1,3})\\.(\\d{1,3})\\.(\\d{1,3})/(\\d{1,2})$");

  /**
   * Reads the injector's annotations of a pod.
   *
   * @param annotations the pod's annotations, never null (empty when the pod has none)
   * @param defaults the sidecar resources to start from
   * @throws InvalidAnnotationException on the first annotation that does not parse
   */
  public static PodOverrides parse(Map<String, String> annotations, Resources defaults)
      throws InvalidAnnotationException {
    Resources proxy =
        new Resources(
            quantity(annotations, InjectionAnnotations.PROXY_CPU, defaults.cpuRequest()),
            quantity(annotations, InjectionAnnotations.PROXY_MEMORY, defaults.memoryRequest()),
            quantity(annotations, InjectionAnnotations.PROXY_CPU_LIMIT, defaults.cpuLimit()),
            quantity(annotations, InjectionAnnotations.PROXY_MEMORY_LIMIT, defaults.memoryLimit()));
    return new PodOverrides(
        ports(annotations, InjectionAnnotations.EXCLUDE_INBOUND_PORTS),
        ports(annotations, InjectionAnnotations.EXCLUDE_OUTBOUND_PORTS),
        cidrs(annotations, InjectionAnnotations.EXCLUDE_OUTBOUND_CIDRS),
        proxy,
        jvmFlags(annotations),
        bool(annotations, InjectionAnnotations.ACCESS_LOG));
  }

  private static String jvmFlags(Map<String, String> annotations)
      throws InvalidAnnotationException {
    String value = annotations.get(InjectionAnnotations.PROXY_JVM_FLAGS);
    if (value == null) {
      return null;
    }
    if (value.isBlank() || value.contains("\n")) {
      throw new InvalidAnnotationException(
          InjectionAnnotations.PROXY_JVM_FLAGS, value, "JVM flags on one line, e.g. -Xmx128m");
    }
    return value.strip();
  }

  private static boolean bool(Map<String, String> annotations, String key)
      throws InvalidAnnotationException {
    String value = annotations.get(key);
    if (value == null) {
      return false;
    }
    return switch (value.strip()) {
      case "true" -> true;
      case "false" -> false;
      default -> throw new InvalidAnnotationException(key, value, "\"true\" or \"false\"");
    };
  }

  private static String quantity(Map<String, String> annotations, String key, String fallback)
      throws InvalidAnnotationException {
    String value = annotations.get(key);
    if (value == null) {
      return fallback;
    }
    String v = value.strip();
    if (!QUANTITY.matcher(v).matches()) {
      throw new InvalidAnnotationException(
          key, value, "a Kubernetes quantity such as 250m, 1, 128Mi or 1Gi");
    }
    return v;
  }

  private static List<Integer> ports(Map<String, String> annotations, String key)
      throws InvalidAnnotationException {
    List<Integer> ports = new ArrayList<>();
    for (String item : items(annotations.get(key))) {
      int port;
      try {
        port = Integer.parseInt(item);
      } catch (NumberFormatException e) {
        port = -1;
      }
      if (port < 1 || port > 65535) {
        throw new InvalidAnnotationException(
            key, annotations.get(key), "comma-separated TCP ports from 1 to 65535");
      }
      if (!ports.contains(port)) {
        ports.add(port);
      }
    }
    return ports;
  }

  private static List<String> cidrs(Map<String, String> annotations, String key)
      throws InvalidAnnotationException {
    List<String> cidrs = new ArrayList<>();
    for (String item : items(annotations.get(key))) {
      var m = IPV4_CIDR.matcher(item);
      boolean ok = m.matches();
      for (int g = 1; ok && g <= 4; g++) {
        ok = Integer.parseInt(m.group(g)) <= 255;
      }
      ok = ok && Integer.parseInt(m.group(5)) <= 32;
      if (!ok) {
        throw new InvalidAnnotationException(
            key,
            annotations.get(key),
            "comma-separated IPv4 CIDRs such as 10.0.0.0/8 (capture is IPv4 only)");
      }
      if (!cidrs.contains(item)) {
        cidrs.add(item);
      }
    }
    return cidrs;
  }

  private static List<String> items(String value) {
    if (value == null || value.isBlank()) {
      return List.of();
    }
    List<String> out = new ArrayList<>();
    for (String part : value.split(",")) {
      String p = part.strip();
      if (!p.isEmpty()) {
        out.add(p);
      }
    }
    return out;
  }
}
