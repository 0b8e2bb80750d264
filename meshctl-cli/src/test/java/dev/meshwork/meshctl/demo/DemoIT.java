package dev.meshwork.meshctl.demo;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Runs {@code meshctl demo --no-tui --duration 40s -o json} as a user's script would, from the
 * packaged jars, and checks the summary: calls balanced per call across the backend instances, the
 * canary ratio, every hop mutual TLS, no errors, the live edit applied, and nothing left running.
 */
class DemoIT {
  private static final Path HOME = Path.of("..").toAbsolutePath().normalize();

  @Test
  void scriptedRunShowsBalancingCanaryMtlsAndALiveEdit() throws Exception {
    Path out = Files.createTempFile("demo-summary", ".json");
    Path err = Files.createTempFile("demo-progress", ".log");
    List<String> cmd = new ArrayList<>();
    cmd.add(ProcessHandle.current().info().command().orElse("java"));
    cmd.add("-Dmeshwork.home=" + HOME);
    cmd.add("-jar");
    cmd.add(HOME.resolve("meshctl-cli/target/meshctl.jar").toString());
    cmd.addAll(List.of("demo", "--no-tui", "--duration", "40s", "-o", "json", "--rate", "100"));
    Process demo =
        new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
    boolean finished = demo.waitFor(180, TimeUnit.SECONDS);
    if (!finished) {
      demo.descendants().forEach(ProcessHandle::destroyForcibly);
      demo.destroyForcibly();
    }
    String progress = Files.readString(err);
    assertThat(finished).as("demo finished in time; progress:%n%s", progress).isTrue();
    assertThat(demo.exitValue()).as("exit code; progress:%n%s", progress).isZero();

    String json = Files.readString(out);
    JsonNode s = new ObjectMapper().readTree(json);
    long calls = s.path("calls").asLong();
    assertThat(calls).as("calls made; summary:%n%s", json).isGreaterThan(2_000);
    assertThat(s.path("errors").asLong()).as("errors; summary:%n%s", json).isZero();
    assertThat(s.path("warmup").path("succeeded").asBoolean()).as("warm-up").isTrue();
    assertThat(s.path("configProblems")).as("config problems").isEmpty();

    // Per-call balancing: both v1 instances serve, each close to half of v1's calls.
    long v1a = s.path("backends").path("greeter-v1-a").asLong();
    long v1b = s.path("backends").path("greeter-v1-b").asLong();
    assertThat(v1a + v1b).isGreaterThan(calls / 2);
    assertThat((double) v1a / (v1a + v1b)).isBetween(0.4, 0.6);
    assertThat(s.path("backends").path("greeter-v2-a").asLong()).isPositive();

    // Canary: 90/10 for the first half, 50/50 after the edit: v2's share of the run lies between.
    double v2 = s.path("split").path("v2").asDouble();
    assertThat(v2).isBetween(0.15, 0.45);

    assertThat(s.path("hops").asLong()).isEqualTo(calls);
    assertThat(s.path("mtlsHops").asLong()).isEqualTo(s.path("hops").asLong());
    List<String> ids = new ArrayList<>();
    s.path("identities").forEach(n -> ids.add(n.asText()));
    assertThat(ids)
        .contains(
            "spiffe://cluster.local/ns/demo/sa/caller",
            "spiffe://cluster.local/ns/demo/sa/greeter");

    assertThat(s.path("latencyMs").path("p50").asDouble()).isPositive();
    assertThat(s.path("latencyMs").path("p99").asDouble())
        .isGreaterThanOrEqualTo(s.path("latencyMs").path("p50").asDouble());
    assertThat(s.path("liveEdit").path("applied").asBoolean()).as("live edit applied").isTrue();
    assertThat(s.path("liveEdit").path("seconds").asDouble()).isBetween(0.0, 15.0);

    // Nothing left behind: the pods' sidecar ports are closed again.
    for (var pod : DemoTopology.PODS) {
      assertThat(listening(pod.podIp(), 15020))
          .as("%s sidecar still listening", pod.name())
          .isFalse();
    }
  }

  private static boolean listening(String host, int port) {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress(host, port), 300);
      return true;
    } catch (IOException e) {
      return false;
    }
  }
}
