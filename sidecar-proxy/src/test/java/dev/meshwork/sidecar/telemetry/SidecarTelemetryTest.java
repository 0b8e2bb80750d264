package dev.meshwork.sidecar.telemetry;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** What Prometheus reads from 15020/metrics after calls: the names and labels dashboards query. */
class SidecarTelemetryTest {

  private static CallRecord call(String method, int status, boolean mtls, long millis) {
    return new CallRecord(
        "outbound",
        "caller",
        "demo",
        "greeter",
        "demo",
        "greeter.demo.svc.cluster.local",
        "helloworld.Greeter",
        method,
        status,
        "-",
        mtls,
        millis * 1_000_000);
  }

  private static String scrape(SidecarTelemetry t) throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    t.scrape(out);
    return out.toString(StandardCharsets.UTF_8);
  }

  @Test
  void callsAppearAsCounterAndHistogramWithTheDocumentedLabels() throws Exception {
    try (SidecarTelemetry t =
        new SidecarTelemetry(
            new SidecarTelemetry.WorkloadInfo("demo", "caller-a", "caller"),
            Optional.empty(),
            50)) {
      t.calls().record(call("SayHello", 0, true, 3));
      t.calls().record(call("SayHello", 0, true, 7));
      t.calls().record(call("SayHello", 14, true, 1));

      String text = scrape(t);
      assertThat(text)
          .contains("# TYPE meshwork_requests_total counter")
          .containsPattern(
              "meshwork_requests_total\\{.*destination_service=\"greeter.demo.svc.cluster.local\".*"
                  + "rpc_grpc_status_code=\"0\".*\\} 2\\.0")
          .containsPattern("meshwork_requests_total\\{.*rpc_grpc_status_code=\"14\".*\\} 1\\.0")
          .containsPattern("meshwork_request_duration_milliseconds_bucket\\{.*le=\"5\\.0\".*\\} 1")
          .containsPattern(
              "meshwork_request_duration_milliseconds_count\\{.*status_code=\"0\".*\\} 2")
          .contains("direction=\"outbound\"", "mtls=\"true\"", "rpc_method=\"SayHello\"")
          .contains("source_workload=\"caller\"", "destination_workload=\"greeter\"");
    }
  }

  @Test
  void unknownMethodNamesCannotGrowTheSeriesWithoutBound() throws Exception {
    try (SidecarTelemetry t =
        new SidecarTelemetry(
            new SidecarTelemetry.WorkloadInfo("demo", "greeter-a", "greeter"),
            Optional.empty(),
            3)) {
      for (int i = 0; i < 100; i++) {
        t.calls().record(call("Probe" + i, 12, false, 1));
      }
      String text = scrape(t);
      long series = text.lines().filter(l -> l.startsWith("meshwork_requests_total{")).count();
      assertThat(series).isEqualTo(4); // three admitted methods plus "other"
      assertThat(text).containsPattern("rpc_method=\"other\".*\\} 97\\.0");
    }
  }

  @Test
  void pathSplitting() {
    assertThat(CallRecord.splitPath("/helloworld.Greeter/SayHello"))
        .containsExactly("helloworld.Greeter", "SayHello");
    assertThat(CallRecord.splitPath("/only")).containsExactly("unknown", "unknown");
    assertThat(CallRecord.splitPath("/a/b/c")).containsExactly("unknown", "unknown");
    assertThat(CallRecord.splitPath(null)).containsExactly("unknown", "unknown");
  }

  @Test
  void tcpPassthroughBytesAndConnections() throws Exception {
    try (SidecarTelemetry t =
        new SidecarTelemetry(
            new SidecarTelemetry.WorkloadInfo("demo", "db-a", "db"), Optional.empty(), 10)) {
      var labels =
          t.tcp()
              .attributes(
                  new TcpMetrics.Peers(
                      "outbound",
                      "api",
                      "demo",
                      "unknown",
                      "unknown",
                      "db.demo.svc.cluster.local"));
      t.tcp().opened(labels);
      t.tcp().closed(labels, 1200, 34);
      String text = scrape(t);
      assertThat(text)
          .containsPattern("meshwork_tcp_connections_opened_total\\{.*\\} 1\\.0")
          .containsPattern("meshwork_tcp_sent_bytes_total\\{.*\\} 1200\\.0")
          .containsPattern("meshwork_tcp_received_bytes_total\\{.*\\} 34\\.0");
    }
  }
}
