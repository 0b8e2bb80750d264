package dev.meshwork.sidecar.accesslog;

import com.google.gson.stream.JsonWriter;
import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.time.Instant;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Access log: one JSON object per finished call, on the logger {@value #LOGGER}, which the
 * sidecar's logback configuration writes to standard output as bare lines through a non-blocking
 * async appender (a full queue drops lines rather than stall an event loop). Off unless the
 * workload asks for it ({@code --access-log true}; the injector sets it from the pod annotation
 * {@code meshwork.dev/access-log: "true"}). Fields are listed in docs/metrics.md.
 *
 * <p>Thread-safe.
 */
public final class AccessLog {
  public static final String LOGGER = "meshwork.access";
  private static final Logger log = LoggerFactory.getLogger(LOGGER);

  /**
   * One finished call.
   *
   * @param start when the request headers arrived
   * @param sourcePrincipal the caller's verified SPIFFE ID, or null (plaintext, or outbound)
   * @param path the request's {@code :path} as sent
   * @param upstreamPod the pod of the endpoint of the last attempt, or null
   * @param traceId the call's trace ID, or null when it has none
   */
  public record Entry(
      Instant start,
      double durationMs,
      String direction,
      String sourceWorkload,
      String sourceNamespace,
      String sourcePrincipal,
      String destinationWorkload,
      String destinationNamespace,
      String destinationService,
      String authority,
      String path,
      int grpcStatus,
      String responseFlags,
      boolean mtls,
      String upstreamCluster,
      String upstreamPod,
      int attempts,
      String traceId,
      String spanId) {}

  private final boolean enabled;

  public AccessLog(boolean enabled) {
    this.enabled = enabled;
  }

  public boolean enabled() {
    return enabled;
  }

  public void write(Entry e) {
    if (enabled) {
      log.info(json(e));
    }
  }

  /** The JSON object of one line (exposed for tests). */
  public static String json(Entry e) {
    StringWriter out = new StringWriter(512);
    try (JsonWriter w = new JsonWriter(out)) {
      w.beginObject();
      w.name("start_time").value(e.start().toString());
      w.name("duration_ms").value(Math.round(e.durationMs() * 1000) / 1000.0);
      w.name("direction").value(e.direction());
      w.name("source_workload").value(e.sourceWorkload());
      w.name("source_namespace").value(e.sourceNamespace());
      w.name("source_principal").value(e.sourcePrincipal());
      w.name("destination_workload").value(e.destinationWorkload());
      w.name("destination_namespace").value(e.destinationNamespace());
      w.name("destination_service").value(e.destinationService());
      w.name("authority").value(e.authority());
      w.name("path").value(e.path());
      w.name("grpc_status").value(e.grpcStatus());
      w.name("response_flags").value(e.responseFlags());
      w.name("mtls").value(e.mtls());
      w.name("upstream_cluster").value(e.upstreamCluster());
      w.name("upstream_pod").value(e.upstreamPod());
      w.name("attempts").value(e.attempts());
      w.name("trace_id").value(e.traceId());
      w.name("span_id").value(e.spanId());
      w.endObject();
    } catch (IOException impossible) {
      throw new UncheckedIOException(impossible);
    }
    return out.toString();
  }
}
