package dev.meshwork.sidecar.xds;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import java.util.List;
import java.util.function.Supplier;

/**
 * Builds the protobuf descriptors and parsers of the envoy types the xDS client reads, on a thread
 * of its own while the process starts.
 *
 * <p>Why: the envoy API's file descriptors (with their validation and annotation options) are built
 * on first use, and no class-data archive keeps them. The first xDS response waited about a quarter
 * of a second for them on the xDS thread, while the second core sat idle during the main thread's
 * own start-up work (logging, telemetry, TLS contexts, the xDS channel). Class initialization is
 * thread-safe: a parser that needs a type before the warm-up reached it waits for that class alone
 * and never builds it twice.
 */
public final class DescriptorWarmUp {
  private static final List<Supplier<Message>> TYPES =
      List.of(
          DiscoveryResponse::getDefaultInstance,
          Listener::getDefaultInstance,
          HttpConnectionManager::getDefaultInstance,
          DownstreamTlsContext::getDefaultInstance,
          RouteConfiguration::getDefaultInstance,
          Cluster::getDefaultInstance,
          UpstreamTlsContext::getDefaultInstance,
          ClusterLoadAssignment::getDefaultInstance);

  private DescriptorWarmUp() {}

  /** Starts the warm-up on a daemon thread and returns at once. */
  public static Thread start() {
    return Thread.ofPlatform().name("meshwork-xds-warmup").daemon().start(DescriptorWarmUp::run);
  }

  static void run() {
    for (Supplier<Message> type : TYPES) {
      Message instance = type.get();
      instance.getDescriptorForType();
      try {
        instance.getParserForType().parseFrom(ByteString.EMPTY);
      } catch (InvalidProtocolBufferException e) {
        throw new AssertionError("an empty message always parses", e);
      }
    }
  }
}
