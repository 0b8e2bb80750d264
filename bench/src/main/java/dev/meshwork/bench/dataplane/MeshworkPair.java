package dev.meshwork.bench.dataplane;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The Meshwork pair: a control plane fed from a generated YAML folder, a client-side sidecar whose
 * explicit outbound listener the load generator dials (as an app would through capture), and a
 * server-side sidecar in front of the greeter. The sidecars run with the JVM flags they ship with
 * ({@link #SIDECAR_JVM}).
 */
final class MeshworkPair extends ProxyPair {
  /**
   * The sidecar's shipped JVM flags: the root pom's {@code meshwork.sidecar.jvmFlags}, the same the
   * image, the injector template and meshctl demo use (see docs/benchmarks.md for each flag).
   */
  static List<String> shippedJvmFlags() {
    // For experiments: MESHWORK_BENCH_SIDECAR_FLAGS replaces the shipped flags.
    String override = System.getenv("MESHWORK_BENCH_SIDECAR_FLAGS");
    if (override != null && !override.isBlank()) {
      return List.of(override.trim().split("\\s+"));
    }
    try (var in = MeshworkPair.class.getResourceAsStream("/meshwork-sidecar-jvm.properties")) {
      java.util.Properties p = new java.util.Properties();
      p.load(in);
      return List.of(p.getProperty("jvmFlags").trim().split("\\s+"));
    } catch (java.io.IOException | NullPointerException e) {
      throw new IllegalStateException(
          "meshwork-sidecar-jvm.properties missing from the bench jar", e);
    }
  }

  private static final String CLIENT_IP = "127.0.30.1";
  private static final String SERVER_IP = "127.0.30.2";
  private final Path sidecarJar;
  private final List<String> jvmFlags;
  private final List<String> sidecarArgs;
  private final List<String> clientOnlyJvmFlags;
  private Double readyMs;
  private final List<Process> sidecars = new ArrayList<>();

  /**
   * @param sidecarJar the built {@code sidecar-proxy.jar} (its lib/ beside it), run as in
   *     production
   * @param jvmFlags the sidecar's JVM flags
   */
  MeshworkPair(String name, Path sidecarJar, List<String> jvmFlags) {
    this(name, sidecarJar, jvmFlags, List.of(), List.of());
  }

  /**
   * @param sidecarArgs extra sidecar arguments for both sidecars (e.g. {@code --telemetry false})
   * @param clientOnlyJvmFlags extra JVM flags for the client-side sidecar only (the AOT training
   *     run records one sidecar's cache)
   */
  MeshworkPair(
      String name,
      Path sidecarJar,
      List<String> jvmFlags,
      List<String> sidecarArgs,
      List<String> clientOnlyJvmFlags) {
    super(name);
    this.sidecarJar = sidecarJar;
    this.jvmFlags = jvmFlags;
    this.sidecarArgs = sidecarArgs;
    this.clientOnlyJvmFlags = clientOnlyJvmFlags;
  }

  /** The sidecar processes in start order: server side, then client side. */
  List<Process> sidecars() {
    return List.copyOf(sidecars);
  }

  @Override
  Double readyMs() {
    return readyMs;
  }

  @Override
  List<Process> proxies() {
    return sidecars;
  }

  @Override
  Entry start(String app, Path work, Path certs) throws Exception {
    int appPort = Integer.parseInt(app.substring(app.lastIndexOf(':') + 1));
    Path config = work.resolve("mesh-config");
    Files.createDirectories(config);
    Files.writeString(config.resolve("bench.yaml"), meshYaml());
    Path tokens = work.resolve("bench-tokens.properties");
    Files.writeString(tokens, "bench-greeter=bench/greeter\nbench-client=bench/client\n");
    Files.writeString(work.resolve("greeter-0.token"), "bench-greeter");
    Files.writeString(work.resolve("client-0.token"), "bench-client");
    int grpc = 25112;
    int http = 25114;
    Process cp =
        spawn(
            controlPlaneCommand(config, grpc, http, work, tokens),
            work.resolve("control-plane.log"));
    awaitPort("127.0.0.1", http, cp, Duration.ofSeconds(30));

    startSidecar(
        work,
        grpc,
        "greeter-0",
        "greeter",
        SERVER_IP,
        26301,
        List.of("--inbound-listen", SERVER_IP + ":50051", "--app-port", Integer.toString(appPort)));
    long t0 = System.nanoTime();
    startSidecar(
        work,
        grpc,
        "client-0",
        "client",
        CLIENT_IP,
        26302,
        List.of("--outbound-listen", CLIENT_IP + ":15001"));
    readyMs = (System.nanoTime() - t0) / 1e6;
    return new Entry(CLIENT_IP + ":15001", "greeter.bench.svc.cluster.local:50051");
  }

  /** The control plane fed from {@code config}, hosting the CA that issues every sidecar's cert. */
  static List<String> controlPlaneCommand(Path config, int grpc, int http, Path work, Path tokens) {
    return List.of(
        ProcessHandle.current().info().command().orElse("java"),
        "-XX:+UseSerialGC",
        "-Xmx256m",
        "-cp",
        System.getProperty("java.class.path"),
        "dev.meshwork.controlplane.ControlPlaneMain",
        "--config-dir",
        config.toString(),
        "--grpc-port",
        Integer.toString(grpc),
        "--http-port",
        Integer.toString(http),
        // The control plane's CA issues the sidecars' certificates: the hop is mTLS, like the
        // HAProxy and nginx pairs'.
        "--ca-dir",
        work.resolve("ca").toString(),
        "--static-tokens",
        tokens.toString());
  }

  private void startSidecar(
      Path work, int xdsPort, String pod, String app, String ip, int statusPort, List<String> extra)
      throws Exception {
    List<String> flags = new ArrayList<>(jvmFlags);
    if (pod.startsWith("client")) {
      flags.addAll(clientOnlyJvmFlags);
    }
    List<String> cmd = sidecarCommand(flags, sidecarJar, work, xdsPort, pod, app, ip, statusPort);
    cmd.addAll(extra);
    cmd.addAll(sidecarArgs);
    Process p = spawn(cmd, work.resolve(pod + "-sidecar.log"));
    sidecars.add(p);
    awaitReady(p, "http://127.0.0.1:" + statusPort + "/ready", Duration.ofSeconds(30));
  }

  /**
   * One sidecar in explicit mode, certificate from the control plane's CA with the token in {@code
   * work/<pod>.token}; the caller adds its listeners.
   */
  static List<String> sidecarCommand(
      List<String> jvmFlags,
      Path jar,
      Path work,
      int xdsPort,
      String pod,
      String app,
      String ip,
      int statusPort) {
    List<String> cmd = new ArrayList<>();
    cmd.add(ProcessHandle.current().info().command().orElse("java"));
    cmd.addAll(jvmFlags);
    // For profiling runs: e.g. MESHWORK_BENCH_SIDECAR_JVM="-XX:NativeMemoryTracking=summary".
    String profiling = System.getenv("MESHWORK_BENCH_SIDECAR_JVM");
    if (profiling != null && !profiling.isBlank()) {
      cmd.addAll(List.of(profiling.trim().replace("{pod}", pod).split("\\s+")));
    }
    cmd.addAll(
        List.of(
            "-jar",
            jar.toString(),
            "run",
            "--xds",
            "localhost:" + xdsPort,
            "--xds-ca",
            work.resolve("ca/roots.pem").toString(),
            "--ca",
            "localhost:" + xdsPort,
            "--ca-roots",
            work.resolve("ca/roots.pem").toString(),
            "--ca-token",
            work.resolve(pod + ".token").toString(),
            "--namespace",
            "bench",
            "--pod-name",
            pod,
            "--service-account",
            app,
            "--workload",
            app,
            "--labels",
            "app=" + app,
            "--instance-ips",
            ip,
            "--outbound-port",
            "-1",
            "--inbound-port",
            "-1",
            "--admin-port",
            Integer.toString(statusPort + 100),
            "--status-port",
            Integer.toString(statusPort),
            "--workers",
            "1"));
    return cmd;
  }

  static void awaitReady(Process p, String url, Duration timeout) throws Exception {
    HttpClient http = HttpClient.newHttpClient();
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      if (!p.isAlive()) {
        throw new IllegalStateException("sidecar exited before ready: " + url);
      }
      try {
        if (http.send(
                    HttpRequest.newBuilder(URI.create(url)).build(),
                    HttpResponse.BodyHandlers.discarding())
                .statusCode()
            == 200) {
          return;
        }
      } catch (java.io.IOException notYet) {
        // not listening yet
      }
      Thread.sleep(10);
    }
    throw new IllegalStateException("sidecar not ready after " + timeout + ": " + url);
  }

  private static String meshYaml() {
    return """
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
        metadata: {name: greeter-0, namespace: bench, labels: {app: greeter}, annotations: {meshwork.dev/injected: "true"}}
        spec:
          serviceAccountName: greeter
          containers: [{name: app, image: greeter, ports: [{containerPort: 50051}]}]
        status: {phase: Running, podIP: %s}
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: client-0, namespace: bench, labels: {app: client}, annotations: {meshwork.dev/injected: "true"}}
        spec:
          serviceAccountName: client
          containers: [{name: app, image: client}]
        status: {phase: Running, podIP: %s}
        """
        .formatted(SERVER_IP, CLIENT_IP);
  }
}
