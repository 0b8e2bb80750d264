package dev.meshwork.meshctl.demo.apps;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.meshwork.meshctl.demo.v1.GreeterGrpc;
import dev.meshwork.meshctl.demo.v1.HelloReply;
import dev.meshwork.meshctl.demo.v1.HelloRequest;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The demo's caller: drives unary calls at a fixed rate to the greeter Service through its own
 * sidecar, over one client connection (the case a plain Kubernetes Service cannot balance), and
 * prints one JSON line of {@link CallStats} per interval on stdout for {@code meshctl demo} to
 * read.
 *
 * <p>Usage: {@code CallerApp --target 127.0.0.1:15001 --authority
 * greeter.demo.svc.cluster.local:50051 --rate 200 [--interval-ms 500] [--deadline-ms 5000]
 * [--warmup-calls 200]}
 */
public final class CallerApp {
  private CallerApp() {}

  public static void main(String[] args) throws Exception {
    Args a = Args.parse(args);
    int rate = Integer.parseInt(a.get("rate", "200"));
    long intervalMs = Long.parseLong(a.get("interval-ms", "500"));
    long deadlineMs = Long.parseLong(a.get("deadline-ms", "5000"));
    ManagedChannel channel =
        NettyChannelBuilder.forTarget(a.get("target"))
            .overrideAuthority(a.get("authority"))
            .usePlaintext()
            .build();
    GreeterGrpc.GreeterStub stub = GreeterGrpc.newStub(channel);
    CallStats stats = new CallStats();
    ObjectMapper json = new ObjectMapper();
    PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
    HelloRequest request = HelloRequest.newBuilder().setName("demo").build();

    warmUp(
        GreeterGrpc.newBlockingStub(channel),
        request,
        Integer.parseInt(a.get("warmup-calls", "200")),
        json,
        out);

    ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
    // Open loop: a call starts every period whether or not earlier ones finished, so a slow hop
    // shows up as latency instead of silently lowering the rate.
    long periodNanos = TimeUnit.SECONDS.toNanos(1) / Math.max(1, rate);
    timer.scheduleAtFixedRate(
        () -> {
          long start = System.nanoTime();
          stub.withDeadlineAfter(deadlineMs, TimeUnit.MILLISECONDS)
              .sayHello(
                  request,
                  new StreamObserver<>() {
                    @Override
                    public void onNext(HelloReply reply) {
                      stats.success(reply, System.nanoTime() - start);
                    }

                    @Override
                    public void onError(Throwable t) {
                      stats.failure(Status.fromThrowable(t));
                    }

                    @Override
                    public void onCompleted() {}
                  });
        },
        0,
        periodNanos,
        TimeUnit.NANOSECONDS);
    timer.scheduleAtFixedRate(
        () -> {
          try {
            out.println(json.writeValueAsString(stats.drain()));
          } catch (Exception e) {
            System.err.println("caller: cannot write stats: " + e);
          }
        },
        intervalMs,
        intervalMs,
        TimeUnit.MILLISECONDS);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  timer.shutdownNow();
                  channel.shutdownNow();
                }));
    Thread.currentThread().join();
  }

  /**
   * Before the measured run, calls one at a time until {@code calls} have succeeded: nine JVMs
   * starting on a small machine are slow for a few seconds, and that start-up is not the mesh's
   * behaviour. Reports what it took as one {@code {"warmup": ...}} line; gives up after 60 s, which
   * the demo reports as a failure.
   */
  static void warmUp(
      GreeterGrpc.GreeterBlockingStub stub,
      HelloRequest request,
      int calls,
      ObjectMapper json,
      PrintStream out)
      throws Exception {
    long start = System.nanoTime();
    long deadline = start + TimeUnit.SECONDS.toNanos(60);
    int ok = 0;
    int failed = 0;
    String lastError = "";
    while (ok < calls && System.nanoTime() < deadline) {
      try {
        stub.withDeadlineAfter(10, TimeUnit.SECONDS).sayHello(request);
        ok++;
      } catch (io.grpc.StatusRuntimeException e) {
        failed++;
        lastError = e.getStatus().toString();
        Thread.sleep(100);
      }
    }
    Map<String, Object> w = new LinkedHashMap<>();
    w.put("calls", ok + failed);
    w.put("errors", failed);
    w.put("succeeded", ok >= calls);
    w.put("seconds", (System.nanoTime() - start) / 1e9);
    w.put("lastError", lastError);
    out.println(json.writeValueAsString(Map.of("warmup", w)));
  }

  /** Counters for one interval; {@link #drain()} returns them and starts the next interval. */
  static final class CallStats {
    private Map<String, Object> current = fresh();

    private static Map<String, Object> fresh() {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("calls", 0L);
      m.put("errors", 0L);
      m.put("errorCodes", new TreeMap<String, Long>());
      m.put("instances", new TreeMap<String, Long>());
      m.put("versions", new TreeMap<String, Long>());
      m.put("hops", new TreeMap<String, Long>());
      m.put("mtlsHops", 0L);
      m.put("latencyMicros", new ArrayList<Long>());
      return m;
    }

    @SuppressWarnings("unchecked")
    synchronized void success(HelloReply reply, long nanos) {
      current.merge("calls", 1L, (x, y) -> (Long) x + (Long) y);
      ((Map<String, Long>) current.get("instances")).merge(reply.getInstance(), 1L, Long::sum);
      ((Map<String, Long>) current.get("versions")).merge(reply.getVersion(), 1L, Long::sum);
      ForwardedClientCert xfcc = ForwardedClientCert.parse(reply.getForwardedClientCert());
      ((Map<String, Long>) current.get("hops")).merge(xfcc.hopName(), 1L, Long::sum);
      if (xfcc.isMutual()) {
        current.merge("mtlsHops", 1L, (x, y) -> (Long) x + (Long) y);
      }
      ((List<Long>) current.get("latencyMicros")).add(nanos / 1_000);
    }

    @SuppressWarnings("unchecked")
    synchronized void failure(Status status) {
      current.merge("calls", 1L, (x, y) -> (Long) x + (Long) y);
      current.merge("errors", 1L, (x, y) -> (Long) x + (Long) y);
      ((Map<String, Long>) current.get("errorCodes")).merge(status.getCode().name(), 1L, Long::sum);
    }

    synchronized Map<String, Object> drain() {
      Map<String, Object> done = current;
      current = fresh();
      return done;
    }
  }
}
