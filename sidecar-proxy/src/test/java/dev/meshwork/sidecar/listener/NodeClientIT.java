package dev.meshwork.sidecar.listener;

import static org.assertj.core.api.Assertions.assertThat;

import dev.meshwork.sidecar.testing.Mesh;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A second gRPC stack as the client: @grpc/grpc-js on Node ({@code src/test/node/client.js}) calls
 * through the sidecar to grpc-java servers: unary, server streaming and interleaved bidi. Its
 * dependencies come from {@code .ci/install-node-test-deps.sh} (npm ci of the pinned lock file).
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class NodeClientIT {
  static final Path CLIENT_DIR = Path.of("src/test/node");

  @Test
  void grpcJsClientMakesUnaryServerStreamingAndBidiCallsThroughTheSidecar() throws Exception {
    assertThat(CLIENT_DIR.resolve("node_modules/@grpc/grpc-js"))
        .as("@grpc/grpc-js is installed; run .ci/install-node-test-deps.sh")
        .isDirectory();
    try (Mesh mesh = new Mesh(2, Cluster.LbPolicy.ROUND_ROBIN)) {
      var a = mesh.sidecar.address("outbound");
      Process node =
          new ProcessBuilder("node", "client.js", "127.0.0.1:" + a.getPort(), Mesh.AUTHORITY)
              .directory(CLIENT_DIR.toFile())
              .redirectError(ProcessBuilder.Redirect.INHERIT)
              .start();
      String out = new String(node.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
      assertThat(node.waitFor(60, TimeUnit.SECONDS)).isTrue();
      assertThat(node.exitValue()).as("node client output: %s", out).isZero();
      assertThat(out).matches("\\{\"unary\":\"b[01]:hello\",.*");
      assertThat(out)
          .containsPattern(
              "\"serverStream\":\\[\"(b[01]):0\",\"\\1:1\",\"\\1:2\",\"\\1:3\",\"\\1:4\"\\]");
      assertThat(out).containsPattern("\"bidi\":\\[\"(b[01]):m0\",\"\\1:m1\",\"\\1:m2\"\\]");
      // Per-call balancing holds for this client too: its three calls were spread.
      assertThat(mesh.backends.get(0).service.calls.get()).isPositive();
      assertThat(mesh.backends.get(1).service.calls.get()).isPositive();
    }
  }
}
