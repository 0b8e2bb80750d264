package dev.meshwork.bench.dataplane;

import com.google.protobuf.ByteString;
import dev.meshwork.meshctl.demo.v1.GreeterGrpc;
import dev.meshwork.meshctl.demo.v1.HelloReply;
import dev.meshwork.meshctl.demo.v1.HelloRequest;
import io.grpc.EquivalentAddressGroup;
import io.grpc.ManagedChannel;
import io.grpc.NameResolver;
import io.grpc.NameResolverProvider;
import io.grpc.NameResolverRegistry;
import io.grpc.StatusOr;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * {@code scenario = rollout}: calls failed and latency while every backend of the greeter is
 * replaced one by one (start the new one, update the endpoints, then remove the old one from the
 * endpoints and SIGTERM it at the same moment, as Kubernetes does), under a steady open-loop load.
 *
 * <ul>
 *   <li>{@code meshwork}: the caller dials its sidecar; endpoints change through the control
 *       plane's folder source; every backend has its own sidecar, which drains on SIGTERM.
 *   <li>{@code direct}: no mesh; grpc-java's round_robin over a list of addresses updated at each
 *       step (as a headless Service's DNS would be); the backend's own graceful shutdown (GOAWAY).
 * </ul>
 */
final class RolloutScenario {
  private static final int RATE = 200;
  private static final String MESH_NET = "127.0.41.";
  private static final int GRPC_PORT = 25212;
  private static final int HTTP_PORT = 25214;

  private RolloutScenario() {}

  static List<DataPlaneBench.Row> run(
      Path home, Path sidecarJar, List<String> flags, Path work, boolean quick) {
    int backends = quick ? 1 : 3;
    List<DataPlaneBench.Row> rows = new ArrayList<>();
    System.out.println("== rollout (" + backends + " backends replaced one by one)");
    for (boolean mesh : List.of(true, false)) {
      String path = mesh ? "meshwork" : "direct";
      try {
        DataPlaneBench.Row row =
            mesh
                ? withMesh(sidecarJar, flags, work.resolve("rollout-mesh"), backends)
                : withoutMesh(work.resolve("rollout-direct"), backends);
        rows.add(row);
        System.out.printf(
            Locale.ROOT,
            "  %s: %d of %d calls failed, p50 %.3f p99 %.3f max %.3f ms%n",
            path,
            row.errors(),
            row.calls(),
            row.p50Ms(),
            row.p99Ms(),
            row.maxMs());
      } catch (Exception e) {
        System.out.printf("  rollout %s failed: %s (logs in %s)%n", path, e, work);
        rows.add(DataPlaneBench.Row.failed("rollout", path, null, "failed: " + e));
      }
    }
    return rows;
  }

  // ---------------------------------------------------------------- with the mesh

  private static DataPlaneBench.Row withMesh(
      Path sidecarJar, List<String> flags, Path dir, int backends) throws Exception {
    Files.createDirectories(dir.resolve("config"));
    Path tokens = dir.resolve("tokens.properties");
    Files.writeString(tokens, "bench-greeter=bench/greeter\nbench-client=bench/client\n");
    Files.writeString(dir.resolve("client-0.token"), "bench-client");
    List<Process> all = new ArrayList<>();
    List<Backend> live = new ArrayList<>();
    int[] next = {0};
    try {
      writeMeshYaml(dir, live);
      Process cp =
          start(
              MeshworkPair.controlPlaneCommand(
                  dir.resolve("config"), GRPC_PORT, HTTP_PORT, dir, tokens),
              dir.resolve("control-plane.log"),
              all);
      ProxyPair.awaitPort("127.0.0.1", HTTP_PORT, cp, Duration.ofSeconds(30));
      for (int i = 0; i < backends; i++) {
        live.add(startMeshBackend(sidecarJar, flags, dir, next[0]++, all));
      }
      writeMeshYaml(dir, live);
      List<String> client =
          MeshworkPair.sidecarCommand(
              flags, sidecarJar, dir, GRPC_PORT, "client-0", "client", MESH_NET + "1", 26500);
      client.addAll(List.of("--outbound-listen", MESH_NET + "1:15001"));
      Process c = start(client, dir.resolve("client-0-sidecar.log"), all);
      MeshworkPair.awaitReady(c, "http://127.0.0.1:26500/ready", Duration.ofSeconds(60));
      ManagedChannel ch =
          NettyChannelBuilder.forTarget(MESH_NET + "1:15001")
              .overrideAuthority("greeter.bench.svc.cluster.local:50051")
              .usePlaintext()
              .build();
      try {
        return measure(
            ch,
            "meshwork",
            backends,
            () -> {
              Backend fresh = startMeshBackend(sidecarJar, flags, dir, next[0]++, all);
              live.add(fresh);
              writeMeshYaml(dir, live);
              // Let the new endpoint reach the caller's sidecar before the old one goes.
              Thread.sleep(1000);
              Backend old = live.removeFirst();
              writeMeshYaml(dir, live);
              old.stop();
            });
      } finally {
        ch.shutdownNow();
      }
    } finally {
      stopAll(all);
    }
  }

  private static Backend startMeshBackend(
      Path sidecarJar, List<String> flags, Path dir, int n, List<Process> all) throws Exception {
    Process app = startGreeter(dir, n, all);
    String ip = MESH_NET + (10 + n);
    String pod = "greeter-" + n;
    Files.writeString(dir.resolve(pod + ".token"), "bench-greeter");
    int status = 26510 + n;
    List<String> cmd =
        MeshworkPair.sidecarCommand(flags, sidecarJar, dir, GRPC_PORT, pod, "greeter", ip, status);
    cmd.addAll(
        List.of("--inbound-listen", ip + ":50051", "--app-port", Integer.toString(portOf(app))));
    Process sidecar = start(cmd, dir.resolve(pod + "-sidecar.log"), all);
    MeshworkPair.awaitReady(
        sidecar, "http://127.0.0.1:" + status + "/ready", Duration.ofSeconds(60));
    return new Backend(pod, ip, app, sidecar);
  }

  private static void writeMeshYaml(Path dir, List<Backend> live) throws Exception {
    StringBuilder y = new StringBuilder();
    y.append(
        """
        apiVersion: v1
        kind: Namespace
        metadata: {name: bench}
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: greeter, namespace: bench}
        spec:
          selector: {app: greeter}
          ports: [{name: grpc, port: 50051, targetPort: 50051}]
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: client-0, namespace: bench, labels: {app: client}, annotations: {meshwork.dev/injected: "true"}}
        spec:
          serviceAccountName: client
          containers: [{name: app, image: client}]
        status: {phase: Running, podIP: %s1}
        """
            .formatted(MESH_NET));
    for (Backend b : live) {
      y.append(
          """
          ---
          apiVersion: v1
          kind: Pod
          metadata: {name: %s, namespace: bench, labels: {app: greeter}, annotations: {meshwork.dev/injected: "true"}}
          spec:
            serviceAccountName: greeter
            containers: [{name: app, image: greeter, ports: [{containerPort: 50051}]}]
          status: {phase: Running, podIP: %s}
          """
              .formatted(b.pod(), b.ip()));
    }
    // Written whole and renamed, so the folder source never reads half a file.
    Path tmp = dir.resolve("mesh.yaml.tmp");
    Files.writeString(tmp, y);
    Files.move(
        tmp,
        dir.resolve("config/mesh.yaml"),
        StandardCopyOption.REPLACE_EXISTING,
        StandardCopyOption.ATOMIC_MOVE);
  }

  // ---------------------------------------------------------------- without the mesh

  private static DataPlaneBench.Row withoutMesh(Path dir, int backends) throws Exception {
    Files.createDirectories(dir);
    List<Process> all = new ArrayList<>();
    List<Process> live = new ArrayList<>();
    int[] next = {0};
    ListResolver resolver = new ListResolver();
    NameResolverRegistry.getDefaultRegistry().register(resolver);
    try {
      for (int i = 0; i < backends; i++) {
        live.add(startGreeter(dir, next[0]++, all));
      }
      resolver.update(live);
      ManagedChannel ch =
          NettyChannelBuilder.forTarget(ListResolver.SCHEME + ":///greeter")
              .defaultLoadBalancingPolicy("round_robin")
              .usePlaintext()
              .build();
      try {
        return measure(
            ch,
            "direct",
            backends,
            () -> {
              live.add(startGreeter(dir, next[0]++, all));
              resolver.update(live);
              Thread.sleep(1000);
              Process old = live.removeFirst();
              resolver.update(live);
              old.destroy();
              old.waitFor(30, TimeUnit.SECONDS);
            });
      } finally {
        ch.shutdownNow();
      }
    } finally {
      NameResolverRegistry.getDefaultRegistry().deregister(resolver);
      stopAll(all);
    }
  }

  /** Addresses pushed by the scenario, as a DNS answer that changes would be. */
  private static final class ListResolver extends NameResolverProvider {
    static final String SCHEME = "benchlist";
    private final AtomicReference<List<EquivalentAddressGroup>> addresses =
        new AtomicReference<>(List.of());
    private final List<Resolver> resolvers = new CopyOnWriteArrayList<>();

    void update(List<Process> greeters) {
      addresses.set(
          greeters.stream()
              .map(p -> new EquivalentAddressGroup(new InetSocketAddress("127.0.0.1", portOf(p))))
              .toList());
      resolvers.forEach(Resolver::publishSoon);
    }

    @Override
    protected boolean isAvailable() {
      return true;
    }

    @Override
    protected int priority() {
      return 5;
    }

    @Override
    public String getDefaultScheme() {
      return SCHEME;
    }

    @Override
    public NameResolver newNameResolver(URI target, NameResolver.Args args) {
      if (!SCHEME.equals(target.getScheme())) {
        return null;
      }
      Resolver r = new Resolver(args);
      resolvers.add(r);
      return r;
    }

    private final class Resolver extends NameResolver {
      private final Args args;
      private Listener2 listener;

      Resolver(Args args) {
        this.args = args;
      }

      @Override
      public String getServiceAuthority() {
        return "greeter";
      }

      @Override
      public void start(Listener2 l) {
        listener = l;
        publish();
      }

      @Override
      public void refresh() {
        publish();
      }

      void publishSoon() {
        args.getSynchronizationContext().execute(this::publish);
      }

      private void publish() {
        if (listener != null) {
          listener.onResult(
              ResolutionResult.newBuilder()
                  .setAddressesOrError(StatusOr.fromValue(addresses.get()))
                  .build());
        }
      }

      @Override
      public void shutdown() {
        resolvers.remove(this);
      }
    }
  }

  // ---------------------------------------------------------------- shared

  private record Backend(String pod, String ip, Process app, Process sidecar) {
    /** SIGTERM to both at once, as the kubelet does; the sidecar drains. */
    void stop() throws InterruptedException {
      sidecar.destroy();
      app.destroy();
      sidecar.waitFor(30, TimeUnit.SECONDS);
      app.waitFor(30, TimeUnit.SECONDS);
    }
  }

  @FunctionalInterface
  private interface Step {
    void replaceOne() throws Exception;
  }

  /**
   * Warm-up, then the steady load while {@code step} runs once per backend; every call counts, from
   * its scheduled start (an open loop: a stall delays no later call's schedule).
   */
  private static DataPlaneBench.Row measure(ManagedChannel ch, String path, int backends, Step step)
      throws Exception {
    GreeterGrpc.GreeterStub stub = GreeterGrpc.newStub(ch);
    HelloRequest req =
        HelloRequest.newBuilder()
            .setName("bench")
            .setPayload(ByteString.copyFrom(new byte[1024]))
            .build();
    try (Load warm = new Load(stub, req)) {
      Thread.sleep(5000);
    }
    long t0 = System.nanoTime();
    Load load = new Load(stub, req);
    try (load) {
      Thread.sleep(2000);
      for (int i = 0; i < backends; i++) {
        step.replaceOne();
        Thread.sleep(2000);
      }
    }
    double seconds = (System.nanoTime() - t0) / 1e9;
    double[] ok = load.latencies();
    return new DataPlaneBench.Row(
        "rollout",
        path,
        null,
        RATE,
        DataPlaneBench.round(Ghz.percentile(ok, 0.50)),
        DataPlaneBench.round(Ghz.percentile(ok, 0.90)),
        DataPlaneBench.round(Ghz.percentile(ok, 0.99)),
        DataPlaneBench.round(Ghz.percentile(ok, 0.999)),
        ok.length == 0 ? null : DataPlaneBench.round(ok[ok.length - 1]),
        null,
        load.failed.get(),
        load.sent.get(),
        null,
        null,
        null,
        null,
        null,
        null,
        String.format(
            Locale.ROOT,
            "%d backends replaced one by one in %.0f s at %d calls/s%s%s",
            backends,
            seconds,
            RATE,
            load.failures.isEmpty()
                ? ""
                : "; failed by status: " + new java.util.TreeMap<>(load.failures),
            load.firstError.get() == null ? "" : "; first error: " + load.firstError.get()));
  }

  /** An open-loop generator at {@link #RATE} calls/s; close() waits for calls in flight. */
  private static final class Load implements AutoCloseable {
    final AtomicLong sent = new AtomicLong();
    final AtomicLong failed = new AtomicLong();
    final AtomicReference<String> firstError = new AtomicReference<>();

    /** Failed calls by gRPC status code: deadline (starved) and unavailable (routing) differ. */
    final java.util.Map<String, AtomicLong> failures =
        new java.util.concurrent.ConcurrentHashMap<>();

    private final AtomicLong done = new AtomicLong();
    private final List<Double> latencies = new CopyOnWriteArrayList<>();
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();

    Load(GreeterGrpc.GreeterStub stub, HelloRequest req) {
      long start = System.nanoTime();
      long period = 1_000_000_000L / RATE;
      timer.scheduleAtFixedRate(
          () -> {
            long intended = start + sent.getAndIncrement() * period;
            stub.withDeadlineAfter(2, TimeUnit.SECONDS)
                .sayHello(
                    req,
                    new StreamObserver<HelloReply>() {
                      @Override
                      public void onNext(HelloReply value) {}

                      @Override
                      public void onError(Throwable t) {
                        failed.incrementAndGet();
                        firstError.compareAndSet(null, String.valueOf(t.getMessage()));
                        failures
                            .computeIfAbsent(
                                io.grpc.Status.fromThrowable(t).getCode().name(),
                                k -> new AtomicLong())
                            .incrementAndGet();
                        done.incrementAndGet();
                      }

                      @Override
                      public void onCompleted() {
                        latencies.add((System.nanoTime() - intended) / 1e6);
                        done.incrementAndGet();
                      }
                    });
          },
          0,
          period,
          TimeUnit.NANOSECONDS);
    }

    double[] latencies() {
      double[] a = latencies.stream().mapToDouble(Double::doubleValue).toArray();
      Arrays.sort(a);
      return a;
    }

    @Override
    public void close() throws InterruptedException {
      timer.shutdownNow();
      timer.awaitTermination(5, TimeUnit.SECONDS);
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
      while (done.get() < sent.get() && System.nanoTime() < deadline) {
        Thread.sleep(20);
      }
    }
  }

  private static Process startGreeter(Path dir, int n, List<Process> all) throws Exception {
    int port;
    try (var s = new java.net.ServerSocket(0)) {
      port = s.getLocalPort();
    }
    List<String> cmd =
        List.of(
            ProcessHandle.current().info().command().orElse("java"),
            "-XX:+UseSerialGC",
            "-XX:TieredStopAtLevel=1",
            "-Xmx96m",
            "-cp",
            System.getProperty("java.class.path"),
            "dev.meshwork.meshctl.demo.apps.GreeterApp",
            "--bind",
            "127.0.0.1",
            "--port",
            Integer.toString(port),
            "--instance",
            "greeter-" + n,
            "--version",
            "v1");
    Process p = start(cmd, dir.resolve("greeter-" + n + ".log"), all);
    PORTS.put(p.pid(), port);
    ProxyPair.awaitPort("127.0.0.1", port, p, Duration.ofSeconds(60));
    return p;
  }

  private static final java.util.Map<Long, Integer> PORTS =
      new java.util.concurrent.ConcurrentHashMap<>();

  private static int portOf(Process greeter) {
    return PORTS.get(greeter.pid());
  }

  private static Process start(List<String> cmd, Path log, List<Process> all) throws Exception {
    Process p =
        new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    all.add(p);
    return p;
  }

  private static void stopAll(List<Process> all) throws InterruptedException {
    for (Process p : all) {
      p.destroy();
    }
    for (Process p : all) {
      if (!p.waitFor(30, TimeUnit.SECONDS)) {
        p.destroyForcibly();
      }
    }
  }
}
