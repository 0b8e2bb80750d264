package dev.meshwork.controlplane;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.meshwork.controlplane.source.DirectoryConfigSource;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientInterceptors;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.InsecureServerCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerServiceDefinition;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.ServerCalls;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * grpc-java's own xDS client (an independent xDS implementation) resolves {@code xds:///} targets
 * against our control plane, fed from a YAML folder, and real gRPC servers on loopback answer with
 * their name: calls must land where the GRPCRoute says.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class XdsRoutingIT {

  static final String TARGET = "xds:///greeter.default.svc.cluster.local:8080";

  static final MethodDescriptor.Marshaller<String> STRING =
      new MethodDescriptor.Marshaller<>() {
        @Override
        public InputStream stream(String value) {
          return new ByteArrayInputStream(value.getBytes(StandardCharsets.UTF_8));
        }

        @Override
        public String parse(InputStream stream) {
          try {
            return new String(stream.readAllBytes(), StandardCharsets.UTF_8);
          } catch (IOException e) {
            throw new UncheckedIOException(e);
          }
        }
      };

  static MethodDescriptor<String, String> method(String name) {
    return MethodDescriptor.<String, String>newBuilder()
        .setType(MethodDescriptor.MethodType.UNARY)
        .setFullMethodName("demo.Greeter/" + name)
        .setRequestMarshaller(STRING)
        .setResponseMarshaller(STRING)
        .build();
  }

  @TempDir static Path configDir;
  static final List<Server> servers = new ArrayList<>();
  static final Map<String, Integer> ports = new HashMap<>();
  static ControlPlane controlPlane;
  static ManagedChannel channel;

  /** A greeter that answers every method with its own name. */
  static Server greeter(String name) throws IOException {
    ServerServiceDefinition.Builder def = ServerServiceDefinition.builder("demo.Greeter");
    for (String m : List.of("SayHello", "SayBye", "Other")) {
      def.addMethod(
          method(m),
          ServerCalls.asyncUnaryCall(
              (req, out) -> {
                out.onNext(name);
                out.onCompleted();
              }));
    }
    Server s =
        NettyServerBuilder.forAddress(
                new InetSocketAddress("127.0.0.1", 0), InsecureServerCredentials.create())
            .addService(def.build())
            .build()
            .start();
    servers.add(s);
    ports.put(name, s.getPort());
    return s;
  }

  static String serviceAndPod(String name) {
    return """
        apiVersion: v1
        kind: Service
        metadata: {name: %1$s, namespace: default}
        spec:
          selector: {app: %1$s}
          ports: [{name: grpc, port: 8080, targetPort: grpc}]
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: %1$s-0, namespace: default, labels: {app: %1$s}}
        spec:
          containers: [{name: app, image: greeter, ports: [{name: grpc, containerPort: %2$d}]}]
        status: {podIP: 127.0.0.1}
        ---
        """
        .formatted(name, ports.get(name));
  }

  static String route(String helloRule) {
    return """
        apiVersion: gateway.networking.k8s.io/v1
        kind: GRPCRoute
        metadata: {name: greeter, namespace: default, generation: 1}
        spec:
          parentRefs: [{group: "", kind: Service, name: greeter, port: 8080}]
          rules:
          - matches: [{method: {service: demo.Greeter, method: SayBye}}]
            backendRefs: [{name: greeter-bye, port: 8080}]
          - matches:
            - headers: [{name: x-canary, value: "true"}]
            - method: {service: demo.Greeter, method: SayHello}
              headers: [{name: x-canary, value: "true"}]
            backendRefs: [{name: greeter-canary, port: 8080}]
        %s
        """
        .formatted(helloRule.indent(2));
  }

  static final String WEIGHTED_90_10 =
      """
      - matches: [{method: {service: demo.Greeter, method: SayHello}}]
        backendRefs:
        - {name: greeter, port: 8080, weight: 90}
        - {name: greeter-v2, port: 8080, weight: 10}
      """;

  @BeforeAll
  static void start() throws Exception {
    for (String name : List.of("greeter", "greeter-v2", "greeter-canary", "greeter-bye")) {
      greeter(name);
    }
    StringBuilder mesh = new StringBuilder();
    for (String name : ports.keySet()) {
      mesh.append(serviceAndPod(name));
    }
    Files.writeString(configDir.resolve("mesh.yaml"), mesh);
    Files.writeString(configDir.resolve("route.yaml"), route(WEIGHTED_90_10));

    controlPlane =
        ControlPlane.start(
            new DirectoryConfigSource(configDir, Duration.ofMillis(50)),
            new ControlPlane.Options(
                new InetSocketAddress("127.0.0.1", 0),
                new InetSocketAddress("127.0.0.1", 0),
                InsecureServerCredentials.create(),
                List.of(),
                Duration.ofMillis(50),
                "cluster.local"),
            null);

    System.setProperty(
        "io.grpc.xds.bootstrapConfig",
        """
        {
          "xds_servers": [{
            "server_uri": "127.0.0.1:%d",
            "channel_creds": [{"type": "insecure"}],
            "server_features": ["xds_v3"]
          }],
          "node": {
            "id": "default/it-client",
            "cluster": "it-client",
            "metadata": {"NAMESPACE": "default", "PROXY_TYPE": "proxyless"}
          }
        }
        """
            .formatted(controlPlane.grpcPort()));
    channel = Grpc.newChannelBuilder(TARGET, InsecureChannelCredentials.create()).build();
  }

  @AfterAll
  static void stop() throws Exception {
    if (channel != null) {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
    if (controlPlane != null) {
      controlPlane.close();
    }
    for (Server s : servers) {
      s.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
    System.clearProperty("io.grpc.xds.bootstrapConfig");
  }

  static String call(Channel ch, String method) {
    return ClientCalls.blockingUnaryCall(
        ch, method(method), CallOptions.DEFAULT.withDeadlineAfter(5, TimeUnit.SECONDS), "hi");
  }

  static String call(String method) {
    return call(channel, method);
  }

  static Channel withHeader(String name, String value) {
    Metadata md = new Metadata();
    md.put(Metadata.Key.of(name, Metadata.ASCII_STRING_MARSHALLER), value);
    return ClientInterceptors.intercept(channel, MetadataUtils.newAttachHeadersInterceptor(md));
  }

  static Map<String, Integer> spread(String method, int calls) {
    Map<String, Integer> counts = new HashMap<>();
    for (int i = 0; i < calls; i++) {
      counts.merge(call(method), 1, Integer::sum);
    }
    return counts;
  }

  @Test
  @Order(1)
  void methodRoutingSendsSayByeToItsBackend() {
    await()
        .atMost(Duration.ofSeconds(30))
        .ignoreExceptions()
        .untilAsserted(() -> assertThat(call("SayBye")).isEqualTo("greeter-bye"));
  }

  @Test
  @Order(2)
  void headerCanaryTakesTheCallsThatCarryTheHeader() {
    Channel canary = withHeader("x-canary", "true");
    assertThat(call(canary, "SayHello")).isEqualTo("greeter-canary");
    assertThat(call(canary, "Other")).isEqualTo("greeter-canary");
    assertThat(call(withHeader("x-canary", "false"), "Other")).isEqualTo("greeter");
  }

  @Test
  @Order(3)
  void weightsSplitNinetyTen() {
    Map<String, Integer> counts = spread("SayHello", 1000);
    assertThat(counts.keySet()).containsOnly("greeter", "greeter-v2");
    // Binomial(1000, 0.1): sd ~9.5, so 50..170 is beyond 5 sd either side.
    assertThat(counts.getOrDefault("greeter-v2", 0)).isBetween(50, 170);
  }

  @Test
  @Order(4)
  void unmatchedCallsFallBackToTheServiceItself() {
    for (int i = 0; i < 20; i++) {
      assertThat(call("Other")).isEqualTo("greeter");
    }
  }

  @Test
  @Order(5)
  void everyResourceWasAckedAndTheDebugPageSaysSo() throws Exception {
    assertThat(controlPlane.registry().nackCount()).isZero();
    HttpResponse<String> r =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(
                        URI.create(
                            "http://127.0.0.1:" + controlPlane.httpPort() + "/debug/proxies"))
                    .build(),
                HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body()).contains("default/it-client").contains("\"acked\"").contains("proxyless");
    HttpResponse<String> cfg =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(
                        URI.create(
                            "http://127.0.0.1:"
                                + controlPlane.httpPort()
                                + "/debug/config?proxy=default/it-client"))
                    .build(),
                HttpResponse.BodyHandlers.ofString());
    assertThat(cfg.statusCode()).isEqualTo(200);
    assertThat(cfg.body()).contains("/demo.Greeter/SayBye").contains("greeter-v2");
  }

  @Test
  @Order(6)
  void anEditIsPushedAndABadEditKeepsTheLastGoodRoute() throws Exception {
    // Shift all SayHello traffic to v2: the push must reach the client.
    Files.writeString(
        configDir.resolve("route.yaml"),
        route(
                """
                - matches: [{method: {service: demo.Greeter, method: SayHello}}]
                  backendRefs: [{name: greeter-v2, port: 8080}]
                """)
            .replace("generation: 1", "generation: 2"));
    await()
        .atMost(Duration.ofSeconds(20))
        .untilAsserted(() -> assertThat(spread("SayHello", 20)).containsOnlyKeys("greeter-v2"));

    // An invalid regex: rejected, reported, and v2 routing stays in force.
    Files.writeString(
        configDir.resolve("route.yaml"),
        route(
                """
                - matches: [{method: {type: RegularExpression, service: "demo.(Greeter", method: SayHello}}]
                  backendRefs: [{name: greeter, port: 8080}]
                """)
            .replace("generation: 1", "generation: 3"));
    await()
        .atMost(Duration.ofSeconds(20))
        .untilAsserted(
            () ->
                assertThat(controlPlane.routeReports())
                    .singleElement()
                    .satisfies(
                        rep -> {
                          assertThat(rep.observedGeneration()).isEqualTo(3);
                          assertThat(rep.valid()).isFalse();
                          assertThat(rep.inForce()).isTrue();
                          assertThat(rep.parents().getFirst().accepted().reason())
                              .isEqualTo("UnsupportedValue");
                        }));
    assertThat(spread("SayHello", 20)).containsOnlyKeys("greeter-v2");
    assertThat(call("SayBye")).isEqualTo("greeter-bye");
    assertThat(controlPlane.registry().nackCount()).isZero();
  }
}
