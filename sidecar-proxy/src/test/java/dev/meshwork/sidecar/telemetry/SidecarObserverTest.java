package dev.meshwork.sidecar.telemetry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.gson.JsonParser;
import dev.meshwork.sidecar.accesslog.AccessLog;
import dev.meshwork.sidecar.tracing.CallTracing;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.Http2Headers;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.sdk.resources.Resource;
import java.io.ByteArrayOutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The data path's hook, driven as ProxyCall drives it, read back from /metrics. */
class SidecarObserverTest {
  private static final SidecarTelemetry.WorkloadInfo CALLER =
      new SidecarTelemetry.WorkloadInfo("demo", "caller-0", "caller");

  private static String scrape(SidecarTelemetry t) throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    t.scrape(out);
    return out.toString(StandardCharsets.UTF_8);
  }

  private static Http2Headers request() {
    return new DefaultHttp2Headers()
        .method("POST")
        .path("/helloworld.Greeter/SayHello")
        .authority("greeter.demo.svc.cluster.local:50051");
  }

  @Test
  void outboundCallIsLabelledFromRouteAndEndpointAndNamesItsWorkloadOverMtls() throws Exception {
    try (SidecarTelemetry t = new SidecarTelemetry(CALLER, TelemetrySettings.DEFAULTS)) {
      TrafficObserver out = t.observer(SidecarObserver.Direction.OUTBOUND);
      EmbeddedChannel connection = new EmbeddedChannel();
      Http2Headers req = request().set(SidecarObserver.SOURCE_WORKLOAD_HEADER, "forged");
      ObservedCall call = out.call(req, connection);
      Http2Headers up = request().set(SidecarObserver.SOURCE_WORKLOAD_HEADER, "forged");
      call.routed("outbound|50051||greeter.demo.svc.cluster.local", true, up);
      call.attempt(Map.of("pod", "greeter-1", "workload", "greeter"));
      call.attempt(Map.of("pod", "greeter-2", "workload", "greeter"));
      call.response(new DefaultHttp2Headers().status("200"));
      call.response(new DefaultHttp2Headers().set("grpc-status", "0"));
      call.end(null);
      call.end(CallRecord.ResponseFlag.DOWNSTREAM_CANCELLED); // counted once only

      assertThat(up.get(SidecarObserver.SOURCE_WORKLOAD_HEADER).toString()).isEqualTo("caller");
      String text = scrape(t);
      assertThat(text)
          .containsPattern(
              "meshwork_requests_total\\{destination_namespace=\"demo\","
                  + "destination_service=\"greeter.demo.svc.cluster.local\","
                  + "destination_workload=\"greeter\",direction=\"outbound\",mtls=\"true\","
                  + "response_flags=\"RETRIED\",rpc_grpc_status_code=\"0\","
                  + "rpc_method=\"SayHello\",rpc_service=\"helloworld.Greeter\",rpc_system=\"grpc\","
                  + "source_namespace=\"demo\",source_workload=\"caller\"\\} 1\\.0");
    }
  }

  @Test
  void inboundPlaintextCallerIsUnknownAndCannotNameItself() throws Exception {
    try (SidecarTelemetry t =
        new SidecarTelemetry(
            new SidecarTelemetry.WorkloadInfo("demo", "greeter-0", "greeter"),
            TelemetrySettings.DEFAULTS)) {
      ObservedCall call =
          t.observer(SidecarObserver.Direction.INBOUND)
              .call(
                  request().set(SidecarObserver.SOURCE_WORKLOAD_HEADER, "admin"),
                  new EmbeddedChannel());
      Http2Headers up = request().set(SidecarObserver.SOURCE_WORKLOAD_HEADER, "admin");
      call.routed("inbound|50051||", false, up);
      call.localReply(7, CallRecord.ResponseFlag.DENIED);
      call.end(null);

      assertThat(up.contains(SidecarObserver.SOURCE_WORKLOAD_HEADER)).isFalse();
      assertThat(scrape(t))
          .containsPattern(
              "meshwork_requests_total\\{destination_namespace=\"demo\","
                  + "destination_service=\"greeter.demo.svc.cluster.local\","
                  + "destination_workload=\"greeter\",direction=\"inbound\",mtls=\"false\","
                  + "response_flags=\"DENIED\",rpc_grpc_status_code=\"7\",.*"
                  + "source_namespace=\"unknown\",source_workload=\"unknown\"\\} 1\\.0");
    }
  }

  @Test
  void aCallNobodyAnsweredIsCancelledWhenTheCallerLeft() throws Exception {
    try (SidecarTelemetry t = new SidecarTelemetry(CALLER, TelemetrySettings.DEFAULTS)) {
      ObservedCall call =
          t.observer(SidecarObserver.Direction.OUTBOUND).call(request(), new EmbeddedChannel());
      call.end(CallRecord.ResponseFlag.DOWNSTREAM_CANCELLED);
      assertThat(scrape(t))
          .containsPattern(
              "response_flags=\"DOWNSTREAM_CANCELLED\",rpc_grpc_status_code=\"1\",.*\\} 1\\.0")
          .contains("destination_service=\"unknown\"");
    }
  }

  @Test
  void serviceAndNamespaceComeFromTheClusterNameOnlyWhenItHasTheMeshShape() {
    assertThat(SidecarObserver.serviceOfCluster("outbound|50051||greeter.demo.svc.cluster.local"))
        .isEqualTo("greeter.demo.svc.cluster.local");
    assertThat(SidecarObserver.serviceOfCluster("outbound|50051|v2|greeter.demo.svc.cluster.local"))
        .isEqualTo("greeter.demo.svc.cluster.local");
    assertThat(SidecarObserver.serviceOfCluster("outbound|50051||")).isNull();
    assertThat(SidecarObserver.serviceOfCluster("outbound|50051|greeter")).isNull();
    assertThat(SidecarObserver.serviceOfCluster("a|b|c|d|e")).isNull();
    assertThat(SidecarObserver.serviceOfCluster("static-backend")).isNull();
    assertThat(SidecarObserver.serviceOfCluster(null)).isNull();

    assertThat(SidecarObserver.namespaceOfService("greeter.demo.svc.cluster.local"))
        .isEqualTo("demo");
    assertThat(SidecarObserver.namespaceOfService("greeter.demo")).isEqualTo("demo");
    assertThat(SidecarObserver.namespaceOfService("greeter")).isNull();
    assertThat(SidecarObserver.namespaceOfService("greeter.")).isNull();
    assertThat(SidecarObserver.namespaceOfService(null)).isNull();
  }

  @Test
  void turnedOffMeansNoHookAtAll() {
    try (SidecarTelemetry t =
        new SidecarTelemetry(CALLER, TelemetrySettings.parse("false", null, null, null))) {
      assertThat(t.observer(SidecarObserver.Direction.OUTBOUND)).isSameAs(TrafficObserver.NONE);
    }
  }

  @Test
  void passthroughBytesAndConnectionsAreCounted() throws Exception {
    try (SidecarTelemetry t = new SidecarTelemetry(CALLER, TelemetrySettings.DEFAULTS)) {
      EmbeddedChannel ch =
          new EmbeddedChannel(
              ConnectionCounter.of(
                  t.observer(SidecarObserver.Direction.OUTBOUND),
                  new InetSocketAddress("10.0.0.7", 5432)));
      ch.writeInbound(Unpooled.wrappedBuffer(new byte[300]));
      ch.writeOutbound(Unpooled.wrappedBuffer(new byte[20]));
      ch.close();
      String text = scrape(t);
      assertThat(text)
          .containsPattern(
              "meshwork_tcp_connections_opened_total\\{.*direction=\"outbound\".*\\} 1\\.0")
          .containsPattern("meshwork_tcp_connections_closed_total\\{.*\\} 1\\.0")
          .containsPattern(
              "meshwork_tcp_sent_bytes_total\\{.*source_workload=\"caller\".*\\} 300\\.0")
          .containsPattern("meshwork_tcp_received_bytes_total\\{.*\\} 20\\.0")
          .doesNotContain("10.0.0.7");
      ch.releaseInbound();
      ch.releaseOutbound();
    }
  }

  @Test
  void spanContinuesTheCallersTraceFromW3cOrB3AndIsPropagatedAsTraceparent() {
    // The exporter's endpoint is never reached here; spans are still created and propagated.
    try (CallTracing tracing =
        CallTracing.exporting(Resource.getDefault(), "http://127.0.0.1:9", 0.0)) {
      String traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
      Http2Headers w3c = request().set("traceparent", "00-" + traceId + "-00f067aa0ba902b7-01");
      Span s = tracing.start("helloworld.Greeter/SayHello", SpanKind.CLIENT, w3c);
      Http2Headers up = request().set("traceparent", "00-" + traceId + "-00f067aa0ba902b7-01");
      tracing.inject(s, up);
      assertThat(up.get("traceparent").toString())
          .startsWith("00-" + traceId + "-")
          .doesNotContain("00f067aa0ba902b7")
          .endsWith("-01"); // the caller sampled it: kept although our own ratio is 0
      s.end();

      Http2Headers b3 = request().set("b3", traceId + "-00f067aa0ba902b7-1");
      Span fromB3 = tracing.start("x/y", SpanKind.SERVER, b3);
      assertThat(fromB3.getSpanContext().getTraceId()).isEqualTo(traceId);
      fromB3.end();

      Span root = tracing.start("x/y", SpanKind.CLIENT, request());
      assertThat(root.getSpanContext().isSampled())
          .as("ratio 0: new traces not recorded")
          .isFalse();
      root.end();
    }
  }

  @Test
  void accessLogLineIsOneJsonObjectWithTheDocumentedFields() {
    String line =
        AccessLog.json(
            new AccessLog.Entry(
                Instant.parse("2026-01-02T03:04:05Z"),
                1.23456,
                "inbound",
                "caller",
                "demo",
                "spiffe://cluster.local/ns/demo/sa/caller",
                "greeter",
                "demo",
                "greeter.demo.svc.cluster.local",
                "greeter.demo.svc.cluster.local:50051",
                "/helloworld.Greeter/SayHello",
                0,
                "-",
                true,
                "inbound|50051||",
                "greeter-0",
                1,
                "4bf92f3577b34da6a3ce929d0e0e4736",
                "00f067aa0ba902b7"));
    assertThat(line).doesNotContain("\n");
    var json = JsonParser.parseString(line).getAsJsonObject();
    assertThat(json.keySet())
        .containsExactly(
            "start_time",
            "duration_ms",
            "direction",
            "source_workload",
            "source_namespace",
            "source_principal",
            "destination_workload",
            "destination_namespace",
            "destination_service",
            "authority",
            "path",
            "grpc_status",
            "response_flags",
            "mtls",
            "upstream_cluster",
            "upstream_pod",
            "attempts",
            "trace_id",
            "span_id");
    assertThat(json.get("duration_ms").getAsDouble()).isEqualTo(1.235);
    assertThat(json.get("mtls").getAsBoolean()).isTrue();
  }

  @Test
  void badSettingsAreRefusedWithTheFlagNamed() {
    assertThatThrownBy(() -> TelemetrySettings.parse(null, null, "1%", null))
        .hasMessageContaining("--trace-sampling");
    assertThatThrownBy(() -> TelemetrySettings.parse(null, null, "2", null))
        .hasMessageContaining("--trace-sampling");
    assertThatThrownBy(() -> TelemetrySettings.parse(null, null, null, "yes please"))
        .hasMessageContaining("--access-log");
    assertThat(TelemetrySettings.parse(null, " ", null, "true").otlpEndpoint())
        .isEqualTo(Optional.empty());
  }
}
