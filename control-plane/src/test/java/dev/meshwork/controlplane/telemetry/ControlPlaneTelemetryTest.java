package dev.meshwork.controlplane.telemetry;

import static org.assertj.core.api.Assertions.assertThat;

import dev.meshwork.api.SpiffeId;
import io.fabric8.kubernetes.api.model.admission.v1.AdmissionRequestBuilder;
import io.fabric8.kubernetes.api.model.admission.v1.AdmissionResponseBuilder;
import io.grpc.Status;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** What Prometheus reads from 15014/metrics after CA and webhook events. */
class ControlPlaneTelemetryTest {
  private static String scrape(ControlPlaneTelemetry t) throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    t.scrape(out);
    return out.toString(StandardCharsets.UTF_8);
  }

  @Test
  void caOutcomesAreCountedRefusalsByCode() throws Exception {
    try (ControlPlaneTelemetry t = new ControlPlaneTelemetry(Optional.empty())) {
      SpiffeId id = SpiffeId.of("demo", "greeter");
      t.caMetrics().issued(id);
      t.caMetrics().issued(id);
      t.caMetrics().refused(Status.Code.UNAUTHENTICATED, null);
      t.caMetrics().refused(Status.Code.PERMISSION_DENIED, id);
      assertThat(scrape(t))
          .containsPattern("meshwork_ca_certificates_issued_total(\\{\\})? 2\\.0")
          .contains("meshwork_ca_certificates_refused_total{code=\"UNAUTHENTICATED\"} 1.0")
          .contains("meshwork_ca_certificates_refused_total{code=\"PERMISSION_DENIED\"} 1.0");
    }
  }

  @Test
  void webhookRequestsAndLatencyByOutcome() throws Exception {
    try (ControlPlaneTelemetry t = new ControlPlaneTelemetry(Optional.empty())) {
      var request = new AdmissionRequestBuilder().withUid("u1").withOperation("CREATE").build();
      var mutated =
          new AdmissionResponseBuilder().withUid("u1").withAllowed(true).withPatch("W10=").build();
      var untouched = new AdmissionResponseBuilder().withUid("u1").withAllowed(true).build();
      t.webhookListener().reviewed(request, mutated, Duration.ofMillis(3));
      t.webhookListener().reviewed(request, untouched, Duration.ofMillis(1));
      assertThat(scrape(t))
          .contains(
              "meshwork_webhook_requests_total{allowed=\"true\",mutated=\"true\",operation=\"CREATE\"} 1.0")
          .contains(
              "meshwork_webhook_requests_total{allowed=\"true\",mutated=\"false\",operation=\"CREATE\"} 1.0")
          .containsPattern(
              "meshwork_webhook_request_duration_milliseconds_bucket\\{allowed=\"true\","
                  + "mutated=\"true\",operation=\"CREATE\",le=\"5\\.0\"\\} 1");
    }
  }
}
