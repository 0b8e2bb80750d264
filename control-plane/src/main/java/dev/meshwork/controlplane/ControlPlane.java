package dev.meshwork.controlplane;

import dev.meshwork.controlplane.debug.DebugHttpServer;
import dev.meshwork.controlplane.model.MeshModelBuilder;
import dev.meshwork.controlplane.model.PolicyReport;
import dev.meshwork.controlplane.model.RawConfig;
import dev.meshwork.controlplane.model.RouteReport;
import dev.meshwork.controlplane.source.ConfigSource;
import dev.meshwork.controlplane.status.StatusWriter;
import dev.meshwork.controlplane.xds.ProxyRegistry;
import dev.meshwork.controlplane.xds.SnapshotPublisher;
import dev.meshwork.controlplane.xds.XdsServer;
import io.grpc.BindableService;
import io.grpc.ServerCredentials;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One running control plane: source → model builder → snapshot publisher → ADS, plus the debug
 * server. Build with {@link #start}; close to stop everything it started.
 */
public final class ControlPlane implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(ControlPlane.class);

  /**
   * @param grpcAddress ADS (and extra services) address; port 0 picks a free one
   * @param httpAddress debug/health address; port 0 picks a free one
   * @param credentials TLS (from the CA, or files) or insecure for local runs
   * @param extraServices more gRPC services on the ADS port (the CA's CSR service)
   * @param pushDebounce how long the publisher waits for a burst of model changes to settle
   * @param trustDomain SPIFFE trust domain
   */
  public record Options(
      InetSocketAddress grpcAddress,
      InetSocketAddress httpAddress,
      ServerCredentials credentials,
      List<BindableService> extraServices,
      Duration pushDebounce,
      String trustDomain) {
    public Options {
      Objects.requireNonNull(grpcAddress, "grpcAddress");
      Objects.requireNonNull(httpAddress, "httpAddress");
      Objects.requireNonNull(credentials, "credentials");
      extraServices = List.copyOf(extraServices);
    }
  }

  private final ConfigSource source;
  private final XdsServer xds;
  private final SnapshotPublisher publisher;
  private final DebugHttpServer http;
  private final StatusWriter statusWriter;
  private final MeshModelBuilder builder;
  private final ExecutorService modelThread =
      Executors.newSingleThreadExecutor(
          r -> Thread.ofPlatform().name("meshwork-model").daemon().unstarted(r));
  private volatile boolean ready;
  private volatile List<RouteReport> reports = List.of();
  private volatile List<PolicyReport> policyReports = List.of();
  // For the metrics: models built and how long the last one took (model thread writes).
  private final java.util.concurrent.atomic.AtomicLong modelBuilds =
      new java.util.concurrent.atomic.AtomicLong();
  private volatile long lastModelBuildNanos;

  private ControlPlane(ConfigSource source, Options options, StatusWriter statusWriter)
      throws IOException {
    this.source = source;
    this.statusWriter = statusWriter;
    this.builder = new MeshModelBuilder(options.trustDomain());
    this.xds = new XdsServer(options.grpcAddress(), options.credentials(), options.extraServices());
    this.publisher = new SnapshotPublisher(xds.cache(), xds.registry(), options.pushDebounce());
    this.http =
        new DebugHttpServer(
            options.httpAddress(),
            xds.registry(),
            publisher,
            () -> ready,
            () -> reports,
            () -> policyReports);
  }

  /**
   * Starts serving, then starts the source; returns once the source is watching.
   *
   * @param statusWriter writes route and policy status (Kubernetes only), or null
   */
  public static ControlPlane start(ConfigSource source, Options options, StatusWriter statusWriter)
      throws IOException {
    ControlPlane cp = new ControlPlane(source, options, statusWriter);
    cp.xds.start();
    cp.http.start();
    cp.source.start(raw -> cp.modelThread.execute(() -> cp.onConfig(raw)));
    log.info("control plane started with {}", source.describe());
    return cp;
  }

  private void onConfig(RawConfig raw) {
    try {
      long started = System.nanoTime();
      MeshModelBuilder.Result result = builder.build(raw);
      lastModelBuildNanos = System.nanoTime() - started;
      modelBuilds.incrementAndGet();
      reports = result.reports();
      policyReports = result.policyReports();
      publisher.onModel(result.model());
      ready = true;
      if (statusWriter != null) {
        statusWriter.onReports(result.reports(), result.policyReports());
      }
      log.debug(
          "model {}: {} services, {} workloads, {} routes",
          result.model().generation(),
          result.model().services().size(),
          result.model().workloads().size(),
          result.model().routes().size());
    } catch (RuntimeException e) {
      // Never lose the thread: the previous model stays in force until the next change.
      log.error("building the mesh model failed; keeping the previous one", e);
    }
  }

  /** Mesh models built from the configuration since start. */
  public long modelBuildCount() {
    return modelBuilds.get();
  }

  /** How long building the last model took. */
  public Duration lastModelBuildDuration() {
    return Duration.ofNanos(lastModelBuildNanos);
  }

  public int grpcPort() {
    return xds.port();
  }

  public int httpPort() {
    return http.port();
  }

  public ProxyRegistry registry() {
    return xds.registry();
  }

  public SnapshotPublisher publisher() {
    return publisher;
  }

  public List<RouteReport> routeReports() {
    return reports;
  }

  /** The latest verdict on each PeerAuthentication. */
  public List<PolicyReport> policyReports() {
    return policyReports;
  }

  public DebugHttpServer http() {
    return http;
  }

  /** True once the first model has been built and handed to the publisher. */
  public boolean ready() {
    return ready;
  }

  @Override
  public void close() {
    source.close();
    modelThread.shutdownNow();
    if (statusWriter != null) {
      statusWriter.close();
    }
    http.close();
    // Streams first: a stream closing tells the publisher, which must still be running.
    try {
      xds.close();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    publisher.close();
  }
}
