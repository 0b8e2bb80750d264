package dev.meshwork.sidecar;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.meshwork.sidecar.testing.Backend;
import dev.meshwork.sidecar.testing.ControlPlane;
import dev.meshwork.sidecar.testing.EchoService;
import dev.meshwork.sidecar.testing.Mesh;
import dev.meshwork.sidecar.testing.RawH2;
import dev.meshwork.sidecar.testing.XdsResources;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.StreamObserver;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Graceful drain: on SIGTERM the sidecar stops accepting, sends GOAWAY, lets calls in flight finish
 * up to {@code --drain-timeout}, then exits; a call that outlasts the bound is cut.
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class DrainIT {

  @Test
  void drainLetsCallsInFlightFinishAndCutsThoseBeyondTheBound() throws Exception {
    try (Mesh mesh = new Mesh(1, Cluster.LbPolicy.ROUND_ROBIN, "--drain-timeout", "3")) {
      ManagedChannel ch = mesh.client();
      EchoService server = mesh.backends.getFirst().service;
      CompletableFuture<String> shortCall = slow(ch, 1000);
      CompletableFuture<String> longCall = slow(ch, 30_000);
      Awaitility.await().until(() -> server.calls.get() == 2);
      RawH2 idle = new RawH2(mesh.sidecar.address("outbound")).preface();
      CompletableFuture<Void> drained = CompletableFuture.runAsync(mesh.sidecar::drain);
      // Every client connection is told: GOAWAY (NO_ERROR), then closed once its calls are done.
      try (idle) {
        RawH2.Frame goAway = idle.await(f -> f.type() == RawH2.GOAWAY, Duration.ofSeconds(5));
        assertThat(goAway).isNotNull();
        assertThat(goAway.errorCode()).isZero();
        assertThat(idle.closedWithin(Duration.ofSeconds(5))).isTrue();
      }
      assertThat(shortCall.get(10, TimeUnit.SECONDS)).isEqualTo("b0:1000");
      // The listener no longer accepts: a new client cannot get in.
      var a = mesh.sidecar.address("outbound");
      ManagedChannel late =
          NettyChannelBuilder.forAddress(a.getHostString(), a.getPort())
              .overrideAuthority(Mesh.AUTHORITY)
              .usePlaintext()
              .build();
      try {
        assertThatThrownBy(
                () ->
                    ClientCalls.blockingUnaryCall(
                        late,
                        EchoService.UNARY,
                        CallOptions.DEFAULT.withDeadlineAfter(5, TimeUnit.SECONDS),
                        "late".getBytes(StandardCharsets.UTF_8)))
            .isInstanceOfSatisfying(
                StatusRuntimeException.class,
                e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE));
      } finally {
        late.shutdownNow();
      }
      // The bound (3 s) ends the drain long before the 30 s call would have ended.
      drained.get(20, TimeUnit.SECONDS);
      assertThatThrownBy(() -> longCall.get(10, TimeUnit.SECONDS))
          .isInstanceOf(ExecutionException.class)
          .hasCauseInstanceOf(StatusRuntimeException.class);
    }
  }

  @Test
  void sigtermDrainsTheSidecarProcessAndItExits() throws Exception {
    try (ControlPlane cp = new ControlPlane();
        Backend backend = new Backend("b0")) {
      cp.publish(
          List.of(XdsResources.apiListener(Mesh.AUTHORITY)),
          List.of(
              XdsResources.routeConfig(
                  Mesh.AUTHORITY,
                  XdsResources.domains(Mesh.SVC, Mesh.NS, Mesh.PORT),
                  XdsResources.defaultRoute(Mesh.CLUSTER))),
          List.of(XdsResources.cluster(Mesh.CLUSTER, Cluster.LbPolicy.ROUND_ROBIN)),
          List.of(XdsResources.endpoints(Mesh.CLUSTER, backend.port())));
      int port;
      try (ServerSocket s = new ServerSocket(0)) {
        port = s.getLocalPort();
      }
      Process sidecar =
          new ProcessBuilder(
                  ProcessHandle.current().info().command().orElseThrow(),
                  "-Xmx128m",
                  "-XX:TieredStopAtLevel=1",
                  "--enable-native-access=ALL-UNNAMED",
                  "-cp",
                  System.getProperty("java.class.path"),
                  SidecarMain.class.getName(),
                  "run",
                  "--xds",
                  cp.address(),
                  "--pod-name",
                  "drain-0",
                  "--outbound-port",
                  "-1",
                  "--inbound-port",
                  "-1",
                  "--admin-port",
                  "-1",
                  "--status-port",
                  "-1",
                  "--workers",
                  "1",
                  "--outbound-listen",
                  "127.0.0.1:" + port,
                  "--drain-timeout",
                  "10")
              .inheritIO()
              .start();
      ManagedChannel ch =
          NettyChannelBuilder.forAddress("127.0.0.1", port)
              .overrideAuthority(Mesh.AUTHORITY)
              .usePlaintext()
              .build();
      try {
        Awaitility.await()
            .atMost(Duration.ofSeconds(30))
            .ignoreExceptions()
            .until(
                () ->
                    ClientCalls.blockingUnaryCall(
                                ch,
                                EchoService.UNARY,
                                CallOptions.DEFAULT.withDeadlineAfter(2, TimeUnit.SECONDS),
                                "up".getBytes(StandardCharsets.UTF_8))
                            .length
                        > 0);
        int before = backend.service.calls.get();
        CompletableFuture<String> inFlight = slow(ch, 1500);
        Awaitility.await().until(() -> backend.service.calls.get() > before);
        sidecar.destroy(); // SIGTERM
        assertThat(inFlight.get(15, TimeUnit.SECONDS)).isEqualTo("b0:1500");
        assertThat(sidecar.waitFor(15, TimeUnit.SECONDS)).as("sidecar exited").isTrue();
        assertThat(sidecar.exitValue()).isEqualTo(128 + 15);
      } finally {
        ch.shutdownNow();
        sidecar.destroyForcibly();
      }
    }
  }

  private static CompletableFuture<String> slow(ManagedChannel ch, int millis) {
    CompletableFuture<String> f = new CompletableFuture<>();
    ClientCalls.asyncUnaryCall(
        ch.newCall(EchoService.SLOW, CallOptions.DEFAULT.withDeadlineAfter(60, TimeUnit.SECONDS)),
        Integer.toString(millis).getBytes(StandardCharsets.UTF_8),
        new StreamObserver<>() {
          @Override
          public void onNext(byte[] v) {
            f.complete(new String(v, StandardCharsets.UTF_8));
          }

          @Override
          public void onError(Throwable t) {
            f.completeExceptionally(t);
          }

          @Override
          public void onCompleted() {}
        });
    return f;
  }
}
