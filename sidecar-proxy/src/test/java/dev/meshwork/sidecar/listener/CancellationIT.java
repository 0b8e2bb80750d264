package dev.meshwork.sidecar.listener;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.meshwork.sidecar.Sidecar;
import dev.meshwork.sidecar.SidecarConfig;
import dev.meshwork.sidecar.testing.EchoService;
import dev.meshwork.sidecar.testing.Mesh;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCalls;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Cancellation and deadlines across a sidecar pair, as in the mesh: grpc-java client -> outbound
 * sidecar -> inbound sidecar -> grpc-java server. A client's cancellation (RST_STREAM) reaches the
 * server through both hops, for unary and streaming calls; the deadline travels as {@code
 * grpc-timeout}, never larger than the client's.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class CancellationIT {
  static Mesh mesh;
  static Sidecar inbound;
  static ManagedChannel channel;

  @BeforeAll
  static void start() throws Exception {
    mesh = new Mesh(1, Cluster.LbPolicy.ROUND_ROBIN);
    inbound =
        Sidecar.start(
            SidecarConfig.parse(
                new String[] {
                  "--xds", mesh.controlPlane.address(),
                  "--pod-name", "server-0",
                  "--outbound-port", "-1",
                  "--inbound-port", "-1",
                  "--admin-port", "-1",
                  "--status-port", "-1",
                  "--workers", "1",
                  "--inbound-listen", "127.0.0.1:0",
                  "--app-port", Integer.toString(mesh.backends.getFirst().port())
                },
                k -> null));
    // The outbound sidecar's only endpoint is the server's inbound sidecar.
    mesh.publish(Cluster.LbPolicy.ROUND_ROBIN, new int[] {inbound.address("inbound").getPort()});
    Awaitility.await()
        .until(
            () ->
                mesh.sidecar
                        .snapshots()
                        .get()
                        .clusters()
                        .endpointsOf(Mesh.CLUSTER)
                        .getFirst()
                        .port()
                    == inbound.address("inbound").getPort());
    channel = mesh.client();
  }

  @AfterAll
  static void stop() throws Exception {
    mesh.close();
    inbound.close();
  }

  static EchoService server() {
    return mesh.backends.getFirst().service;
  }

  @Test
  void cancelledUnaryCallIsCancelledAtTheServerThroughBothSidecars() {
    int before = server().cancellations.get();
    ClientCall<byte[], byte[]> call = channel.newCall(EchoService.HANG, CallOptions.DEFAULT);
    call.start(new ClientCall.Listener<>() {}, new Metadata());
    call.sendMessage("x".getBytes(StandardCharsets.UTF_8));
    call.halfClose();
    call.request(1);
    Awaitility.await().until(() -> server().hangStarted.getCount() == 0);
    call.cancel("the user gave up", null);
    Awaitility.await()
        .atMost(Duration.ofSeconds(5))
        .until(() -> server().cancellations.get() > before);
  }

  @Test
  void cancelledServerStreamStopsTheServerMidStream() throws Exception {
    int before = server().cancellations.get();
    CountDownLatch got = new CountDownLatch(3);
    ClientCall<byte[], byte[]> call = channel.newCall(EchoService.FLOOD, CallOptions.DEFAULT);
    call.start(
        new ClientCall.Listener<>() {
          @Override
          public void onMessage(byte[] message) {
            got.countDown();
            call.request(1);
          }
        },
        new Metadata());
    call.sendMessage("go".getBytes(StandardCharsets.UTF_8));
    call.halfClose();
    call.request(1);
    assertThat(got.await(10, TimeUnit.SECONDS)).isTrue();
    call.cancel("enough", null);
    Awaitility.await()
        .atMost(Duration.ofSeconds(5))
        .until(() -> server().cancellations.get() > before);
  }

  @Test
  void deadlineTravelsAsGrpcTimeoutAndExpiresEverywhere() {
    int before = server().cancellations.get();
    assertThatThrownBy(
            () ->
                ClientCalls.blockingUnaryCall(
                    channel,
                    EchoService.HANG,
                    CallOptions.DEFAULT.withDeadlineAfter(1500, TimeUnit.MILLISECONDS),
                    "x".getBytes(StandardCharsets.UTF_8)))
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.DEADLINE_EXCEEDED));
    String timeout =
        server().lastHeaders.get(Metadata.Key.of("grpc-timeout", Metadata.ASCII_STRING_MARSHALLER));
    assertThat(timeout).isNotNull();
    assertThat(nanos(timeout))
        .isPositive()
        .isLessThanOrEqualTo(TimeUnit.MILLISECONDS.toNanos(1500));
    // The server's call ended too (its own deadline or the proxies' reset), not left hanging.
    Awaitility.await()
        .atMost(Duration.ofSeconds(5))
        .until(() -> server().cancellations.get() > before);
  }

  @Test
  void aServerThatAbortsMidStreamEndsTheCallersStream() throws Exception {
    // The other direction: the server side goes away under an open stream; the caller is told at
    // once instead of waiting forever.
    try (Mesh own = new Mesh(1, Cluster.LbPolicy.ROUND_ROBIN)) {
      java.util.concurrent.BlockingQueue<String> events =
          new java.util.concurrent.LinkedBlockingQueue<>();
      io.grpc.stub.StreamObserver<byte[]> bidi =
          ClientCalls.asyncBidiStreamingCall(
              own.client().newCall(EchoService.BIDI, CallOptions.DEFAULT),
              new io.grpc.stub.StreamObserver<>() {
                @Override
                public void onNext(byte[] v) {
                  events.add(new String(v, StandardCharsets.UTF_8));
                }

                @Override
                public void onError(Throwable t) {
                  events.add("error " + Status.fromThrowable(t).getCode());
                }

                @Override
                public void onCompleted() {
                  events.add("completed");
                }
              });
      bidi.onNext("one".getBytes(StandardCharsets.UTF_8));
      assertThat(events.poll(10, TimeUnit.SECONDS)).isEqualTo("b0:one");
      own.backends.getFirst().server.shutdownNow();
      assertThat(events.poll(10, TimeUnit.SECONDS)).startsWith("error ");
    }
  }

  /** grpc-timeout: digits and a unit (H, M, S, m, u, n). */
  static long nanos(String t) {
    long v = Long.parseLong(t.substring(0, t.length() - 1));
    return switch (t.charAt(t.length() - 1)) {
      case 'H' -> TimeUnit.HOURS.toNanos(v);
      case 'M' -> TimeUnit.MINUTES.toNanos(v);
      case 'S' -> TimeUnit.SECONDS.toNanos(v);
      case 'm' -> TimeUnit.MILLISECONDS.toNanos(v);
      case 'u' -> TimeUnit.MICROSECONDS.toNanos(v);
      case 'n' -> v;
      default -> throw new IllegalArgumentException("bad grpc-timeout " + t);
    };
  }
}
