package dev.meshwork.sidecar.telemetry;

import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.metrics.LongCounter;
import io.opentelemetry.api.metrics.Meter;

/**
 * Metrics for traffic the sidecar passes through as plain TCP (not HTTP): connections opened and
 * closed, and bytes each way. Prometheus names: {@code meshwork_tcp_connections_opened_total},
 * {@code meshwork_tcp_connections_closed_total}, {@code meshwork_tcp_sent_bytes_total}, {@code
 * meshwork_tcp_received_bytes_total}. Thread-safe.
 */
public final class TcpMetrics {
  static final AttributeKey<String> DIRECTION = AttributeKey.stringKey("direction");
  static final AttributeKey<String> DESTINATION_SERVICE =
      AttributeKey.stringKey("destination_service");
  static final AttributeKey<String> SOURCE_WORKLOAD = AttributeKey.stringKey("source_workload");
  static final AttributeKey<String> SOURCE_NAMESPACE = AttributeKey.stringKey("source_namespace");
  static final AttributeKey<String> DESTINATION_WORKLOAD =
      AttributeKey.stringKey("destination_workload");
  static final AttributeKey<String> DESTINATION_NAMESPACE =
      AttributeKey.stringKey("destination_namespace");

  /**
   * Who a passed-through connection is between, as far as the sidecar knows: its own workload on
   * one side; {@code unknown} for the other (a passthrough connection shows only an address).
   */
  public record Peers(
      String direction,
      String sourceWorkload,
      String sourceNamespace,
      String destinationWorkload,
      String destinationNamespace,
      String destinationService) {}

  private final LongCounter opened;
  private final LongCounter closed;
  private final LongCounter sent;
  private final LongCounter received;
  private final LabelBudget services;

  public TcpMetrics(Meter meter, int labelLimit) {
    opened =
        meter.counterBuilder("meshwork.tcp.connections.opened").setUnit("{connection}").build();
    closed =
        meter.counterBuilder("meshwork.tcp.connections.closed").setUnit("{connection}").build();
    sent =
        meter
            .counterBuilder("meshwork.tcp.sent")
            .setDescription("Bytes sent towards the destination of passthrough connections")
            .setUnit("By")
            .build();
    received =
        meter
            .counterBuilder("meshwork.tcp.received")
            .setDescription("Bytes received from the destination of passthrough connections")
            .setUnit("By")
            .build();
    services = new LabelBudget(labelLimit);
  }

  /** The labels of a connection's series; compute once per connection. */
  public Attributes attributes(Peers p) {
    return Attributes.builder()
        .put(DIRECTION, p.direction())
        .put(SOURCE_WORKLOAD, p.sourceWorkload())
        .put(SOURCE_NAMESPACE, p.sourceNamespace())
        .put(DESTINATION_WORKLOAD, p.destinationWorkload())
        .put(DESTINATION_NAMESPACE, p.destinationNamespace())
        .put(DESTINATION_SERVICE, services.admit(p.destinationService()))
        .build();
  }

  public void opened(Attributes connection) {
    opened.add(1, connection);
  }

  /** Records a connection's end with the bytes it carried each way. */
  public void closed(Attributes connection, long bytesSent, long bytesReceived) {
    Attributes a = connection;
    closed.add(1, a);
    sent.add(bytesSent, a);
    received.add(bytesReceived, a);
  }
}
