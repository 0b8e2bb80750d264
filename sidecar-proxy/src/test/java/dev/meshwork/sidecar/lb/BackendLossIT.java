package dev.meshwork.sidecar.lb;

import static org.assertj.core.api.Assertions.assertThat;

import dev.meshwork.sidecar.testing.Backend;
import dev.meshwork.sidecar.testing.EchoService;
import dev.meshwork.sidecar.testing.Mesh;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.StreamObserver;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A backend that disappears mid-load costs no call that was safe to retry: calls that never reached
 * it (connection refused, refused streams, beyond a GOAWAY) are retried once on another endpoint.
 * Only calls the dead backend had already taken may fail.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class BackendLossIT {
  static final int WORKERS = 8;

  @Test
  void killedBackendFailsAtMostTheCallsItHadTaken() throws Exception {
    try (Mesh mesh = new Mesh(4, Cluster.LbPolicy.ROUND_ROBIN)) {
      ManagedChannel ch = mesh.client();
      Backend victim = mesh.backends.get(2);
      int victimPort = victim.port();
      AtomicInteger done = new AtomicInteger();
      List<Integer> failedAt = new CopyOnWriteArrayList<>();
      List<Status.Code> codes = new CopyOnWriteArrayList<>();
      AtomicInteger killedAt = new AtomicInteger(Integer.MAX_VALUE);
      runLoad(
          WORKERS,
          3000,
          done,
          i -> {
            try {
              slow(ch, 5);
            } catch (StatusRuntimeException e) {
              failedAt.add(i);
              codes.add(e.getStatus().getCode());
            }
            if (i == 800) {
              // Abrupt: connections are closed under the calls in flight; new connects are refused.
              killedAt.set(i);
              victim.server.shutdownNow();
            }
          });
      // Calls in flight on the victim when it died may fail (they reached it: not safe to
      // replay); nothing else. Each worker has at most one call in flight.
      assertThat(failedAt).hasSizeLessThanOrEqualTo(WORKERS);
      assertThat(failedAt)
          .allMatch(i -> i > killedAt.get() - WORKERS && i < killedAt.get() + 4 * WORKERS);
      assertThat(codes).allMatch(c -> c == Status.Code.UNAVAILABLE || c == Status.Code.CANCELLED);
      assertThat(mesh.sidecar.loads().of("127.0.0.1:" + victimPort).failures())
          .as("new connections to the dead backend were refused, and those calls retried")
          .isPositive();
    }
  }

  @Test
  void backendRemovedFromEdsMidLoadFailsNoCall() throws Exception {
    try (Mesh mesh = new Mesh(3, Cluster.LbPolicy.ROUND_ROBIN)) {
      ManagedChannel ch = mesh.client();
      AtomicInteger done = new AtomicInteger();
      List<Throwable> failures = new CopyOnWriteArrayList<>();
      int[] ports = mesh.ports();
      CompletableFuture<Integer> servedAtRemoval = new CompletableFuture<>();
      runLoad(
          WORKERS,
          2000,
          done,
          i -> {
            try {
              slow(ch, 2);
            } catch (StatusRuntimeException e) {
              failures.add(e);
            }
            if (i == 600) {
              String v = mesh.publish(Cluster.LbPolicy.ROUND_ROBIN, new int[] {ports[0], ports[2]});
              Awaitility.await()
                  .until(
                      () ->
                          mesh.sidecar.snapshots().get().clusters().endpointsOf(Mesh.CLUSTER).size()
                              == 2);
              servedAtRemoval.complete(mesh.backends.get(1).service.calls.get());
              // Then the backend goes away for good, as a terminated pod does.
              try {
                mesh.backends.get(1).server.shutdown();
              } catch (RuntimeException e) {
                failures.add(e);
              }
            }
          });
      assertThat(failures).isEmpty();
      assertThat(mesh.backends.get(1).service.calls.get())
          .as("no new call went to the removed endpoint")
          .isLessThanOrEqualTo(servedAtRemoval.get() + WORKERS);
    }
  }

  @Test
  void refusedStreamsAreRetriedOnAnotherEndpoint() throws Exception {
    try (Mesh mesh = new Mesh(1, Cluster.LbPolicy.ROUND_ROBIN)) {
      // A backend taking one stream per connection refuses the others it is sent before its
      // SETTINGS reach the proxy (RST_STREAM REFUSED_STREAM): never processed, safe to retry.
      Backend narrow = new Backend("b1", 0, 1);
      mesh.backends.add(narrow);
      mesh.publish(Cluster.LbPolicy.ROUND_ROBIN, mesh.ports());
      Awaitility.await()
          .until(
              () ->
                  mesh.sidecar.snapshots().get().clusters().endpointsOf(Mesh.CLUSTER).size() == 2);
      ManagedChannel ch = mesh.client();
      List<CompletableFuture<String>> calls = new ArrayList<>();
      for (int i = 0; i < 40; i++) {
        CompletableFuture<String> f = new CompletableFuture<>();
        ClientCalls.asyncUnaryCall(
            ch.newCall(
                EchoService.SLOW, CallOptions.DEFAULT.withDeadlineAfter(20, TimeUnit.SECONDS)),
            "200".getBytes(StandardCharsets.UTF_8),
            observer(f));
        calls.add(f);
      }
      for (CompletableFuture<String> f : calls) {
        assertThat(f.get(30, TimeUnit.SECONDS)).matches("b[01]:200");
      }
      assertThat(narrow.service.calls.get()).isPositive();
    }
  }

  interface Call {
    void run(int index) throws Exception;
  }

  /** {@code workers} threads run {@code total} calls, each told its global index. */
  private static void runLoad(int workers, int total, AtomicInteger counter, Call call)
      throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(workers);
    List<Future<?>> all = new ArrayList<>();
    for (int w = 0; w < workers; w++) {
      all.add(
          pool.submit(
              () -> {
                int i;
                while ((i = counter.getAndIncrement()) < total) {
                  call.run(i);
                }
                return null;
              }));
    }
    for (Future<?> f : all) {
      f.get(90, TimeUnit.SECONDS);
    }
    pool.shutdown();
  }

  private static void slow(ManagedChannel ch, int millis) {
    ClientCalls.blockingUnaryCall(
        ch,
        EchoService.SLOW,
        CallOptions.DEFAULT.withDeadlineAfter(10, TimeUnit.SECONDS),
        Integer.toString(millis).getBytes(StandardCharsets.UTF_8));
  }

  private static StreamObserver<byte[]> observer(CompletableFuture<String> f) {
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
