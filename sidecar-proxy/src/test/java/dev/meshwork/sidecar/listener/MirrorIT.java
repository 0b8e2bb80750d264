package dev.meshwork.sidecar.listener;

import static org.assertj.core.api.Assertions.assertThat;

import dev.meshwork.sidecar.testing.Backend;
import dev.meshwork.sidecar.testing.EchoService;
import dev.meshwork.sidecar.testing.Mesh;
import dev.meshwork.sidecar.testing.XdsResources;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.RouteAction;
import io.envoyproxy.envoy.config.route.v3.RouteMatch;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.StreamObserver;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Request mirroring (RDS {@code request_mirror_policies}): every call is copied to the mirror
 * cluster, whose answer is dropped; a mirror that is slow, silent or down never changes the main
 * call's answer or holds it up.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class MirrorIT {
  static final String SHADOW = XdsResources.clusterName("shadow", Mesh.NS, Mesh.PORT);

  Mesh mesh;
  ManagedChannel channel;

  @BeforeEach
  void start() throws Exception {
    mesh = new Mesh(1, Cluster.LbPolicy.ROUND_ROBIN);
    channel = mesh.client();
  }

  @AfterEach
  void stop() throws Exception {
    mesh.close();
  }

  /** Routes every call to the main cluster and mirrors it to {@link #SHADOW} at {@code port}. */
  private void mirrorTo(int port) {
    Route mirrored =
        Route.newBuilder()
            .setName("mirrored")
            .setMatch(RouteMatch.newBuilder().setPrefix("/"))
            .setRoute(
                RouteAction.newBuilder()
                    .setCluster(Mesh.CLUSTER)
                    .addRequestMirrorPolicies(
                        RouteAction.RequestMirrorPolicy.newBuilder().setCluster(SHADOW)))
            .build();
    mesh.controlPlane.publish(
        List.of(XdsResources.apiListener(Mesh.AUTHORITY)),
        List.of(
            XdsResources.routeConfig(
                Mesh.AUTHORITY, XdsResources.domains(Mesh.SVC, Mesh.NS, Mesh.PORT), mirrored)),
        List.of(
            XdsResources.cluster(Mesh.CLUSTER, Cluster.LbPolicy.ROUND_ROBIN),
            XdsResources.cluster(SHADOW, Cluster.LbPolicy.ROUND_ROBIN)),
        List.of(
            XdsResources.endpoints(Mesh.CLUSTER, mesh.ports()),
            XdsResources.endpoints(SHADOW, port)));
    Awaitility.await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> mesh.sidecar.snapshots().get().clusters().endpointsOf(SHADOW).size() == 1);
  }

  @Test
  void everyCallIsCopiedToTheMirrorAndOnlyTheMainAnswerComesBack() throws Exception {
    try (Backend shadow = new Backend("shadow")) {
      mirrorTo(shadow.port());
      for (int i = 0; i < 5; i++) {
        assertThat(unary("hi" + i)).isEqualTo("b0:hi" + i);
      }
      // A streaming call is copied whole too.
      CompletableFuture<String> sum = new CompletableFuture<>();
      StreamObserver<byte[]> req =
          ClientCalls.asyncClientStreamingCall(
              channel.newCall(EchoService.CLIENT_STREAM, CallOptions.DEFAULT), into(sum));
      for (int i = 0; i < 10; i++) {
        req.onNext(new byte[100]);
      }
      req.onCompleted();
      assertThat(sum.get(10, TimeUnit.SECONDS)).isEqualTo("b0:10/1000");
      Awaitility.await()
          .atMost(Duration.ofSeconds(10))
          .until(() -> shadow.service.calls.get() == 6);
      assertThat(mesh.backends.getFirst().service.calls.get()).isEqualTo(6);
    }
  }

  @Test
  void aMirrorThatNeverAnswersNorReadsDoesNotHoldUpTheCall() throws Exception {
    List<Socket> held = new CopyOnWriteArrayList<>();
    try (ServerSocket blackHole = new ServerSocket()) {
      blackHole.bind(new InetSocketAddress("127.0.0.1", 0));
      Thread acceptor =
          Thread.ofVirtual()
              .start(
                  () -> {
                    try {
                      while (true) {
                        held.add(blackHole.accept()); // accepts, never reads, never answers
                      }
                    } catch (java.io.IOException e) {
                      // closed at the end of the test
                    }
                  });
      mirrorTo(blackHole.getLocalPort());
      // 2 MiB: far more than the silent mirror's windows and buffers could take.
      byte[] big = new byte[2 * 1024 * 1024];
      for (int i = 0; i < 3; i++) {
        byte[] r =
            ClientCalls.blockingUnaryCall(
                channel,
                EchoService.UNARY,
                CallOptions.DEFAULT.withDeadlineAfter(10, TimeUnit.SECONDS),
                big);
        assertThat(r).hasSize(big.length + 3);
      }
      assertThat(unary("small")).isEqualTo("b0:small");
      assertThat(held).isNotEmpty();
      acceptor.interrupt();
    } finally {
      for (Socket s : held) {
        s.close();
      }
    }
  }

  @Test
  void aMirrorThatIsDownChangesNothing() throws Exception {
    int dead;
    try (ServerSocket s = new ServerSocket(0)) {
      dead = s.getLocalPort();
    }
    mirrorTo(dead);
    for (int i = 0; i < 5; i++) {
      assertThat(unary("x" + i)).isEqualTo("b0:x" + i);
    }
  }

  private String unary(String text) {
    return new String(
        ClientCalls.blockingUnaryCall(
            channel,
            EchoService.UNARY,
            CallOptions.DEFAULT.withDeadlineAfter(10, TimeUnit.SECONDS),
            text.getBytes(StandardCharsets.UTF_8)),
        StandardCharsets.UTF_8);
  }

  private static StreamObserver<byte[]> into(CompletableFuture<String> f) {
    return new StreamObserver<>() {
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
    };
  }
}
