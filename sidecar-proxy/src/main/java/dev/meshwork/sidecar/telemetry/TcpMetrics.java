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

  private Attributes attributes(String direction, String destinationService) {
    return Attributes.of(
        DIRECTION, direction, DESTINATION_SERVICE, services.admit(destinationService));
  }

  public void opened(String direction, String destinationService) {
    opened.add(1, attributes(direction, destinationService));
  }

  /** Records a connection's end with the bytes it carried each way. */
  public void closed(
      String direction, String destinationService, long bytesSent, long bytesReceived) {
    Attributes a = attributes(direction, destinationService);
    closed.add(1, a);
    sent.add(bytesSent, a);
    received.add(bytesReceived, a);
  }
}
