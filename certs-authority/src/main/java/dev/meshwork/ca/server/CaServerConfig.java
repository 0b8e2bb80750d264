package dev.meshwork.ca.server;

import dev.meshwork.api.MeshConstants;
import dev.meshwork.api.SpiffeId;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.UnaryOperator;

/**
 * Settings of a standalone CA, read from environment variables (see the module README).
 *
 * @param trustDomain {@code MESHWORK_CA_TRUST_DOMAIN}, default cluster.local
 * @param store {@code MESHWORK_CA_STORE}: a directory path, or {@code secret:<ns>/<name>}
 * @param host {@code MESHWORK_CA_HOST}, default 0.0.0.0
 * @param port {@code MESHWORK_CA_PORT}, default 15012 (0 picks a free port)
 * @param workloadTtl {@code MESHWORK_CA_WORKLOAD_TTL}, ISO-8601 duration, default PT24H
 * @param staticTokens {@code MESHWORK_CA_STATIC_TOKENS}: file of {@code <token> <spiffe-id>} lines;
 *     when set, tokens are NOT checked with Kubernetes (local runs only)
 * @param servingNames DNS names in the server's certificate: the control plane Service names and
 *     {@code localhost}
 */
public record CaServerConfig(
    String trustDomain,
    String store,
    String host,
    int port,
    Duration workloadTtl,
    Optional<Path> staticTokens,
    List<String> servingNames) {

  public static CaServerConfig fromEnvironment(UnaryOperator<String> env) {
    String port = env.apply("MESHWORK_CA_PORT");
    String ttl = env.apply("MESHWORK_CA_WORKLOAD_TTL");
    String tokens = env.apply("MESHWORK_CA_STATIC_TOKENS");
    String store = env.apply("MESHWORK_CA_STORE");
    String trustDomain = env.apply("MESHWORK_CA_TRUST_DOMAIN");
    String host = env.apply("MESHWORK_CA_HOST");
    try {
      return new CaServerConfig(
          trustDomain == null ? MeshConstants.DEFAULT_TRUST_DOMAIN : trustDomain,
          store == null ? "secret:" + MeshConstants.SYSTEM_NAMESPACE + "/meshwork-ca" : store,
          host == null ? "0.0.0.0" : host,
          port == null ? MeshConstants.CONTROL_PLANE_GRPC_PORT : Integer.parseInt(port),
          ttl == null ? Duration.ofHours(24) : Duration.parse(ttl),
          Optional.ofNullable(tokens).map(Path::of),
          List.of(
              "meshwork-control-plane." + MeshConstants.SYSTEM_NAMESPACE + ".svc",
              "meshwork-control-plane." + MeshConstants.SYSTEM_NAMESPACE + ".svc.cluster.local",
              "localhost"));
    } catch (RuntimeException e) {
      throw new IllegalArgumentException("bad CA configuration: " + e.getMessage(), e);
    }
  }

  /**
   * Reads a static token file: one {@code <token> <spiffe-id>} per line, {@code #} comments.
   *
   * @throws IllegalArgumentException naming the line that is wrong
   */
  public static Map<String, SpiffeId> readTokens(Path file) throws IOException {
    Map<String, SpiffeId> tokens = new HashMap<>();
    List<String> lines = Files.readAllLines(file);
    for (int i = 0; i < lines.size(); i++) {
      String line = lines.get(i).strip();
      if (line.isEmpty() || line.startsWith("#")) {
        continue;
      }
      String[] parts = line.split("\\s+");
      if (parts.length != 2) {
        throw new IllegalArgumentException(
            file + ":" + (i + 1) + ": expected '<token> <spiffe-id>'");
      }
      try {
        tokens.put(parts[0], SpiffeId.parse(parts[1]));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(file + ":" + (i + 1) + ": " + e.getMessage(), e);
      }
    }
    return tokens;
  }
}
