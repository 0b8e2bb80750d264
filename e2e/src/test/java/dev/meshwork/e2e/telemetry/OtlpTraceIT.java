package dev.meshwork.e2e.telemetry;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.meshwork.e2e.kube.CachedTool;
import dev.meshwork.e2e.kube.Prerequisites;
import dev.meshwork.meshctl.demo.v1.HelloRequest;
import io.grpc.Metadata;
import io.grpc.stub.MetadataUtils;
import java.io.IOException;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A call's trace through two sidecars arrives at a real OTLP receiver: an OpenTelemetry Collector
 * (built by {@code .ci/install-otlp-receiver.sh}) whose file exporter writes what it received. The
 * client sidecar's span continues the app's trace, the greeter sidecar's span is its child, and the
 * greeter app gets a {@code traceparent} naming the greeter sidecar's span. The sidecars' metrics
 * reach the same receiver over OTLP.
 */
@Tag("external")
class OtlpTraceIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String APP_TRACE = "0af7651916cd43dd8448eb211c80319c";
  private static final String APP_SPAN = "b7ad6b7169203331";
  // OTLP span kinds
  private static final int SERVER = 2;
  private static final int CLIENT = 3;

  @TempDir Path work;

  /** The collector binary: $MESHWORK_OTELCOL, else the newest build in the cache. */
  static Optional<Path> collector() throws IOException {
    return CachedTool.find("MESHWORK_OTELCOL", "otelcol", "otelcol-meshwork");
  }

  @Test
  void serverSidecarSpanIsAChildOfTheClientSidecarSpanAtARealOtlpReceiver() throws Exception {
    Optional<Path> binary = collector();
    Prerequisites.require(
        binary.isPresent(),
        "the OpenTelemetry Collector build of bash .ci/install-otlp-receiver.sh");
    int otlpPort = TelemetryMesh.freePort();
    Path traces = work.resolve("traces.jsonl");
    Path metrics = work.resolve("metrics.jsonl");
    Path config = work.resolve("otelcol.yaml");
    Files.writeString(
        config,
        """
        receivers:
          otlp:
            protocols:
              grpc: {endpoint: "127.0.0.1:%d"}
        exporters:
          file/traces: {path: "%s"}
          file/metrics: {path: "%s"}
        service:
          telemetry:
            metrics: {level: none}
          pipelines:
            traces: {receivers: [otlp], exporters: [file/traces]}
            metrics: {receivers: [otlp], exporters: [file/metrics]}
        """
            .formatted(otlpPort, traces, metrics));
    Process collector =
        new ProcessBuilder(binary.get().toString(), "--config=" + config)
            .redirectErrorStream(true)
            .redirectOutput(work.resolve("otelcol.log").toFile())
            .start();
    try {
      Awaitility.await("collector listening on " + otlpPort)
          .atMost(Duration.ofSeconds(30))
          .pollInterval(Duration.ofMillis(100))
          .until(
              () -> {
                if (!collector.isAlive()) {
                  throw new IllegalStateException(
                      "collector exited: " + Files.readString(work.resolve("otelcol.log")));
                }
                try (Socket s = new Socket("127.0.0.1", otlpPort)) {
                  return true;
                } catch (IOException notYet) {
                  return false;
                }
              });
      String serverTraceparent;
      try (TelemetryMesh mesh =
          new TelemetryMesh(
              work.resolve("mesh"),
              "127.0.46",
              List.of(
                  "--otlp-endpoint", "http://127.0.0.1:" + otlpPort, "--trace-sampling", "0"))) {
        // The app is traced and sampled its call (sampling 0 in the sidecars: the caller's
        // decision is what records the spans).
        Metadata h = new Metadata();
        h.put(
            Metadata.Key.of("traceparent", Metadata.ASCII_STRING_MARSHALLER),
            "00-" + APP_TRACE + "-" + APP_SPAN + "-01");
        mesh.greeter()
            .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(h))
            .withDeadlineAfter(10, TimeUnit.SECONDS)
            .sayHello(HelloRequest.newBuilder().setName("traced").build());
        serverTraceparent = mesh.lastTraceparent;
      } // closing the sidecars flushes their spans and metrics

      Awaitility.await("both sidecars' spans at the collector")
          .atMost(Duration.ofSeconds(30))
          .pollInterval(Duration.ofMillis(200))
          .until(
              () -> spans(traces).stream().filter(s -> s.traceId().equals(APP_TRACE)).count() >= 2);
      List<Span> trace = spans(traces).stream().filter(s -> s.traceId().equals(APP_TRACE)).toList();
      Span client = trace.stream().filter(s -> s.kind() == CLIENT).findFirst().orElseThrow();
      Span server = trace.stream().filter(s -> s.kind() == SERVER).findFirst().orElseThrow();

      assertThat(client.service()).isEqualTo("client." + TelemetryMesh.NS);
      assertThat(client.parentSpanId())
          .as("the client sidecar continues the app's span")
          .isEqualTo(APP_SPAN);
      assertThat(client.name()).isEqualTo("meshwork.demo.v1.Greeter/SayHello");
      assertThat(server.service()).isEqualTo("greeter." + TelemetryMesh.NS);
      assertThat(server.parentSpanId())
          .as("the greeter sidecar's span is a child of the client sidecar's span")
          .isEqualTo(client.spanId());
      assertThat(server.attributes())
          .contains(
              "rpc.grpc.status_code=0", "meshwork.mtls=true", "meshwork.source.workload=client");
      assertThat(serverTraceparent)
          .as("the greeter app is handed the greeter sidecar's span as its parent")
          .isEqualTo("00-" + APP_TRACE + "-" + server.spanId() + "-01");

      Awaitility.await("sidecar metrics pushed over OTLP")
          .atMost(Duration.ofSeconds(30))
          .pollInterval(Duration.ofMillis(200))
          .until(
              () ->
                  Files.exists(metrics)
                      && Files.readString(metrics).contains("\"meshwork.requests\""));
    } finally {
      collector.destroy();
      if (!collector.waitFor(10, TimeUnit.SECONDS)) {
        collector.destroyForcibly();
      }
    }
  }

  record Span(
      String service,
      String traceId,
      String spanId,
      String parentSpanId,
      String name,
      int kind,
      List<String> attributes) {}

  /** Every span in the file exporter's OTLP JSON lines. */
  private static List<Span> spans(Path file) throws IOException {
    List<Span> out = new ArrayList<>();
    if (!Files.exists(file)) {
      return out;
    }
    for (String line : Files.readAllLines(file)) {
      if (line.isBlank()) {
        continue;
      }
      for (JsonNode rs : JSON.readTree(line).path("resourceSpans")) {
        String service = "";
        for (JsonNode a : rs.path("resource").path("attributes")) {
          if (a.path("key").asText().equals("service.name")) {
            service = a.path("value").path("stringValue").asText();
          }
        }
        for (JsonNode ss : rs.path("scopeSpans")) {
          for (JsonNode s : ss.path("spans")) {
            List<String> attrs = new ArrayList<>();
            for (JsonNode a : s.path("attributes")) {
              JsonNode v = a.path("value");
              String value =
                  v.has("stringValue")
                      ? v.path("stringValue").asText()
                      : v.has("intValue")
                          ? v.path("intValue").asText()
                          : v.has("boolValue") ? v.path("boolValue").asText() : v.toString();
              attrs.add(a.path("key").asText() + "=" + value);
            }
            out.add(
                new Span(
                    service,
                    s.path("traceId").asText(),
                    s.path("spanId").asText(),
                    s.path("parentSpanId").asText(),
                    s.path("name").asText(),
                    s.path("kind").asInt(),
                    attrs));
          }
        }
      }
    }
    return out;
  }
}
