package dev.meshwork.controlplane.xds;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import com.google.rpc.Status;
import dev.meshwork.controlplane.ControlPlane;
import dev.meshwork.controlplane.model.RawConfig;
import dev.meshwork.controlplane.source.ConfigSource;
import dev.meshwork.controlplane.testing.Meshes;
import dev.meshwork.controlplane.translate.ProxyKey;
import io.envoyproxy.controlplane.cache.Resources;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.service.discovery.v3.AggregatedDiscoveryServiceGrpc;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryResponse;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.envoyproxy.envoy.service.discovery.v3.Resource;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.InsecureServerCredentials;
import io.grpc.ManagedChannel;
import io.grpc.stub.StreamObserver;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Real ADS streams over loopback gRPC against a running control plane: a client that NACKs (state
 * of the world), and a delta client that ACKs and sees resources added and removed.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class AdsStreamsTest {

  static final String CLUSTER_A = "outbound|8080||a.default.svc.cluster.local";
  static final String CLUSTER_B = "outbound|8080||b.default.svc.cluster.local";

  /** A config source the test feeds by hand. */
  static final class ManualSource implements ConfigSource {
    volatile Consumer<RawConfig> sink;

    @Override
    public void start(Consumer<RawConfig> sink) {
      this.sink = sink;
    }

    void set(String yaml) {
      sink.accept(Meshes.raw(yaml));
    }

    @Override
    public String describe() {
      return "test";
    }

    @Override
    public void close() {}
  }

  final ManualSource source = new ManualSource();
  ControlPlane cp;
  ManagedChannel channel;

  @BeforeEach
  void start() throws Exception {
    cp =
        ControlPlane.start(
            source,
            new ControlPlane.Options(
                new InetSocketAddress("127.0.0.1", 0),
                new InetSocketAddress("127.0.0.1", 0),
                InsecureServerCredentials.create(),
                List.of(),
                Duration.ofMillis(10),
                "cluster.local"),
            null);
    source.set(Meshes.service("a", 8080) + Meshes.pod("a-1", "a", "v1", "10.0.0.1", 8080, true));
    channel =
        Grpc.newChannelBuilderForAddress(
                "127.0.0.1", cp.grpcPort(), InsecureChannelCredentials.create())
            .build();
  }

  @AfterEach
  void stop() {
    channel.shutdownNow();
    cp.close();
  }

  static Node sidecar(String pod) {
    return Node.newBuilder()
        .setId("default/" + pod)
        .setCluster("a")
        .setMetadata(
            Struct.newBuilder()
                .putFields(ProxyKey.NAMESPACE, Value.newBuilder().setStringValue("default").build())
                .putFields(ProxyKey.POD_NAME, Value.newBuilder().setStringValue(pod).build()))
        .build();
  }

  static <T> StreamObserver<T> into(BlockingQueue<T> queue) {
    return new StreamObserver<>() {
      @Override
      public void onNext(T value) {
        queue.add(value);
      }

      @Override
      public void onError(Throwable t) {}

      @Override
      public void onCompleted() {}
    };
  }

  @Test
  void aNackIsCountedPerProxyAndInTotalAndShownOnTheDebugPage() throws Exception {
    BlockingQueue<DiscoveryResponse> responses = new LinkedBlockingQueue<>();
    StreamObserver<DiscoveryRequest> requests =
        AggregatedDiscoveryServiceGrpc.newStub(channel).streamAggregatedResources(into(responses));
    Node node = sidecar("a-1");
    requests.onNext(
        DiscoveryRequest.newBuilder()
            .setNode(node)
            .setTypeUrl(Resources.V3.CLUSTER_TYPE_URL)
            .build());
    DiscoveryResponse first = responses.poll(20, TimeUnit.SECONDS);
    assertThat(first).isNotNull();
    assertThat(first.getResourcesCount()).isEqualTo(2); // outbound a, inbound 8080

    // Reject it, as a sidecar does when it cannot apply a resource; version_info stays empty.
    requests.onNext(
        DiscoveryRequest.newBuilder()
            .setNode(node)
            .setTypeUrl(Resources.V3.CLUSTER_TYPE_URL)
            .setResponseNonce(first.getNonce())
            .setErrorDetail(
                Status.newBuilder().setCode(3).setMessage("Cluster 'x': unsupported lb_policy"))
            .build());

    NackCounts counts = cp.registry();
    await().atMost(Duration.ofSeconds(10)).until(() -> counts.totalNacks() == 1);
    assertThat(counts.nacksByProxy()).containsExactly(java.util.Map.entry("default/a-1", 1L));
    String page = get("/debug/proxies");
    assertThat(page)
        .contains("\"nacks\": 1")
        .contains("unsupported lb_policy")
        .contains("\"nacked\": \"" + first.getVersionInfo() + "\"");

    // A later change is ACKed: the NACK count stays, the acked version moves on.
    source.set(
        Meshes.service("a", 8080)
            + Meshes.service("b", 8080)
            + Meshes.pod("a-1", "a", "v1", "10.0.0.1", 8080, true));
    DiscoveryResponse second = responses.poll(20, TimeUnit.SECONDS);
    assertThat(second).isNotNull();
    requests.onNext(
        DiscoveryRequest.newBuilder()
            .setNode(node)
            .setTypeUrl(Resources.V3.CLUSTER_TYPE_URL)
            .setVersionInfo(second.getVersionInfo())
            .setResponseNonce(second.getNonce())
            .build());
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> get("/debug/proxies").contains("\"acked\": \"" + second.getVersionInfo()));
    assertThat(counts.nacksByProxy()).containsEntry("default/a-1", 1L);
    requests.onCompleted();
  }

  @Test
  void aDeltaClientGetsOnlyWhatChangedAndItsAcksAreTracked() throws Exception {
    BlockingQueue<DeltaDiscoveryResponse> responses = new LinkedBlockingQueue<>();
    StreamObserver<DeltaDiscoveryRequest> requests =
        AggregatedDiscoveryServiceGrpc.newStub(channel).deltaAggregatedResources(into(responses));
    Node node = sidecar("a-1");
    requests.onNext(
        DeltaDiscoveryRequest.newBuilder()
            .setNode(node)
            .setTypeUrl(Resources.V3.CLUSTER_TYPE_URL)
            .build()); // no names: wildcard

    DeltaDiscoveryResponse first = responses.poll(20, TimeUnit.SECONDS);
    assertThat(first).isNotNull();
    assertThat(first.getResourcesList())
        .extracting(Resource::getName)
        .containsExactlyInAnyOrder(CLUSTER_A, "inbound|8080||");
    ack(requests, node, first);

    // Add a Service: only its cluster arrives.
    String a = Meshes.service("a", 8080) + Meshes.pod("a-1", "a", "v1", "10.0.0.1", 8080, true);
    source.set(a + Meshes.service("b", 8080));
    DeltaDiscoveryResponse added = responses.poll(20, TimeUnit.SECONDS);
    assertThat(added).isNotNull();
    assertThat(added.getResourcesList()).extracting(Resource::getName).containsExactly(CLUSTER_B);
    assertThat(added.getRemovedResourcesList()).isEmpty();
    ack(requests, node, added);
    await()
        .atMost(Duration.ofSeconds(10))
        .until(
            () ->
                get("/debug/proxies")
                    .contains("\"acked\": \"" + added.getSystemVersionInfo() + "\""));

    // Remove it again: the client is told its name, nothing else is resent.
    source.set(a);
    DeltaDiscoveryResponse removed = responses.poll(20, TimeUnit.SECONDS);
    assertThat(removed).isNotNull();
    assertThat(removed.getResourcesList()).isEmpty();
    assertThat(removed.getRemovedResourcesList()).containsExactly(CLUSTER_B);
    ack(requests, node, removed);

    assertThat(responses.poll(300, TimeUnit.MILLISECONDS)).as("nothing else pushed").isNull();
    assertThat(cp.registry().totalNacks()).isZero();
    requests.onCompleted();
  }

  static void ack(
      StreamObserver<DeltaDiscoveryRequest> requests, Node node, DeltaDiscoveryResponse r) {
    requests.onNext(
        DeltaDiscoveryRequest.newBuilder()
            .setNode(node)
            .setTypeUrl(r.getTypeUrl())
            .setResponseNonce(r.getNonce())
            .build());
  }

  String get(String path) throws Exception {
    try (HttpClient http = HttpClient.newHttpClient()) {
      return http.send(
              HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + cp.httpPort() + path))
                  .build(),
              HttpResponse.BodyHandlers.ofString())
          .body();
    }
  }
}
