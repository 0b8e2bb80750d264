package dev.meshwork.bench.controlplane;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * Writes the benchmark's mesh as the control plane's folder source reads it: one file per Service
 * (Service with a cluster IP, its EndpointSlice, its pods, all meshed), spread over ten namespaces,
 * plus one file of GRPCRoutes (a 90/10 canary on every tenth Service). Edits replace a file
 * atomically, as an editor or {@code kubectl} would change one object.
 */
final class MeshFolder {
  static final int PORT = 8080;
  static final int NAMESPACES = 10;

  private final Path dir;
  private final int services;
  private final int endpointsPerService;

  MeshFolder(Path dir, int services, int endpoints) {
    this.dir = dir;
    this.services = services;
    this.endpointsPerService = Math.max(1, endpoints / services);
  }

  int endpoints() {
    return services * endpointsPerService;
  }

  static String namespace(int service) {
    return "bench-" + (service % NAMESPACES);
  }

  static String service(int i) {
    return "svc-" + i;
  }

  static String pod(int service, int j) {
    return service(service) + "-" + j;
  }

  void writeAll() throws IOException {
    Files.createDirectories(dir);
    StringBuilder ns = new StringBuilder();
    for (int n = 0; n < NAMESPACES; n++) {
      ns.append("apiVersion: v1\nkind: Namespace\nmetadata: {name: bench-")
          .append(n)
          .append("}\n---\n");
    }
    replace("namespaces.yaml", ns.toString());
    for (int i = 0; i < services; i++) {
      replace(service(i) + ".yaml", serviceFile(i, endpointsPerService));
    }
    replace("routes.yaml", routes(90));
  }

  /** One more endpoint (a new pod) behind Service {@code i}: changes EDS only. */
  void scaleUp(int i) {
    replace(service(i) + ".yaml", serviceFile(i, endpointsPerService + 1));
  }

  /** The first canary's split becomes {@code stable}/{@code 100 - stable}: changes RDS only. */
  void shiftCanary(int stable) {
    replace("routes.yaml", routes(stable));
  }

  private String serviceFile(int i, int endpoints) {
    String ns = namespace(i);
    String name = service(i);
    StringBuilder y = new StringBuilder();
    y.append(
        """
        apiVersion: v1
        kind: Service
        metadata: {name: %s, namespace: %s}
        spec:
          clusterIP: 10.96.%d.%d
          selector: {app: %s}
          ports: [{name: grpc, port: %d, targetPort: %d}]
        ---
        apiVersion: discovery.k8s.io/v1
        kind: EndpointSlice
        metadata: {name: %s-slice, namespace: %s, labels: {kubernetes.io/service-name: %s}}
        addressType: IPv4
        ports: [{name: grpc, port: %d}]
        endpoints:
        """
            .formatted(name, ns, i / 250, i % 250 + 1, name, PORT, PORT, name, ns, name, PORT));
    for (int j = 0; j < endpoints; j++) {
      y.append("- addresses: [")
          .append(ip(i, j))
          .append("]\n  conditions: {ready: true}\n  targetRef: {kind: Pod, name: ")
          .append(pod(i, j))
          .append(", namespace: ")
          .append(ns)
          .append("}\n");
    }
    y.append("---\n");
    for (int j = 0; j < endpoints; j++) {
      y.append(
          """
          apiVersion: v1
          kind: Pod
          metadata:
            name: %s
            namespace: %s
            labels: {app: %s, version: v1}
            annotations: {"meshwork.dev/injected": "true"}
          spec:
            serviceAccountName: %s
            containers: [{name: app, image: app, ports: [{containerPort: %d, name: grpc}]}]
          status: {phase: Running, podIP: %s}
          ---
          """
              .formatted(pod(i, j), ns, name, name, PORT, ip(i, j)));
    }
    return y.toString();
  }

  private static String ip(int service, int j) {
    return "10." + (1 + service / 250) + "." + (service % 250) + "." + (j + 1);
  }

  private String routes(int firstStable) {
    StringBuilder y = new StringBuilder();
    for (int i = 0; i + NAMESPACES < services; i += 10) {
      int stable = i == 0 ? firstStable : 90;
      y.append(
          """
          apiVersion: gateway.networking.k8s.io/v1
          kind: GRPCRoute
          metadata: {name: %s-canary, namespace: %s}
          spec:
            parentRefs: [{group: "", kind: Service, name: %s, port: %d}]
            rules:
            - matches: [{method: {service: bench.Echo}}]
              backendRefs:
              - {name: %s, port: %d, weight: %d}
              - {name: %s, port: %d, weight: %d}
          ---
          """
              .formatted(
                  service(i),
                  namespace(i),
                  service(i),
                  PORT,
                  service(i),
                  PORT,
                  stable,
                  service(i + NAMESPACES),
                  PORT,
                  100 - stable));
    }
    return y.toString();
  }

  /** Write to a hidden temporary file (the source ignores dot files), then rename over. */
  private void replace(String name, String content) {
    try {
      Path tmp = dir.resolve("." + name + ".tmp");
      Files.writeString(tmp, content);
      Files.move(tmp, dir.resolve(name), StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + name + " in " + dir, e);
    }
  }
}
