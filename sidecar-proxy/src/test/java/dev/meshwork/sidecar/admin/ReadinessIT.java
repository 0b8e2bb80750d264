package dev.meshwork.sidecar.admin;

import static org.assertj.core.api.Assertions.assertThat;

import dev.meshwork.sidecar.Sidecar;
import dev.meshwork.sidecar.SidecarConfig;
import dev.meshwork.sidecar.testing.Backend;
import dev.meshwork.sidecar.testing.ControlPlane;
import dev.meshwork.sidecar.testing.EchoService;
import dev.meshwork.sidecar.testing.Mesh;
import dev.meshwork.sidecar.testing.XdsResources;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.ClientCalls;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The readiness endpoint (15020 {@code /ready}) of a real sidecar fed by a real ADS server: not
 * ready while the route's cluster has not arrived (the bug: ready, then "unknown cluster" on the
 * first calls), ready once it has, and the first call then succeeds.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ReadinessIT {
  @Test
  void notReadyUntilTheClustersAndEndpointsTheRoutesNameArrived() throws Exception {
    try (ControlPlane cp = new ControlPlane();
        Backend backend = new Backend("b0")) {
      // Listener and route first; the cluster they name is not published yet.
      cp.publish(
          List.of(XdsResources.apiListener(Mesh.AUTHORITY)),
          List.of(
              XdsResources.routeConfig(
                  Mesh.AUTHORITY,
                  XdsResources.domains(Mesh.SVC, Mesh.NS, Mesh.PORT),
                  XdsResources.defaultRoute(Mesh.CLUSTER))),
          List.of(),
          List.of());
      Sidecar sidecar =
          Sidecar.start(
              SidecarConfig.parse(
                  new String[] {
                    "--xds", cp.address(),
                    "--pod-name", "ready-0",
                    "--outbound-port", "-1",
                    "--inbound-port", "-1",
                    "--admin-port", "-1",
                    "--status-port", "0",
                    "--workers", "1",
                    "--outbound-listen", "127.0.0.1:0"
                  },
                  k -> null));
      try {
        URI ready =
            URI.create(
                "http://127.0.0.1:" + sidecar.servers().getFirst().address().getPort() + "/ready");
        Awaitility.await()
            .atMost(Duration.ofSeconds(10))
            .until(() -> !sidecar.snapshots().get().routes().isEmpty());
        HttpResponse<String> notYet = get(ready);
        assertThat(notYet.statusCode()).isEqualTo(503);
        assertThat(notYet.body()).contains("missing cluster '" + Mesh.CLUSTER + "'");

        cp.publish(
            List.of(XdsResources.apiListener(Mesh.AUTHORITY)),
            List.of(
                XdsResources.routeConfig(
                    Mesh.AUTHORITY,
                    XdsResources.domains(Mesh.SVC, Mesh.NS, Mesh.PORT),
                    XdsResources.defaultRoute(Mesh.CLUSTER))),
            List.of(XdsResources.cluster(Mesh.CLUSTER, Cluster.LbPolicy.ROUND_ROBIN)),
            List.of(XdsResources.endpoints(Mesh.CLUSTER, backend.port())));
        Awaitility.await()
            .atMost(Duration.ofSeconds(10))
            .pollInterval(Duration.ofMillis(20))
            .until(() -> get(ready).statusCode() == 200);

        // The moment it is ready, calls find their cluster and endpoints.
        var a = sidecar.address("outbound");
        ManagedChannel ch =
            NettyChannelBuilder.forAddress(a.getHostString(), a.getPort())
                .overrideAuthority(Mesh.AUTHORITY)
                .usePlaintext()
                .build();
        try {
          byte[] r =
              ClientCalls.blockingUnaryCall(
                  ch,
                  EchoService.UNARY,
                  CallOptions.DEFAULT,
                  "first".getBytes(StandardCharsets.UTF_8));
          assertThat(new String(r, StandardCharsets.UTF_8)).isEqualTo("b0:first");
        } finally {
          ch.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
      } finally {
        sidecar.close();
      }
    }
  }

  @Test
  void waitsForTheWorkloadCertificateWhenOneIsRequired() {
    var holder = new dev.meshwork.sidecar.config.SnapshotHolder();
    holder.set(dev.meshwork.sidecar.config.SidecarSnapshot.EMPTY);
    HttpEndpoints.Reply waiting = AdminPages.ready(holder, () -> false);
    assertThat(waiting.status()).isEqualTo(503);
    assertThat(new String(waiting.body(), StandardCharsets.UTF_8)).contains("certificate");
    assertThat(AdminPages.ready(holder, () -> true).status()).isEqualTo(200);
  }

  private static HttpResponse<String> get(URI uri) throws Exception {
    return HttpClient.newHttpClient()
        .send(HttpRequest.newBuilder(uri).build(), HttpResponse.BodyHandlers.ofString());
  }
}
