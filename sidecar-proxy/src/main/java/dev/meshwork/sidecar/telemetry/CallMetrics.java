package dev.meshwork.sidecar.telemetry;

import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.metrics.DoubleHistogram;
import io.opentelemetry.api.metrics.LongCounter;
import io.opentelemetry.api.metrics.Meter;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The per-call metrics of a sidecar, for both directions (names and labels are documented in
 * docs/metrics.md; dashboards depend on them):
 *
 * <ul>
 *   <li>{@code meshwork.requests} counter, Prometheus {@code meshwork_requests_total}
 *   <li>{@code meshwork.request.duration} histogram in ms, Prometheus {@code
 *       meshwork_request_duration_milliseconds_*}
 * </ul>
 *
 * <p>Thread-safe; {@link #record} is called on event loops and does not block.
 */
public final class CallMetrics {
  static final AttributeKey<String> DIRECTION = AttributeKey.stringKey("direction");
  static final AttributeKey<String> SOURCE_WORKLOAD = AttributeKey.stringKey("source_workload");
  static final AttributeKey<String> SOURCE_NAMESPACE = AttributeKey.stringKey("source_namespace");
  static final AttributeKey<String> DESTINATION_WORKLOAD =
      AttributeKey.stringKey("destination_workload");
  static final AttributeKey<String> DESTINATION_NAMESPACE =
      AttributeKey.stringKey("destination_namespace");
  static final AttributeKey<String> DESTINATION_SERVICE =
      AttributeKey.stringKey("destination_service");
  // OpenTelemetry RPC semantic conventions (rpc.system, rpc.service, rpc.method, status code).
  static final AttributeKey<String> RPC_SYSTEM = AttributeKey.stringKey("rpc.system");
  static final AttributeKey<String> RPC_SERVICE = AttributeKey.stringKey("rpc.service");
  static final AttributeKey<String> RPC_METHOD = AttributeKey.stringKey("rpc.method");
  static final AttributeKey<String> GRPC_STATUS = AttributeKey.stringKey("rpc.grpc.status_code");
  static final AttributeKey<String> RESPONSE_FLAGS = AttributeKey.stringKey("response_flags");
  static final AttributeKey<String> MTLS = AttributeKey.stringKey("mtls");

  /** Bucket bounds in ms: sub-millisecond resolution for loopback hops, up to a minute. */
  static final List<Double> DURATION_BUCKETS_MS =
      List.of(
          0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 25.0, 50.0, 100.0, 250.0, 500.0, 1000.0, 2500.0, 5000.0,
          10000.0, 60000.0);

  /** Distinct label sets whose attributes are kept; past it the cache starts again. */
  static final int MAX_CACHED_LABEL_SETS = 4096;

  private final Map<LabelSet, Attributes> attributesOf = new ConcurrentHashMap<>();
  private final LongCounter requests;
  private final DoubleHistogram duration;
  private final LabelBudget workloads;
  private final LabelBudget services;
  private final LabelBudget rpcServices;
  private final LabelBudget rpcMethods;

  /**
   * @param meter where the instruments live
   * @param labelLimit most distinct values per label before new ones count as {@code other}
   */
  public CallMetrics(Meter meter, int labelLimit) {
    this.requests =
        meter
            .counterBuilder("meshwork.requests")
            .setDescription("gRPC calls handled by the sidecar, by direction, peer and outcome")
            .setUnit("{request}")
            .build();
    this.duration =
        meter
            .histogramBuilder("meshwork.request.duration")
            .setDescription(
                "Duration of gRPC calls through the sidecar, headers to end of response")
            .setUnit("ms")
            .setExplicitBucketBoundariesAdvice(DURATION_BUCKETS_MS)
            .build();
    this.workloads = new LabelBudget(labelLimit);
    this.services = new LabelBudget(labelLimit);
    this.rpcServices = new LabelBudget(labelLimit);
    this.rpcMethods = new LabelBudget(labelLimit);
  }

  /** Records one finished call. */
  public void record(CallRecord call) {
    LabelSet labels =
        new LabelSet(
            call.direction(),
            workloads.admit(call.sourceWorkload()),
            orUnknown(call.sourceNamespace()),
            workloads.admit(call.destinationWorkload()),
            orUnknown(call.destinationNamespace()),
            services.admit(call.destinationService()),
            rpcServices.admit(call.rpcService()),
            rpcMethods.admit(call.rpcMethod()),
            call.grpcStatus(),
            call.responseFlags() == null ? "-" : call.responseFlags(),
            call.mtls());
    Attributes attributes = attributesOf.get(labels);
    if (attributes == null) {
      if (attributesOf.size() >= MAX_CACHED_LABEL_SETS) {
        attributesOf.clear(); // bounded by the label budgets anyway; this bounds the product
      }
      attributes = attributesOf.computeIfAbsent(labels, LabelSet::toAttributes);
    }
    requests.add(1, attributes);
    duration.record(call.durationNanos() / 1_000_000.0, attributes);
  }

  /**
   * One call's label values after the budgets. The same few sets recur call after call, so their
   * {@link Attributes} (sorted, hashed once) are built once and reused: building them was the
   * largest allocation of a call in our code (JFR).
   */
  private record LabelSet(
      String direction,
      String sourceWorkload,
      String sourceNamespace,
      String destinationWorkload,
      String destinationNamespace,
      String destinationService,
      String rpcService,
      String rpcMethod,
      int grpcStatus,
      String responseFlags,
      boolean mtls) {
    Attributes toAttributes() {
      return Attributes.builder()
          .put(DIRECTION, direction)
          .put(SOURCE_WORKLOAD, sourceWorkload)
          .put(SOURCE_NAMESPACE, sourceNamespace)
          .put(DESTINATION_WORKLOAD, destinationWorkload)
          .put(DESTINATION_NAMESPACE, destinationNamespace)
          .put(DESTINATION_SERVICE, destinationService)
          .put(RPC_SYSTEM, "grpc")
          .put(RPC_SERVICE, rpcService)
          .put(RPC_METHOD, rpcMethod)
          .put(GRPC_STATUS, Integer.toString(grpcStatus))
          .put(RESPONSE_FLAGS, responseFlags)
          .put(MTLS, Boolean.toString(mtls))
          .build();
    }
  }

  /**
   * A call's span name, {@code service/method} by the RPC conventions, within the same label budget
   * as the metrics so span names stay a bounded set too.
   */
  String spanName(String rpcService, String rpcMethod) {
    return rpcServices.admit(rpcService) + "/" + rpcMethods.admit(rpcMethod);
  }

  private static String orUnknown(String s) {
    return s == null || s.isEmpty() ? "unknown" : s;
  }
}
