package dev.meshwork.sidecar.xds;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Any;
import dev.meshwork.sidecar.testing.EchoService;
import dev.meshwork.sidecar.testing.Mesh;
import dev.meshwork.sidecar.testing.XdsResources;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.listener.v3.ApiListener;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.RouteAction;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.RouteMatch;
import io.envoyproxy.envoy.extensions.filters.http.router.v3.Router;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.type.matcher.v3.RegexMatcher;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.StreamObserver;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The xDS client against a real ADS server (java-control-plane): it ACKs what it applied, NACKs
 * with the reason what it cannot and keeps its last good config, and config pushes never break a
 * call in flight, streaming or unary.
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class XdsConfigPushIT {
  Mesh mesh;
  ManagedChannel channel;

  @BeforeEach
  void start() throws Exception {
    mesh = new Mesh(2, Cluster.LbPolicy.ROUND_ROBIN);
    channel = mesh.client();
  }

  @AfterEach
  void stop() throws Exception {
    mesh.close();
  }

  @Test
  void acksEveryTypeItApplied() {
    String v = mesh.publish(Cluster.LbPolicy.ROUND_ROBIN, mesh.ports());
    for (String type :
        List.of(TypeUrls.LISTENER, TypeUrls.ROUTE, TypeUrls.CLUSTER, TypeUrls.ENDPOINT)) {
      Awaitility.await()
          .atMost(Duration.ofSeconds(10))
          .until(
              () ->
                  mesh.controlPlane.requests.stream()
                      .anyMatch(
                          r ->
                              r.getTypeUrl().equals(type)
                                  && r.getVersionInfo().equals(v)
                                  && !r.hasErrorDetail()));
    }
    assertThat(mesh.sidecar.snapshots().get().versions()).containsEntry("Listener", v);
  }

  @Test
  void nacksAnUnsupportedHttpFilterWithTheReasonAndKeepsTheLastGoodConfig() throws Exception {
    String good = mesh.publish(Cluster.LbPolicy.ROUND_ROBIN, mesh.ports());
    awaitVersion("Listener", good);
    HttpConnectionManager hcm =
        HttpConnectionManager.newBuilder()
            .setRds(
                io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.Rds
                    .newBuilder()
                    .setRouteConfigName(Mesh.AUTHORITY)
                    .setConfigSource(
                        io.envoyproxy.envoy.config.core.v3.ConfigSource.newBuilder()
                            .setAds(
                                io.envoyproxy.envoy.config.core.v3.AggregatedConfigSource
                                    .getDefaultInstance())))
            .addHttpFilters(
                HttpFilter.newBuilder()
                    .setName("envoy.filters.http.fault")
                    .setTypedConfig(
                        Any.newBuilder()
                            .setTypeUrl(
                                "type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault")))
            .addHttpFilters(
                HttpFilter.newBuilder()
                    .setName("envoy.filters.http.router")
                    .setTypedConfig(Any.pack(Router.getDefaultInstance())))
            .build();
    Listener withFault =
        Listener.newBuilder()
            .setName(Mesh.AUTHORITY)
            .setApiListener(ApiListener.newBuilder().setApiListener(Any.pack(hcm)))
            .build();
    String bad =
        mesh.controlPlane.publish(
            List.of(withFault),
            List.of(defaultRouteConfig()),
            List.of(XdsResources.cluster(Mesh.CLUSTER, Cluster.LbPolicy.ROUND_ROBIN)),
            List.of(XdsResources.endpoints(Mesh.CLUSTER, mesh.ports())));
    DiscoveryRequest nack = awaitNack(TypeUrls.LISTENER, "envoy.filters.http.fault");
    assertThat(nack.getVersionInfo()).as("NACK names the version still applied").isEqualTo(good);
    assertThat(nack.getErrorDetail().getMessage())
        .contains(Mesh.AUTHORITY)
        .contains("not supported");
    assertThat(mesh.sidecar.snapshots().get().versions()).containsEntry("Listener", good);
    assertThat(bad).isNotEqualTo(good);
    assertThat(unary("still")).endsWith(":still");
  }

  @Test
  void nacksABadRegexAndKeepsRoutingByTheLastGoodRoutes() throws Exception {
    String good = mesh.publish(Cluster.LbPolicy.ROUND_ROBIN, mesh.ports());
    awaitVersion("RouteConfiguration", good);
    Route badRegex =
        Route.newBuilder()
            .setName("bad")
            .setMatch(
                RouteMatch.newBuilder()
                    .setSafeRegex(RegexMatcher.newBuilder().setRegex("/test.Echo/(Unary")))
            .setRoute(RouteAction.newBuilder().setCluster(Mesh.CLUSTER))
            .build();
    mesh.publish(Cluster.LbPolicy.ROUND_ROBIN, mesh.ports(), badRegex);
    DiscoveryRequest nack = awaitNack(TypeUrls.ROUTE, "invalid regex");
    assertThat(nack.getVersionInfo()).isEqualTo(good);
    assertThat(nack.getErrorDetail().getMessage()).contains("route 'bad'").contains("(Unary");
    assertThat(mesh.sidecar.snapshots().get().versions()).containsEntry("RouteConfiguration", good);
    assertThat(unary("kept")).endsWith(":kept");
  }

  @Test
  void aBidiStreamSurvivesSeveralConfigPushes() throws Exception {
    BlockingQueue<String> replies = new LinkedBlockingQueue<>();
    CompletableFuture<Void> done = new CompletableFuture<>();
    StreamObserver<byte[]> stream =
        ClientCalls.asyncBidiStreamingCall(
            channel.newCall(EchoService.BIDI, CallOptions.DEFAULT),
            new StreamObserver<>() {
              @Override
              public void onNext(byte[] v) {
                replies.add(new String(v, StandardCharsets.UTF_8));
              }

              @Override
              public void onError(Throwable t) {
                done.completeExceptionally(t);
              }

              @Override
              public void onCompleted() {
                done.complete(null);
              }
            });
    stream.onNext(bytes("m0"));
    String first = replies.poll(10, TimeUnit.SECONDS);
    assertThat(first).endsWith(":m0");
    String backend = first.substring(0, first.indexOf(':'));
    int[] ports = mesh.ports();
    int other = backend.equals("b0") ? ports[1] : ports[0];
    // Pushes: a new route first; then the stream's own backend leaves EDS; then a refused config.
    Route extra =
        Route.newBuilder()
            .setName("unary-only")
            .setMatch(RouteMatch.newBuilder().setPath("/test.Echo/Unary"))
            .setRoute(RouteAction.newBuilder().setCluster(Mesh.CLUSTER))
            .build();
    String v1 = mesh.publish(Cluster.LbPolicy.ROUND_ROBIN, ports, extra);
    awaitVersion("RouteConfiguration", v1);
    stream.onNext(bytes("m1"));
    assertThat(replies.poll(10, TimeUnit.SECONDS)).isEqualTo(backend + ":m1");
    String v2 = mesh.publish(Cluster.LbPolicy.LEAST_REQUEST, new int[] {other});
    awaitVersion("ClusterLoadAssignment", v2);
    stream.onNext(bytes("m2"));
    assertThat(replies.poll(10, TimeUnit.SECONDS)).isEqualTo(backend + ":m2");
    Route bad =
        Route.newBuilder()
            .setName("bad")
            .setMatch(RouteMatch.newBuilder().setSafeRegex(RegexMatcher.newBuilder().setRegex("[")))
            .setRoute(RouteAction.newBuilder().setCluster(Mesh.CLUSTER))
            .build();
    mesh.publish(Cluster.LbPolicy.LEAST_REQUEST, new int[] {other}, bad);
    awaitNack(TypeUrls.ROUTE, "invalid regex");
    stream.onNext(bytes("m3"));
    assertThat(replies.poll(10, TimeUnit.SECONDS)).isEqualTo(backend + ":m3");
    stream.onCompleted();
    done.get(10, TimeUnit.SECONDS);
    // New calls follow the new endpoints.
    assertThat(unary("after")).startsWith(backend.equals("b0") ? "b1:" : "b0:");
  }

  @Test
  void pushesUnderLoadFailNoCall() throws Exception {
    AtomicBoolean running = new AtomicBoolean(true);
    AtomicInteger ok = new AtomicInteger();
    AtomicReference<Throwable> failure = new AtomicReference<>();
    ExecutorService pool = Executors.newFixedThreadPool(4);
    List<Future<?>> clients =
        java.util.stream.IntStream.range(0, 4)
            .<Future<?>>mapToObj(
                i ->
                    pool.submit(
                        () -> {
                          while (running.get()) {
                            try {
                              unary("x");
                              ok.incrementAndGet();
                            } catch (RuntimeException e) {
                              failure.compareAndSet(null, e);
                            }
                          }
                        }))
            .toList();
    int[] ports = mesh.ports();
    int[][] sets = {{ports[0]}, {ports[0], ports[1]}, {ports[1]}, {ports[1], ports[0]}};
    for (int i = 0; i < 8; i++) {
      String v = mesh.publish(Cluster.LbPolicy.ROUND_ROBIN, sets[i % sets.length]);
      awaitVersion("ClusterLoadAssignment", v);
      int before = ok.get();
      Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> ok.get() > before + 20);
    }
    running.set(false);
    for (Future<?> f : clients) {
      f.get(20, TimeUnit.SECONDS);
    }
    pool.shutdown();
    assertThat(failure.get()).as("a call failed during config pushes").isNull();
    assertThat(ok.get()).isGreaterThan(160);
  }

  private RouteConfiguration defaultRouteConfig() {
    return XdsResources.routeConfig(
        Mesh.AUTHORITY,
        XdsResources.domains(Mesh.SVC, Mesh.NS, Mesh.PORT),
        XdsResources.defaultRoute(Mesh.CLUSTER));
  }

  private void awaitVersion(String type, String version) {
    Awaitility.await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> version.equals(mesh.sidecar.snapshots().get().versions().get(type)));
  }

  private DiscoveryRequest awaitNack(String typeUrl, String reason) {
    AtomicReference<DiscoveryRequest> found = new AtomicReference<>();
    Awaitility.await()
        .atMost(Duration.ofSeconds(10))
        .until(
            () -> {
              for (DiscoveryRequest r : mesh.controlPlane.requests) {
                if (r.getTypeUrl().equals(typeUrl)
                    && r.hasErrorDetail()
                    && r.getErrorDetail().getMessage().contains(reason)) {
                  found.set(r);
                  return true;
                }
              }
              return false;
            });
    return found.get();
  }

  private String unary(String text) {
    return new String(
        ClientCalls.blockingUnaryCall(
            channel,
            EchoService.UNARY,
            CallOptions.DEFAULT.withDeadlineAfter(10, TimeUnit.SECONDS),
            bytes(text)),
        StandardCharsets.UTF_8);
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}
