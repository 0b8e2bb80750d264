package dev.meshwork.sidecar.lb;

import static org.assertj.core.api.Assertions.assertThat;

import dev.meshwork.sidecar.testing.Backend;
import dev.meshwork.sidecar.testing.EchoService;
import dev.meshwork.sidecar.testing.Mesh;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.StreamObserver;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Per-call balancing: one client connection, many backends. A plain connection would pin every call
 * to one backend; the sidecar spreads them.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class BalancingIT {

  @Test
  void roundRobinSpreadsTenThousandCallsFromOneConnectionWithinFivePercent() throws Exception {
    try (Mesh mesh = new Mesh(5, Cluster.LbPolicy.ROUND_ROBIN)) {
      int[] counts = run(mesh, 10_000, 64);
      assertWithin(counts, 0.05);
    }
  }

  @Test
  void leastRequestSpreadsCallsEvenly() throws Exception {
    try (Mesh mesh = new Mesh(5, Cluster.LbPolicy.LEAST_REQUEST)) {
      int[] counts = run(mesh, 10_000, 64);
      // Power of two choices evens out load (calls in flight), not counts: a backend that answers
      // faster gets more calls. No backend is starved or pinned.
      assertWithin(counts, 0.25);
    }
  }

  @Test
  void backendThatShutsDownMidLoadCostsNoFailedCall() throws Exception {
    try (Mesh mesh = new Mesh(5, Cluster.LbPolicy.ROUND_ROBIN)) {
      ManagedChannel ch = mesh.client();
      AtomicInteger done = new AtomicInteger();
      AtomicInteger failed = new AtomicInteger();
      AtomicReference<Throwable> firstFailure = new AtomicReference<>();
      ExecutorService pool = Executors.newFixedThreadPool(8);
      List<Future<?>> workers = new ArrayList<>();
      for (int w = 0; w < 8; w++) {
        workers.add(
            pool.submit(
                () -> {
                  while (done.get() < 6000) {
                    try {
                      ClientCalls.blockingUnaryCall(
                          ch,
                          EchoService.UNARY,
                          CallOptions.DEFAULT.withDeadlineAfter(10, TimeUnit.SECONDS),
                          "x".getBytes(StandardCharsets.UTF_8));
                    } catch (RuntimeException e) {
                      failed.incrementAndGet();
                      firstFailure.compareAndSet(null, e);
                    }
                    int n = done.incrementAndGet();
                    if (n == 2000) {
                      // Graceful stop: GOAWAY, in-flight calls finish, new connections are refused.
                      mesh.backends.get(2).server.shutdown();
                    }
                  }
                }));
      }
      for (Future<?> f : workers) {
        f.get(120, TimeUnit.SECONDS);
      }
      pool.shutdown();
      assertThat(failed.get()).as("failed calls, first: %s", firstFailure.get()).isZero();
      // The stopped backend served nothing after it went away, the others took over.
      assertThat(mesh.backends.get(2).service.calls.get()).isLessThan(2000 / 5 + 200);
    }
  }

  @Test
  void deadEndpointIsSkippedWithoutFailingCalls() throws Exception {
    int deadPort;
    try (ServerSocket s = new ServerSocket(0)) {
      deadPort = s.getLocalPort();
    }
    try (Mesh mesh = new Mesh(2, Cluster.LbPolicy.ROUND_ROBIN)) {
      int[] ports = {mesh.backends.get(0).port(), deadPort, mesh.backends.get(1).port()};
      mesh.publish(Cluster.LbPolicy.ROUND_ROBIN, ports);
      org.awaitility.Awaitility.await()
          .until(
              () ->
                  mesh.sidecar.snapshots().get().clusters().endpointsOf(Mesh.CLUSTER).size() == 3);
      int[] counts = run(mesh, 300, 4);
      assertThat(counts[0] + counts[1]).isEqualTo(300);
      assertThat(mesh.sidecar.loads().of("127.0.0.1:" + deadPort).failures()).isPositive();
    }
  }

  /**
   * Runs {@code calls} unary calls with {@code concurrency} in flight; returns calls per backend.
   */
  private static int[] run(Mesh mesh, int calls, int concurrency) throws Exception {
    ManagedChannel ch = mesh.client();
    Semaphore inFlight = new Semaphore(concurrency);
    List<CompletableFuture<String>> all = new ArrayList<>(calls);
    for (int i = 0; i < calls; i++) {
      inFlight.acquire();
      CompletableFuture<String> f = new CompletableFuture<>();
      f.whenComplete((v, e) -> inFlight.release());
      ClientCalls.asyncUnaryCall(
          ch.newCall(EchoService.UNARY, CallOptions.DEFAULT),
          "x".getBytes(StandardCharsets.UTF_8),
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
      all.add(f);
    }
    int[] counts = new int[mesh.backends.size()];
    for (CompletableFuture<String> f : all) {
      String who = f.get(30, TimeUnit.SECONDS);
      counts[Integer.parseInt(who.substring(1, who.indexOf(':')))]++;
    }
    // The backends agree with what the client saw.
    for (int i = 0; i < counts.length; i++) {
      Backend b = mesh.backends.get(i);
      assertThat(b.service.calls.get()).isEqualTo(counts[i]);
    }
    return counts;
  }

  private static void assertWithin(int[] counts, double tolerance) {
    double mean = 0;
    for (int c : counts) {
      mean += c;
    }
    mean /= counts.length;
    for (int c : counts) {
      assertThat(Math.abs(c - mean) / mean)
          .as("counts %s", java.util.Arrays.toString(counts))
          .isLessThanOrEqualTo(tolerance);
    }
  }
}
