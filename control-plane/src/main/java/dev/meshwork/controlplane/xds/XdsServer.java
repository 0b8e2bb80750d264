package dev.meshwork.controlplane.xds;

import io.envoyproxy.controlplane.cache.ConfigWatcher;
import io.envoyproxy.controlplane.cache.DeltaResponse;
import io.envoyproxy.controlplane.cache.DeltaWatch;
import io.envoyproxy.controlplane.cache.DeltaXdsRequest;
import io.envoyproxy.controlplane.cache.Response;
import io.envoyproxy.controlplane.cache.Watch;
import io.envoyproxy.controlplane.cache.XdsRequest;
import io.envoyproxy.controlplane.cache.v3.SimpleCache;
import io.envoyproxy.controlplane.server.DefaultExecutorGroup;
import io.envoyproxy.controlplane.server.V3DiscoveryServer;
import io.envoyproxy.controlplane.server.serializer.CachedProtoResourcesSerializer;
import io.grpc.BindableService;
import io.grpc.Server;
import io.grpc.ServerCredentials;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The control plane's gRPC server: ADS (state-of-the-world and delta, from java-control-plane) over
 * a {@link SimpleCache} grouped by {@code node.id}, the gRPC health service, and any extra services
 * (the CA's CSR service plugs in here).
 *
 * <p>Threading: the cache and discovery server are thread-safe; gRPC runs streams on its executor.
 */
public final class XdsServer implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(XdsServer.class);

  private final SimpleCache<String> cache;
  private final ProxyRegistry registry;
  private final Server server;

  /**
   * @param address where to listen (port 0 picks a free port)
   * @param credentials TLS from the CA, or {@code InsecureServerCredentials} for local runs
   * @param extraServices more services on the same port (e.g. the CA's CertificateService)
   */
  public XdsServer(
      InetSocketAddress address,
      ServerCredentials credentials,
      List<BindableService> extraServices) {
    this.registry = new ProxyRegistry();
    // Group snapshots by node.id: one snapshot per proxy, as the contract says.
    this.cache = new SimpleCache<>(node -> node.getId());
    // The cached serializer packs each resource into an Any once and shares it across every
    // proxy's response (and the copy each stream keeps): without it 1,000 proxies hold 1,000
    // serialized copies of the same config.
    V3DiscoveryServer discovery =
        new V3DiscoveryServer(
            List.of(registry),
            answerWithWhatExists(cache),
            new DefaultExecutorGroup(),
            new CachedProtoResourcesSerializer());
    HealthStatusManager health = new HealthStatusManager();
    NettyServerBuilder builder =
        NettyServerBuilder.forAddress(address, credentials)
            .addService(discovery.getAggregatedDiscoveryServiceImpl())
            .addService(health.getHealthService())
            // Proxies keep ADS streams for hours: let their keepalive pings through.
            .permitKeepAliveTime(30, TimeUnit.SECONDS)
            .permitKeepAliveWithoutCalls(true);
    extraServices.forEach(builder::addService);
    this.server = builder.build();
  }

  /**
   * In ADS mode SimpleCache holds back a response while a requested name is missing from the
   * snapshot, but {@code setSnapshot} still drops that watch: a client asking for a Service that
   * appears later would wait forever. Answering with the resources that exist is plain
   * state-of-the-world semantics (absent means "does not exist") and every later version change
   * reaches the client.
   */
  static ConfigWatcher answerWithWhatExists(SimpleCache<String> cache) {
    return new ConfigWatcher() {
      @Override
      public Watch createWatch(
          boolean ads,
          XdsRequest request,
          Set<String> knownResourceNames,
          Consumer<Response> responseConsumer,
          boolean hasClusterChanged,
          boolean allowDefaultEmptyEdsUpdate) {
        return cache.createWatch(
            false,
            request,
            knownResourceNames,
            responseConsumer,
            hasClusterChanged,
            allowDefaultEmptyEdsUpdate);
      }

      @Override
      public DeltaWatch createDeltaWatch(
          DeltaXdsRequest request,
          String requesterVersion,
          Map<String, String> resourceVersions,
          Set<String> pendingResources,
          boolean isWildcard,
          Consumer<DeltaResponse> responseConsumer,
          boolean hasClusterChanged) {
        return cache.createDeltaWatch(
            request,
            requesterVersion,
            resourceVersions,
            pendingResources,
            isWildcard,
            responseConsumer,
            hasClusterChanged);
      }
    };
  }

  public XdsServer start() throws IOException {
    server.start();
    log.info("xDS (ADS) serving on port {}", port());
    return this;
  }

  public int port() {
    return server.getPort();
  }

  public SimpleCache<String> cache() {
    return cache;
  }

  public ProxyRegistry registry() {
    return registry;
  }

  @Override
  public void close() throws InterruptedException {
    server.shutdown();
    if (!server.awaitTermination(5, TimeUnit.SECONDS)) {
      server.shutdownNow();
    }
  }
}
