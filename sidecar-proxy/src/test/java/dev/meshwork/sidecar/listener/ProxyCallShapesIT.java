package dev.meshwork.sidecar.listener;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

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
import io.grpc.stub.StreamObserver;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Every gRPC call shape through a real sidecar, between real grpc-java clients and servers. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ProxyCallShapesIT {
  static Mesh mesh;
  static ManagedChannel channel;

  @BeforeAll
  static void start() throws Exception {
    mesh = new Mesh(2, Cluster.LbPolicy.ROUND_ROBIN);
    channel = mesh.client();
  }

  @AfterAll
  static void stop() throws Exception {
    mesh.close();
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static String str(byte[] b) {
    return new String(b, StandardCharsets.UTF_8);
  }

  @Test
  void unary() {
    byte[] r =
        ClientCalls.blockingUnaryCall(channel, EchoService.UNARY, CallOptions.DEFAULT, bytes("hi"));
    assertThat(str(r)).matches("b[01]:hi");
  }

  @Test
  void serverStreaming() {
    Iterator<byte[]> it =
        ClientCalls.blockingServerStreamingCall(
            channel, EchoService.SERVER_STREAM, CallOptions.DEFAULT, bytes("50"));
    List<String> got = new ArrayList<>();
    it.forEachRemaining(b -> got.add(str(b).substring(3)));
    assertThat(got).hasSize(50).startsWith("0", "1").endsWith("49");
  }

  @Test
  void clientStreaming() throws Exception {
    CompletableFuture<String> result = new CompletableFuture<>();
    StreamObserver<byte[]> req =
        ClientCalls.asyncClientStreamingCall(
            channel.newCall(EchoService.CLIENT_STREAM, CallOptions.DEFAULT), observer(result));
    for (int i = 0; i < 100; i++) {
      req.onNext(new byte[1000]);
    }
    req.onCompleted();
    assertThat(result.get(10, TimeUnit.SECONDS)).endsWith(":100/100000");
  }

  @Test
  void bidiStreamingInterleaves() throws Exception {
    List<String> got = new ArrayList<>();
    CountDownLatch done = new CountDownLatch(1);
    AtomicReference<CountDownLatch> next = new AtomicReference<>(new CountDownLatch(1));
    StreamObserver<byte[]> req =
        ClientCalls.asyncBidiStreamingCall(
            channel.newCall(EchoService.BIDI, CallOptions.DEFAULT),
            new StreamObserver<>() {
              @Override
              public void onNext(byte[] v) {
                synchronized (got) {
                  got.add(str(v).substring(3));
                }
                next.get().countDown();
              }

              @Override
              public void onError(Throwable t) {
                done.countDown();
              }

              @Override
              public void onCompleted() {
                done.countDown();
              }
            });
    for (int i = 0; i < 20; i++) {
      CountDownLatch l = new CountDownLatch(1);
      next.set(l);
      req.onNext(bytes("m" + i));
      // Each reply arrives before the next request is sent: the streams really interleave.
      assertThat(l.await(5, TimeUnit.SECONDS)).isTrue();
    }
    req.onCompleted();
    assertThat(done.await(5, TimeUnit.SECONDS)).isTrue();
    assertThat(got).hasSize(20).startsWith("m0").endsWith("m19");
  }

  @Test
  void sixteenMebibyteMessagesBothWays() {
    byte[] big = new byte[16 * 1024 * 1024];
    Arrays.fill(big, (byte) 7);
    big[big.length - 1] = 9;
    byte[] r =
        ClientCalls.blockingUnaryCall(
            channel,
            EchoService.UNARY,
            CallOptions.DEFAULT.withMaxOutboundMessageSize(32 << 20),
            big);
    assertThat(r.length).isEqualTo(big.length + 3);
    assertThat(r[r.length - 1]).isEqualTo((byte) 9);
  }

  @Test
  void statusAndTrailersComeBackUnchanged() {
    assertThatThrownBy(
            () ->
                ClientCalls.blockingUnaryCall(
                    channel, EchoService.FAIL, CallOptions.DEFAULT, bytes("5")))
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            e -> {
              assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND);
              assertThat(e.getStatus().getDescription()).startsWith("failed by b");
              assertThat(e.getTrailers().get(EchoService.DETAIL)).startsWith("b");
            });
  }

  @Test
  void deadlineIsEnforcedAndPropagated() {
    long t0 = System.nanoTime();
    assertThatThrownBy(
            () ->
                ClientCalls.blockingUnaryCall(
                    channel,
                    EchoService.HANG,
                    CallOptions.DEFAULT.withDeadlineAfter(300, TimeUnit.MILLISECONDS),
                    bytes("x")))
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.DEADLINE_EXCEEDED));
    assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(3));
    // The backend saw a grpc-timeout header no larger than the client's deadline.
    String timeouts =
        mesh.backends.stream()
            .map(b -> b.service.lastHeaders)
            .filter(h -> h != null)
            .map(h -> h.get(Metadata.Key.of("grpc-timeout", Metadata.ASCII_STRING_MARSHALLER)))
            .filter(v -> v != null)
            .findFirst()
            .orElse("");
    assertThat(timeouts).isNotEmpty();
  }

  @Test
  void cancellationReachesTheServer() throws Exception {
    int before = mesh.backends.stream().mapToInt(b -> b.service.cancellations.get()).sum();
    ClientCall<byte[], byte[]> call = channel.newCall(EchoService.HANG, CallOptions.DEFAULT);
    ClientCalls.asyncUnaryCall(call, bytes("x"), observer(new CompletableFuture<>()));
    Awaitility.await()
        .atMost(Duration.ofSeconds(5))
        .until(() -> mesh.backends.stream().anyMatch(b -> b.service.hangStarted.getCount() == 0));
    call.cancel("user gave up", null);
    Awaitility.await()
        .atMost(Duration.ofSeconds(5))
        .until(
            () ->
                mesh.backends.stream().mapToInt(b -> b.service.cancellations.get()).sum() > before);
  }

  @Test
  void manyConcurrentStreamsOnOneConnection() throws Exception {
    List<CompletableFuture<String>> all = new ArrayList<>();
    for (int i = 0; i < 500; i++) {
      CompletableFuture<String> f = new CompletableFuture<>();
      ClientCalls.asyncUnaryCall(
          channel.newCall(EchoService.UNARY, CallOptions.DEFAULT), bytes("c" + i), observer(f));
      all.add(f);
    }
    for (int i = 0; i < all.size(); i++) {
      assertThat(all.get(i).get(20, TimeUnit.SECONDS)).endsWith(":c" + i);
    }
  }

  @Test
  void slowReaderBackPressuresTheServer() throws Exception {
    ClientCall<byte[], byte[]> call = channel.newCall(EchoService.FLOOD, CallOptions.DEFAULT);
    CountDownLatch first = new CountDownLatch(1);
    call.start(
        new ClientCall.Listener<>() {
          @Override
          public void onMessage(byte[] message) {
            first.countDown();
          }
        },
        new Metadata());
    call.sendMessage(bytes("go"));
    call.halfClose();
    call.request(1); // read one message, then nothing more
    assertThat(first.await(10, TimeUnit.SECONDS)).isTrue();
    EchoService flooder =
        mesh.backends.stream()
            .map(b -> b.service)
            .filter(s -> s.floodBytes.get() > 0)
            .findFirst()
            .orElseThrow();
    // The server stops writing: two samples 700 ms apart agree.
    java.util.concurrent.atomic.AtomicLong last = new java.util.concurrent.atomic.AtomicLong(-1);
    Awaitility.await()
        .atMost(Duration.ofSeconds(30))
        .pollInterval(Duration.ofMillis(700))
        .until(() -> last.getAndSet(flooder.floodBytes.get()) == flooder.floodBytes.get());
    // Bounded by the windows and buffers of the hops, not the gigabytes it would write otherwise.
    assertThat(flooder.floodBytes.get()).isLessThan(48L * 1024 * 1024);
    call.cancel("done", null);
  }

  private static StreamObserver<byte[]> observer(CompletableFuture<String> f) {
    return new StreamObserver<>() {
      @Override
      public void onNext(byte[] v) {
        f.complete(str(v));
      }

      @Override
      public void onError(Throwable t) {
        f.completeExceptionally(t);
      }

      @Override
      public void onCompleted() {
        f.complete("");
      }
    };
  }
}
