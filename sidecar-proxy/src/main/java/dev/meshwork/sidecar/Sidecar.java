package dev.meshwork.sidecar;

import dev.meshwork.api.SpiffeId;
import dev.meshwork.sidecar.admin.AdminPages;
import dev.meshwork.sidecar.admin.HttpEndpoints;
import dev.meshwork.sidecar.cluster.UpstreamPools;
import dev.meshwork.sidecar.config.SnapshotHolder;
import dev.meshwork.sidecar.identity.CaClient;
import dev.meshwork.sidecar.identity.ReloadingRootsTrustManager;
import dev.meshwork.sidecar.identity.RotatingCertificateSource;
import dev.meshwork.sidecar.identity.TrustBundleFile;
import dev.meshwork.sidecar.inbound.Inbound;
import dev.meshwork.sidecar.lb.Balancers;
import dev.meshwork.sidecar.lb.LoadRegistry;
import dev.meshwork.sidecar.listener.LocalRouter;
import dev.meshwork.sidecar.listener.ProxyContext;
import dev.meshwork.sidecar.listener.ProxyListener;
import dev.meshwork.sidecar.listener.Transport;
import dev.meshwork.sidecar.outbound.Outbound;
import dev.meshwork.sidecar.route.XdsRouter;
import dev.meshwork.sidecar.telemetry.SidecarObserver;
import dev.meshwork.sidecar.telemetry.SidecarTelemetry;
import dev.meshwork.sidecar.tls.MeshTls;
import dev.meshwork.sidecar.xds.NodeInfo;
import dev.meshwork.sidecar.xds.XdsClient;
import io.grpc.ManagedChannel;
import io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.NettyChannelBuilder;
import io.netty.channel.EventLoopGroup;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.SslProvider;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import javax.net.ssl.SSLException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One running sidecar: event loops, the xDS client, listeners, admin and status servers. Built by
 * {@link #start(SidecarConfig)}; {@link #drain()} is the SIGTERM path.
 *
 * <p>Threading: start and drain from one control thread; everything else runs on event loops.
 */
public final class Sidecar implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Sidecar.class);

  private final SidecarConfig config;
  private final Transport transport = Transport.best();
  private final EventLoopGroup boss;
  private final EventLoopGroup workers;
  private final SnapshotHolder snapshots = new SnapshotHolder();
  private final LoadRegistry loads = new LoadRegistry();
  private final List<ProxyListener> listeners = new ArrayList<>();
  private final List<HttpEndpoints> servers = new ArrayList<>();
  private ManagedChannel xdsChannel;
  private XdsClient xds;
  private CaClient caClient;
  private RotatingCertificateSource certificates;
  private TrustBundleFile trustBundle;
  private TrustBundleFile xdsRoots;
  private MeshTls tls;
  private final SidecarTelemetry telemetry;

  private Sidecar(SidecarConfig config) {
    this.config = config;
    this.telemetry =
        new SidecarTelemetry(
            new SidecarTelemetry.WorkloadInfo(
                config.namespace(), config.podName(), config.workload()),
            config.telemetry());
    this.boss = transport.newGroup(1, "meshwork-accept");
    this.workers = transport.newGroup(config.workers(), "meshwork-worker");
  }

  public static Sidecar start(SidecarConfig config) throws Exception {
    Sidecar s = new Sidecar(config);
    try {
      s.startAll();
    } catch (Exception | Error e) {
      s.close();
      throw e;
    }
    return s;
  }

  private void startAll() throws Exception {
    if (Transport.epollUnavailability() != null) {
      log.warn("transport.nio reason={}", Transport.epollUnavailability().toString());
    }
    NodeInfo node =
        new NodeInfo(
            config.namespace(),
            config.podName(),
            config.serviceAccount(),
            config.workload(),
            config.labels(),
            config.instanceIps());
    xdsChannel = xdsChannel(config);
    xds = new XdsClient(xdsChannel, node.toProto(), snapshots);
    xds.start();

    Balancers balancers = new Balancers(loads);
    UpstreamPools pools = new UpstreamPools(transport.socketChannel(), config.limits());
    startIdentity();
    // Without a CA there is no certificate: mTLS clusters then fail closed, TLS peers are refused.
    Supplier<io.netty.handler.ssl.SslContext> noTls = tls == null ? () -> null : tls.client();
    ProxyContext outbound =
        new ProxyContext(
            snapshots,
            new XdsRouter(balancers, config.outboundAuthority()),
            pools,
            loads,
            config.limits(),
            noTls,
            null,
            transport.socketChannel(),
            null,
            false,
            telemetry.observer(SidecarObserver.Direction.OUTBOUND));
    if (config.outboundCapture() != null) {
      listeners.add(
          Outbound.listen(
              "outbound-capture",
              config.outboundCapture(),
              boss,
              workers,
              transport,
              outbound,
              true));
    }
    if (config.outboundListen() != null) {
      listeners.add(
          Outbound.listen(
              "outbound", config.outboundListen(), boss, workers, transport, outbound, false));
    }
    if (config.inboundCapture() != null) {
      ProxyContext in = inbound(balancers, pools, 0);
      listeners.add(
          Inbound.listen(
              "inbound-capture", config.inboundCapture(), boss, workers, transport, in, true));
    }
    if (config.inboundListen() != null) {
      ProxyContext in = inbound(balancers, pools, config.appPort());
      listeners.add(
          Inbound.listen("inbound", config.inboundListen(), boss, workers, transport, in, false));
    }
    if (config.admin() != null) {
      Map<String, Supplier<HttpEndpoints.Reply>> admin = new LinkedHashMap<>();
      admin.put(
          "/config_dump", () -> HttpEndpoints.Reply.json(AdminPages.configDump(snapshots, xds)));
      admin.put("/clusters", () -> HttpEndpoints.Reply.json(AdminPages.clusters(snapshots, loads)));
      admin.put("/ready", this::ready);
      servers.add(
          HttpEndpoints.serve("admin", config.admin(), boss, transport.serverChannel(), admin));
    }
    if (config.status() != null) {
      servers.add(
          HttpEndpoints.serve(
              "status",
              config.status(),
              boss,
              transport.serverChannel(),
              Map.of("/ready", this::ready, "/metrics", this::metrics)));
    }
  }

  private ProxyContext inbound(Balancers balancers, UpstreamPools pools, int appPort) {
    return new ProxyContext(
        snapshots,
        new LocalRouter(balancers, "127.0.0.1", appPort),
        pools,
        loads,
        config.limits(),
        () -> null,
        tls == null ? null : tls.server(),
        transport.socketChannel(),
        tls == null ? null : tls::forwardedClientCert,
        true,
        telemetry.observer(SidecarObserver.Direction.INBOUND));
  }

  /**
   * With {@code --ca}: a key generated here, a certificate for this pod's identity from the CA
   * (proven by the projected token), renewed at about half its life, and the TLS contexts over it.
   */
  private void startIdentity() throws Exception {
    if (config.caAddress() == null) {
      return;
    }
    SpiffeId id = new SpiffeId(config.trustDomain(), config.namespace(), config.serviceAccount());
    CaClient.Config ca =
        new CaClient.Config(
            config.caAddress(),
            config.caAuthority(),
            Path.of(config.caRootsFile()),
            Path.of(config.caTokenFile()),
            id,
            Duration.ZERO,
            Duration.ofSeconds(10));
    caClient =
        caSharesXdsChannel(config)
            ? new CaClient(ca, xdsChannel, Clock.systemUTC())
            : new CaClient(ca, Clock.systemUTC());
    certificates = new RotatingCertificateSource(caClient);
    certificates.start();
    // Peers are checked against the mounted trust bundle, which the control plane keeps current
    // (both roots during a rotation); re-read periodically, applied from the next handshake on.
    trustBundle =
        TrustBundleFile.watch(Path.of(config.caRootsFile()), TrustBundleFile.DEFAULT_PERIOD);
    tls = MeshTls.create(certificates, trustBundle, config.trustDomain(), Clock.systemUTC());
    log.info(
        "identity.requested id={} ca={} channel={} tls={}",
        id,
        config.caAddress(),
        caSharesXdsChannel(config) ? "xds" : "own",
        MeshTls.PROVIDER == SslProvider.OPENSSL
            ? "boringssl " + OpenSsl.versionString()
            : "jdk (" + OpenSsl.unavailabilityCause() + ")");
  }

  private HttpEndpoints.Reply ready() {
    // Ready once the first config is applied and, when asked for, the first certificate arrived.
    return AdminPages.ready(
        snapshots,
        () -> !config.requireCertificate() || (certificates != null && certificates.isReady()));
  }

  /** Prometheus text of every metric (GET /metrics on the status port). */
  private HttpEndpoints.Reply metrics() {
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream(16 * 1024);
    try {
      telemetry.scrape(out);
    } catch (java.io.IOException e) {
      return HttpEndpoints.Reply.text(500, "metrics unavailable: " + e.getMessage());
    }
    return new HttpEndpoints.Reply(
        200, SidecarTelemetry.PROMETHEUS_CONTENT_TYPE, out.toByteArray());
  }

  /**
   * True when the CA is the control plane at the xDS address, trusted through the same root file
   * (as injected sidecars are set up): its calls then go over the xDS channel, which checks the
   * CA's TLS name, instead of a second channel with a second handshake at start.
   */
  static boolean caSharesXdsChannel(SidecarConfig c) {
    return c.caAddress() != null
        && c.xdsCaFile() != null
        && c.caAddress().equals(c.xdsAddress())
        && samePath(c.caRootsFile(), c.xdsCaFile());
  }

  private static boolean samePath(String a, String b) {
    return Path.of(a).toAbsolutePath().normalize().equals(Path.of(b).toAbsolutePath().normalize());
  }

  private ManagedChannel xdsChannel(SidecarConfig c) throws SSLException {
    InetSocketAddress a = SidecarConfig.hostPort(c.xdsAddress());
    // On the accept loop, mostly idle, rather than an event-loop group of gRPC's own: two threads
    // fewer. Responses are parsed on the xDS client's executor, not on this loop.
    NettyChannelBuilder b =
        NettyChannelBuilder.forAddress(a.getHostString(), a.getPort())
            .eventLoopGroup(boss)
            .channelType(transport.socketChannel());
    if (caSharesXdsChannel(c)) {
      b.overrideAuthority(c.caAuthority());
    }
    if (c.xdsCaFile() == null) {
      b.usePlaintext();
    } else {
      // Re-read, not loaded once: the control plane's certificate moves to a new root during a
      // root rotation, and ADS must still reconnect afterwards.
      xdsRoots = TrustBundleFile.watch(Path.of(c.xdsCaFile()), TrustBundleFile.DEFAULT_PERIOD);
      if (xdsRoots.get().isEmpty()) {
        throw new IllegalArgumentException(
            "--xds-ca " + c.xdsCaFile() + " holds no readable certificate");
      }
      b.sslContext(
          GrpcSslContexts.forClient()
              .trustManager(new ReloadingRootsTrustManager(xdsRoots))
              .build());
    }
    return b.keepAliveTime(30, TimeUnit.SECONDS).build();
  }

  public SnapshotHolder snapshots() {
    return snapshots;
  }

  /** The sidecar's metrics, spans and access log (what the status port's /metrics serves). */
  public SidecarTelemetry telemetry() {
    return telemetry;
  }

  public LoadRegistry loads() {
    return loads;
  }

  public List<ProxyListener> listeners() {
    return List.copyOf(listeners);
  }

  /** The bound address of the listener called {@code name}. */
  public InetSocketAddress address(String name) {
    return listeners.stream()
        .filter(l -> l.name().equals(name))
        .findFirst()
        .orElseThrow()
        .address();
  }

  public List<HttpEndpoints> servers() {
    return List.copyOf(servers);
  }

  /**
   * The SIGTERM path: stop accepting, GOAWAY every connection, let calls in flight finish up to the
   * drain timeout, then stop everything.
   */
  public void drain() {
    log.info("sidecar.drain timeout={}", config.limits().drainTimeout());
    try {
      ProxyListener.drainAll(listeners, config.limits().drainTimeout());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    close();
  }

  @Override
  public void close() {
    for (HttpEndpoints s : servers) {
      s.close();
    }
    if (xds != null) {
      xds.close();
    }
    if (xdsChannel != null) {
      xdsChannel.shutdownNow();
    }
    try {
      if (certificates != null) {
        certificates.close();
      }
      if (caClient != null) {
        caClient.close();
      }
      if (trustBundle != null) {
        trustBundle.close();
      }
      if (xdsRoots != null) {
        xdsRoots.close();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    workers.shutdownGracefully(0, 2, TimeUnit.SECONDS);
    boss.shutdownGracefully(0, 2, TimeUnit.SECONDS);
    telemetry.close();
  }
}
