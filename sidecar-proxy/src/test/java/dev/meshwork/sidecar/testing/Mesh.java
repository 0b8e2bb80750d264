package dev.meshwork.sidecar.testing;

import dev.meshwork.sidecar.Sidecar;
import dev.meshwork.sidecar.SidecarConfig;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;

/**
 * A small mesh on loopback for integration tests: a control plane, N backends of service {@code
 * echo.default:8080}, and one sidecar in explicit mode that the client dials directly.
 */
public final class Mesh implements AutoCloseable {
  public static final String SVC = "echo";
  public static final String NS = "default";
  public static final int PORT = 8080;
  public static final String AUTHORITY = XdsResources.hostPort(SVC, NS, PORT);
  public static final String CLUSTER = XdsResources.clusterName(SVC, NS, PORT);

  public final ControlPlane controlPlane;
  public final List<Backend> backends = new ArrayList<>();
  public final Sidecar sidecar;
  private final List<ManagedChannel> channels = new ArrayList<>();

  public Mesh(int backends, Cluster.LbPolicy policy, String... extraFlags) throws Exception {
    controlPlane = new ControlPlane();
    for (int i = 0; i < backends; i++) {
      this.backends.add(new Backend("b" + i));
    }
    publish(policy, ports());
    List<String> flags =
        new ArrayList<>(
            List.of(
                "--xds", controlPlane.address(),
                "--namespace", NS,
                "--pod-name", "client-0",
                "--outbound-port", "-1",
                "--inbound-port", "-1",
                "--admin-port", "0",
                "--status-port", "-1",
                "--workers", "2",
                "--outbound-listen", "127.0.0.1:0"));
    flags.addAll(List.of(extraFlags));
    sidecar = Sidecar.start(SidecarConfig.parse(flags.toArray(String[]::new), k -> null));
    Awaitility.await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> sidecar.snapshots().get().clusters().endpointsOf(CLUSTER).size() == backends);
  }

  public int[] ports() {
    return backends.stream().mapToInt(Backend::port).toArray();
  }

  /**
   * Publishes listener, route (default route plus {@code extraRoutes} first), cluster and
   * endpoints.
   */
  public String publish(Cluster.LbPolicy policy, int[] ports, Route... extraRoutes) {
    Route[] routes = new Route[extraRoutes.length + 1];
    System.arraycopy(extraRoutes, 0, routes, 0, extraRoutes.length);
    routes[extraRoutes.length] = XdsResources.defaultRoute(CLUSTER);
    return controlPlane.publish(
        List.of(XdsResources.apiListener(AUTHORITY)),
        List.of(XdsResources.routeConfig(AUTHORITY, XdsResources.domains(SVC, NS, PORT), routes)),
        List.of(XdsResources.cluster(CLUSTER, policy)),
        List.of(XdsResources.endpoints(CLUSTER, ports)));
  }

  /** A client channel to the sidecar's explicit outbound listener, as the app would dial it. */
  public ManagedChannel client() {
    var a = sidecar.address("outbound");
    ManagedChannel ch =
        NettyChannelBuilder.forAddress(a.getHostString(), a.getPort())
            .overrideAuthority(AUTHORITY)
            .usePlaintext()
            .maxInboundMessageSize(32 * 1024 * 1024)
            .build();
    channels.add(ch);
    return ch;
  }

  @Override
  public void close() throws Exception {
    for (ManagedChannel c : channels) {
      c.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
    sidecar.close();
    for (Backend b : backends) {
      b.close();
    }
    controlPlane.close();
  }
}
