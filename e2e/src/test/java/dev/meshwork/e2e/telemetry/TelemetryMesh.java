package dev.meshwork.e2e.telemetry;

import dev.meshwork.e2e.node.JavaImage;
import dev.meshwork.meshctl.demo.v1.GreeterGrpc;
import dev.meshwork.meshctl.demo.v1.HelloReply;
import dev.meshwork.meshctl.demo.v1.HelloRequest;
import dev.meshwork.sidecar.Sidecar;
import dev.meshwork.sidecar.SidecarConfig;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;

/**
 * Two workloads of namespace {@value #NS} on loopback, as the telemetry tests need them: a caller
 * ({@code client}) whose sidecar's outbound listener the test dials, and {@code greeter} behind its
 * own sidecar; the hop between the sidecars is mutual TLS with identities from the real control
 * plane's CA. The control plane (a child JVM, fed from a YAML folder) serves both sidecars; the
 * sidecars run in this JVM, each with its own status port serving /metrics.
 *
 * <p>The greeter answers {@code SayHello}; the name {@code fail} gets INVALID_ARGUMENT and a name
 * starting with {@code slow} is answered after {@link #SLOW}, so callers with a shorter deadline
 * time out.
 */
final class TelemetryMesh implements AutoCloseable {
  static final String NS = "telemetry";
  static final String SERVICE_HOST = "greeter." + NS + ".svc.cluster.local";
  static final String AUTHORITY = SERVICE_HOST + ":50051";
  static final Duration SLOW = Duration.ofMillis(1500);

  final Path work;
  final String clientIp;
  final String serverIp;
  final int controlPlaneHttpPort;
  final int webhookPort;
  final int clientMetricsPort;
  final int serverMetricsPort;
  private final List<AutoCloseable> closeables = new ArrayList<>();
  private final ScheduledExecutorService delays = Executors.newSingleThreadScheduledExecutor();
  private Process controlPlane;
  private String grpcPort;
  private ManagedChannel channel;

  /**
   * @param ipPrefix three octets of a loopback /24 of this test's own, e.g. {@code 127.0.45}
   * @param sidecarFlags extra flags for both sidecars (telemetry settings)
   */
  TelemetryMesh(Path work, String ipPrefix, List<String> sidecarFlags) throws Exception {
    this.work = work;
    this.clientIp = ipPrefix + ".1";
    this.serverIp = ipPrefix + ".2";
    try {
      Server greeter =
          NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
              .addService(
                  io.grpc.ServerInterceptors.intercept(new Greeter(), new TraceparentCapture()))
              .build()
              .start();
      closeables.add(() -> greeter.shutdownNow().awaitTermination(5, TimeUnit.SECONDS));
      int grpcPort = freePort();
      this.grpcPort = Integer.toString(grpcPort);
      controlPlaneHttpPort = freePort();
      webhookPort = freePort();
      startControlPlane(grpcPort);
      serverMetricsPort = freePort();
      clientMetricsPort = freePort();
      startSidecar(
          grpcPort,
          "greeter-0",
          "greeter",
          serverIp,
          serverMetricsPort,
          sidecarFlags,
          List.of(
              "--inbound-listen",
              serverIp + ":50051",
              "--app-port",
              Integer.toString(greeter.getPort())));
      startSidecar(
          grpcPort,
          "client-0",
          "client",
          clientIp,
          clientMetricsPort,
          sidecarFlags,
          List.of("--outbound-listen", clientIp + ":15001"));
    } catch (Exception | Error e) {
      close();
      throw e;
    }
  }

  /**
   * A sidecar whose ServiceAccount token the CA does not know asks for a certificate (and is
   * refused) until {@code until} holds; then it is stopped.
   */
  void intruder(java.util.concurrent.Callable<Boolean> until) throws Exception {
    Path token = work.resolve("intruder.token");
    Files.writeString(token, "not-a-token-the-ca-knows");
    String roots = work.resolve("ca/roots.pem").toString();
    int grpcPort = Integer.parseInt(grpcPortOf());
    try (Sidecar s =
        Sidecar.start(
            SidecarConfig.parse(
                new String[] {
                  "--xds",
                  "localhost:" + grpcPort,
                  "--xds-ca",
                  roots,
                  "--ca",
                  "localhost:" + grpcPort,
                  "--ca-roots",
                  roots,
                  "--ca-token",
                  token.toString(),
                  "--namespace",
                  NS,
                  "--pod-name",
                  "intruder-0",
                  "--service-account",
                  "greeter",
                  "--outbound-port",
                  "-1",
                  "--inbound-port",
                  "-1",
                  "--admin-port",
                  "-1",
                  "--status-port",
                  "-1",
                  "--workers",
                  "1"
                },
                k -> null))) {
      Awaitility.await("the CA refused the intruder")
          .atMost(Duration.ofSeconds(30))
          .pollInterval(Duration.ofMillis(500))
          .until(until);
    }
  }

  private String grpcPortOf() {
    return grpcPort;
  }

  /**
   * Sends one AdmissionReview for a pod to the control plane's injector webhook (HTTPS, certificate
   * from the mesh CA, trusted through the CA's roots) and returns the HTTP status.
   */
  int admissionReview() throws Exception {
    var certs =
        java.security.cert.CertificateFactory.getInstance("X.509")
            .generateCertificates(Files.newInputStream(work.resolve("ca/roots.pem")));
    var trust = java.security.KeyStore.getInstance("PKCS12");
    trust.load(null, null);
    int i = 0;
    for (var c : certs) {
      trust.setCertificateEntry("root" + i++, c);
    }
    var tmf =
        javax.net.ssl.TrustManagerFactory.getInstance(
            javax.net.ssl.TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(trust);
    var ssl = javax.net.ssl.SSLContext.getInstance("TLS");
    ssl.init(null, tmf.getTrustManagers(), null);
    var conn =
        (javax.net.ssl.HttpsURLConnection)
            URI.create("https://127.0.0.1:" + webhookPort + "/inject").toURL().openConnection();
    conn.setSSLSocketFactory(ssl.getSocketFactory());
    // The chain is verified against the mesh CA; the certificate names the Service, not 127.0.0.1.
    conn.setHostnameVerifier((host, session) -> true);
    conn.setRequestMethod("POST");
    conn.setDoOutput(true);
    conn.setRequestProperty("Content-Type", "application/json");
    String review =
        """
        {"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{
         "uid":"telemetry-1","kind":{"group":"","version":"v1","kind":"Pod"},
         "resource":{"group":"","version":"v1","resource":"pods"},
         "namespace":"%s","operation":"CREATE",
         "object":{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","namespace":"%s"},
          "spec":{"containers":[{"name":"app","image":"greeter"}]}}}}
        """
            .formatted(NS, NS);
    try (var out = conn.getOutputStream()) {
      out.write(review.getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }
    int code = conn.getResponseCode();
    conn.getInputStream().readAllBytes();
    return code;
  }

  /** The greeter as the caller app sees it: dialled through its sidecar's outbound listener. */
  GreeterGrpc.GreeterBlockingStub greeter() {
    if (channel == null) {
      channel =
          NettyChannelBuilder.forAddress(clientIp, 15001)
              .overrideAuthority(AUTHORITY)
              .usePlaintext()
              .build();
    }
    return GreeterGrpc.newBlockingStub(channel);
  }

  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  private void startControlPlane(int grpcPort) throws Exception {
    Path config = work.resolve("mesh-config");
    Files.createDirectories(config);
    Files.writeString(config.resolve("mesh.yaml"), meshYaml());
    Path tokens = work.resolve("tokens.properties");
    Files.writeString(tokens, "t-greeter=" + NS + "/greeter\nt-client=" + NS + "/client\n");
    Files.writeString(work.resolve("greeter-0.token"), "t-greeter");
    Files.writeString(work.resolve("client-0.token"), "t-client");
    String java = ProcessHandle.current().info().command().orElse("java");
    String cp = String.join(":", JavaImage.classpath().stream().map(Path::toString).toList());
    controlPlane =
        new ProcessBuilder(
                java,
                "-XX:+UseSerialGC",
                "-Xmx256m",
                "-cp",
                cp,
                "dev.meshwork.controlplane.ControlPlaneMain",
                "--config-dir",
                config.toString(),
                "--bind",
                "127.0.0.1",
                "--grpc-port",
                Integer.toString(grpcPort),
                "--http-port",
                Integer.toString(controlPlaneHttpPort),
                "--ca-dir",
                work.resolve("ca").toString(),
                "--static-tokens",
                tokens.toString(),
                "--webhook",
                "--webhook-port",
                Integer.toString(webhookPort))
            .redirectErrorStream(true)
            .redirectOutput(work.resolve("control-plane.log").toFile())
            .start();
    closeables.add(
        () -> {
          controlPlane.destroy();
          if (!controlPlane.waitFor(10, TimeUnit.SECONDS)) {
            controlPlane.destroyForcibly();
          }
        });
    awaitHttp200("http://127.0.0.1:" + controlPlaneHttpPort + "/healthz", controlPlane);
    Awaitility.await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> Files.exists(work.resolve("ca/roots.pem")));
  }

  private void startSidecar(
      int grpcPort,
      String pod,
      String app,
      String ip,
      int statusPort,
      List<String> common,
      List<String> extra)
      throws Exception {
    String roots = work.resolve("ca/roots.pem").toString();
    List<String> flags =
        new ArrayList<>(
            List.of(
                "--xds",
                "localhost:" + grpcPort,
                "--xds-ca",
                roots,
                "--ca",
                "localhost:" + grpcPort,
                "--ca-roots",
                roots,
                "--ca-token",
                work.resolve(pod + ".token").toString(),
                "--namespace",
                NS,
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
                "-1",
                "--status-port",
                Integer.toString(statusPort),
                "--workers",
                "1"));
    flags.addAll(common);
    flags.addAll(extra);
    Sidecar s = Sidecar.start(SidecarConfig.parse(flags.toArray(String[]::new), k -> null));
    closeables.add(s);
    awaitHttp200("http://127.0.0.1:" + statusPort + "/ready", controlPlane);
  }

  private static void awaitHttp200(String url, Process mustLive) {
    HttpClient http = HttpClient.newHttpClient();
    Awaitility.await(url)
        .atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofMillis(100))
        .until(
            () -> {
              if (!mustLive.isAlive()) {
                throw new IllegalStateException("control plane exited; see its log");
              }
              try {
                return http.send(
                            HttpRequest.newBuilder(URI.create(url)).build(),
                            HttpResponse.BodyHandlers.discarding())
                        .statusCode()
                    == 200;
              } catch (IOException notYet) {
                return false;
              }
            });
  }

  private String meshYaml() {
    return """
        apiVersion: v1
        kind: Namespace
        metadata: {name: %1$s}
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: greeter, namespace: %1$s}
        spec:
          selector: {app: greeter}
          ports: [{name: grpc, port: 50051, targetPort: 50051}]
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: greeter-0, namespace: %1$s, labels: {app: greeter}, annotations: {meshwork.dev/injected: "true"}}
        spec:
          serviceAccountName: greeter
          containers: [{name: app, image: greeter, ports: [{containerPort: 50051}]}]
        status: {phase: Running, podIP: %2$s}
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: client-0, namespace: %1$s, labels: {app: client}, annotations: {meshwork.dev/injected: "true"}}
        spec:
          serviceAccountName: client
          containers: [{name: app, image: client}]
        status: {phase: Running, podIP: %3$s}
        """
        .formatted(NS, serverIp, clientIp);
  }

  @Override
  public void close() throws Exception {
    if (channel != null) {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
    for (AutoCloseable c : closeables.reversed()) {
      try {
        c.close();
      } catch (Exception e) {
        // keep closing the rest
      }
    }
    delays.shutdownNow();
  }

  /** The {@code traceparent} the greeter app received with its last call, or null. */
  volatile String lastTraceparent;

  private final class TraceparentCapture implements io.grpc.ServerInterceptor {
    private final io.grpc.Metadata.Key<String> key =
        io.grpc.Metadata.Key.of("traceparent", io.grpc.Metadata.ASCII_STRING_MARSHALLER);

    @Override
    public <Q, R> io.grpc.ServerCall.Listener<Q> interceptCall(
        io.grpc.ServerCall<Q, R> call,
        io.grpc.Metadata headers,
        io.grpc.ServerCallHandler<Q, R> next) {
      lastTraceparent = headers.get(key);
      return next.startCall(call, headers);
    }
  }

  private final class Greeter extends GreeterGrpc.GreeterImplBase {
    @Override
    public void sayHello(HelloRequest request, StreamObserver<HelloReply> out) {
      if (request.getName().equals("fail")) {
        out.onError(Status.INVALID_ARGUMENT.withDescription("asked to fail").asRuntimeException());
        return;
      }
      Runnable answer =
          () -> {
            out.onNext(HelloReply.newBuilder().setMessage("Hello " + request.getName()).build());
            out.onCompleted();
          };
      if (request.getName().startsWith("slow")) {
        delays.schedule(
            () -> {
              try {
                answer.run();
              } catch (RuntimeException cancelled) {
                // the caller gave up first, as intended
              }
            },
            SLOW.toMillis(),
            TimeUnit.MILLISECONDS);
      } else {
        answer.run();
      }
    }
  }
}
