package dev.meshwork.e2e.telemetry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.meshwork.e2e.kube.Prerequisites;
import dev.meshwork.meshctl.demo.v1.HelloRequest;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.assertj.core.api.SoftAssertions;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a user sees in Grafana, proven with a real Prometheus: calls go from a client through its
 * sidecar, mutual TLS, and the greeter's sidecar; Prometheus scrapes both sidecars' /metrics and
 * the control plane's; then every query of every panel of every dashboard in {@code
 * manifests/grafana/} (template variables substituted as Grafana would) returns data with the
 * labels the panel shows, and the request counts in Prometheus equal the calls the client made.
 */
@Tag("external")
class PrometheusDashboardsIT {
  private static final int OK = 40;
  private static final int FAILED = 5;
  private static final int TIMED_OUT = 3;
  private static final int CALLS = OK + FAILED + TIMED_OUT;
  private static final Pattern BY = Pattern.compile("\\bby\\s*\\(([^)]*)\\)");

  @TempDir Path work;

  @Test
  void everyPanelOfEveryDashboardShowsTheLoadThatWentThroughTwoSidecars() throws Exception {
    Prerequisites.require(
        Files.isExecutable(Prometheus.BINARY),
        "Prometheus at " + Prometheus.BINARY + " (Debian: apt-get install prometheus)");
    try (TelemetryMesh mesh = new TelemetryMesh(work.resolve("mesh"), "127.0.45", List.of());
        Prometheus prometheus =
            new Prometheus(
                work.resolve("prometheus"),
                Map.of(
                    "meshwork-sidecars",
                    List.of(
                        "127.0.0.1:" + mesh.clientMetricsPort,
                        "127.0.0.1:" + mesh.serverMetricsPort),
                    "meshwork-control-plane",
                    List.of("127.0.0.1:" + mesh.controlPlaneHttpPort)))) {
      Awaitility.await("every target scraped and up")
          .atMost(Duration.ofSeconds(30))
          .until(() -> prometheus.up().size() == 3 && !prometheus.up().containsValue(0.0));

      runLoad(mesh);

      // The next scrapes carry every finished call; counts must match exactly, not roughly.
      Awaitility.await("Prometheus has every call of the client")
          .atMost(Duration.ofSeconds(30))
          .pollInterval(Duration.ofMillis(500))
          .until(
              () ->
                  prometheus.scalar("sum(meshwork_requests_total{direction=\"outbound\"})") == CALLS
                      && prometheus.scalar("sum(meshwork_requests_total{direction=\"inbound\"})")
                          == CALLS);
      double at = System.currentTimeMillis() / 1000.0;

      assertThat(count(prometheus, "outbound", "0", at)).isEqualTo(OK);
      assertThat(count(prometheus, "inbound", "0", at)).isEqualTo(OK);
      assertThat(count(prometheus, "outbound", "3", at)).isEqualTo(FAILED);
      assertThat(count(prometheus, "inbound", "3", at)).isEqualTo(FAILED);
      assertThat(
              prometheus.scalar(
                  "sum(meshwork_requests_total{direction=\"inbound\",mtls=\"true\","
                      + "source_workload=\"client\",destination_workload=\"greeter\"})"))
          .as("every inbound call was mutual TLS from the client workload")
          .isEqualTo(CALLS);

      // The control plane's panels: a certificate request the CA refuses, a webhook request.
      mesh.intruder(() -> prometheus.scalar("sum(meshwork_ca_certificates_refused_total)") >= 1);
      // Two requests with a scrape between them: rate() needs an increase between two samples.
      for (int n = 1; n <= 2; n++) {
        assertThat(mesh.admissionReview()).isEqualTo(200);
        int want = n;
        Awaitility.await("webhook request " + n + " scraped")
            .atMost(Duration.ofSeconds(30))
            .pollInterval(Duration.ofMillis(500))
            .until(() -> prometheus.scalar("sum(meshwork_webhook_requests_total)") == want);
      }
      assertThat(prometheus.scalar("sum(meshwork_ca_certificates_issued_total)"))
          .as("both sidecars' certificates")
          .isGreaterThanOrEqualTo(2);
      Awaitility.await("both sidecars connected to the control plane (the intruder has left)")
          .atMost(Duration.ofSeconds(30))
          .pollInterval(Duration.ofMillis(500))
          .until(() -> prometheus.scalar("sum(meshwork_controlplane_proxies_connected)") == 2);
      at = System.currentTimeMillis() / 1000.0;

      checkVariables(prometheus);
      checkPanels(prometheus, at);
    }
  }

  private static double count(Prometheus p, String direction, String status, double at)
      throws Exception {
    var s =
        p.query(
            "sum(meshwork_requests_total{direction=\"%s\",rpc_grpc_status_code=\"%s\"})"
                .formatted(direction, status),
            at);
    return s.isEmpty() ? 0 : s.getFirst().value();
  }

  /** Successful, failing and timed-out calls, spread over a few seconds so rate() sees a slope. */
  private static void runLoad(TelemetryMesh mesh) throws InterruptedException {
    var greeter = mesh.greeter();
    for (int i = 0; i < OK; i++) {
      greeter
          .withDeadlineAfter(10, TimeUnit.SECONDS)
          .sayHello(HelloRequest.newBuilder().setName("n" + i).build());
      Thread.sleep(100); // pacing the load, not waiting for anything
      if (i % 8 == 0 && i / 8 < FAILED) {
        assertThatThrownBy(
                () ->
                    greeter
                        .withDeadlineAfter(10, TimeUnit.SECONDS)
                        .sayHello(HelloRequest.newBuilder().setName("fail").build()))
            .isInstanceOfSatisfying(
                StatusRuntimeException.class,
                e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT));
      }
    }
    for (int i = 0; i < TIMED_OUT; i++) {
      String name = "slow" + i;
      assertThatThrownBy(
              () ->
                  greeter
                      .withDeadlineAfter(300, TimeUnit.MILLISECONDS)
                      .sayHello(HelloRequest.newBuilder().setName(name).build()))
          .isInstanceOfSatisfying(
              StatusRuntimeException.class,
              e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.DEADLINE_EXCEEDED));
    }
  }

  /** Each query variable lists what Grafana's label_values(...) would offer for this mesh. */
  private static void checkVariables(Prometheus prometheus) throws Exception {
    Pattern labelValues = Pattern.compile("label_values\\((?:(.*),\\s*)?(\\w+)\\)");
    Map<String, String> values = substitutions("inbound");
    for (Dashboards.Variable v : Dashboards.variables()) {
      if (!v.type().equals("query")) {
        continue;
      }
      Matcher m = labelValues.matcher(v.query());
      assertThat(m.matches())
          .as("%s: variable %s is label_values(...)", v.dashboard(), v.name())
          .isTrue();
      String selector =
          m.group(1) == null
              ? null
              : new Dashboards.Query("", "", "", m.group(1), "").substituted(values);
      List<String> offered = prometheus.labelValues(m.group(2), selector);
      assertThat(offered)
          .as("%s: values of $%s (%s)", v.dashboard(), v.name(), v.query())
          .isNotEmpty();
      if (Set.of("namespace", "service", "workload").contains(v.name())) {
        assertThat(offered).as("%s: $%s", v.dashboard(), v.name()).contains(values.get(v.name()));
      }
    }
  }

  /** Grafana's variable values for this mesh; $workload is the side the query looks at. */
  private static Map<String, String> substitutions(String direction) {
    Map<String, String> values = new HashMap<>();
    values.put("namespace", TelemetryMesh.NS);
    values.put("service", TelemetryMesh.SERVICE_HOST);
    values.put("workload", direction.equals("outbound") ? "client" : "greeter");
    values.put("job", ".+"); // "All"
    values.put("instance", ".+"); // "All"
    values.put("__rate_interval", "1m");
    values.put("__interval", "15s");
    return values;
  }

  private static void checkPanels(Prometheus prometheus, double at) throws Exception {
    Map<String, String> expected = new HashMap<>();
    expected.put("destination_service", TelemetryMesh.SERVICE_HOST);
    expected.put("destination_namespace", TelemetryMesh.NS);
    expected.put("source_namespace", TelemetryMesh.NS);
    expected.put("source_workload", "client");
    expected.put("destination_workload", "greeter");
    expected.put("rpc_service", "meshwork.demo.v1.Greeter");
    expected.put("rpc_method", "SayHello");
    SoftAssertions soft = new SoftAssertions();
    List<Dashboards.Query> queries = Dashboards.queries();
    assertThat(queries).isNotEmpty();
    List<String> checked = new ArrayList<>();
    for (Dashboards.Query q : queries) {
      String where = q.dashboard() + " / " + q.panel() + " / " + q.refId();
      String direction = q.expr().contains("direction=\"outbound\"") ? "outbound" : "inbound";
      String expr = q.substituted(substitutions(direction));
      assertThat(expr).as(where + ": every variable substituted").doesNotContain("$");
      if (expr.contains("meshwork_tcp_")) {
        // Passthrough needs iptables capture (the netns tests); here the query must still be
        // valid PromQL, which Prometheus checks.
        prometheus.query(expr, at);
        checked.add(where + " (valid; no passthrough traffic in this test)");
        continue;
      }
      List<Prometheus.Sample> result = prometheus.query(expr, at);
      soft.assertThat(result).as(where + ": " + expr).isNotEmpty();
      Set<String> by = new LinkedHashSet<>();
      Matcher m = BY.matcher(expr);
      while (m.find()) {
        for (String l : m.group(1).split(",")) {
          if (!l.isBlank() && !l.trim().equals("le")) {
            by.add(l.trim());
          }
        }
      }
      for (Prometheus.Sample s : result) {
        soft.assertThat(Double.isFinite(s.value()))
            .as("%s: a number, got %s for %s", where, s.value(), s.labels())
            .isTrue();
        for (String label : by) {
          soft.assertThat(s.labels()).as("%s: series labels", where).containsKey(label);
          String want = expected.get(label);
          if (want != null) {
            soft.assertThat(s.labels().get(label)).as("%s: %s", where, label).isEqualTo(want);
          }
        }
        if (by.contains("rpc_grpc_status_code")) {
          soft.assertThat(s.labels().get("rpc_grpc_status_code")).as(where).isIn("1", "3", "4");
        }
        if (by.contains("response_flags")) {
          soft.assertThat(s.labels().get("response_flags")).as(where).matches("[A-Z_]+(,[A-Z_]+)*");
        }
      }
      checked.add(where);
    }
    soft.assertAll();
    System.out.println(
        "dashboard queries checked against Prometheus:\n  " + String.join("\n  ", checked));
  }
}
