package dev.meshwork.sidecar.xds;

import com.google.protobuf.Any;
import com.google.rpc.Code;
import com.google.rpc.Status;
import dev.meshwork.sidecar.config.SnapshotHolder;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.service.discovery.v3.AggregatedDiscoveryServiceGrpc;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.grpc.Channel;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.grpc.stub.StreamObserver;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One ADS stream (state of the world) to the control plane.
 *
 * <p>Order of subscriptions (docs/xds-contract.md): LDS wildcard; RDS by the route names of the
 * outbound listeners; CDS by the clusters those routes name; EDS by the clusters' EDS service
 * names. A response is parsed whole; if any resource fails, the response is NACKed with every
 * reason in {@code error_detail} and nothing of it is applied. Otherwise the new resources of that
 * type replace the old ones, a new {@link dev.meshwork.sidecar.config.SidecarSnapshot} is swapped
 * in, and only then the version is ACKed.
 *
 * <p>Threading: all state is confined to one single-thread executor; gRPC delivers the stream's
 * callbacks there. Public methods are thread-safe (they hop onto that executor).
 */
public final class XdsClient implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(XdsClient.class);
  private static final List<String> ORDER =
      List.of(TypeUrls.LISTENER, TypeUrls.ROUTE, TypeUrls.CLUSTER, TypeUrls.ENDPOINT);

  /** Per type: what we asked for and what we accepted. Confined to {@link #executor}. */
  private static final class TypeState {
    final boolean wildcard;
    Set<String> names = new TreeSet<>();
    boolean subscribed;
    String version = "";
    String nonce = "";
    Map<String, Object> accepted = new LinkedHashMap<>();
    Map<String, Any> raw = new LinkedHashMap<>();

    TypeState(boolean wildcard) {
      this.wildcard = wildcard;
    }
  }

  private final AggregatedDiscoveryServiceGrpc.AggregatedDiscoveryServiceStub stub;
  private final Node node;
  private final SnapshotHolder holder;
  private final ScheduledExecutorService executor;
  private final Map<String, ResourceParser<?>> parsers = new HashMap<>();
  private final Map<String, TypeState> states = new HashMap<>();
  private StreamObserver<DiscoveryRequest> requests;
  private long backoffMillis = 500;
  private volatile boolean closed;
  private volatile String lastNack = "";
  private volatile boolean connected;

  public XdsClient(Channel channel, Node node, SnapshotHolder holder) {
    this.executor =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "meshwork-xds");
              t.setDaemon(true);
              return t;
            });
    this.stub = AggregatedDiscoveryServiceGrpc.newStub(channel).withExecutor(executor);
    this.node = node;
    this.holder = holder;
    for (ResourceParser<?> p :
        List.of(
            new ListenerParser(), new RouteParser(), new ClusterParser(), new EndpointParser())) {
      parsers.put(p.typeUrl(), p);
    }
    states.put(TypeUrls.LISTENER, new TypeState(true));
    states.put(TypeUrls.ROUTE, new TypeState(false));
    states.put(TypeUrls.CLUSTER, new TypeState(false));
    states.put(TypeUrls.ENDPOINT, new TypeState(false));
    states.get(TypeUrls.LISTENER).subscribed = true;
  }

  /** Opens the stream; reconnects with backoff until {@link #close()}. */
  public void start() {
    executor.execute(this::openStream);
  }

  /** The last NACK's error detail, or empty; for the admin page. */
  public String lastNack() {
    return lastNack;
  }

  public boolean connected() {
    return connected;
  }

  /** The accepted resources of each type as sent by the control plane, for the config dump. */
  public Map<String, List<Any>> acceptedResources() {
    try {
      return executor
          .submit(
              () -> {
                Map<String, List<Any>> out = new LinkedHashMap<>();
                for (String t : ORDER) {
                  out.put(t, List.copyOf(states.get(t).raw.values()));
                }
                return out;
              })
          .get(5, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new IllegalStateException("xDS state unavailable", e);
    }
  }

  private void openStream() {
    if (closed) {
      return;
    }
    log.info("xds.stream.open node={}", node.getId());
    ClientResponseObserver<DiscoveryRequest, DiscoveryResponse> observer =
        new ClientResponseObserver<>() {
          StreamObserver<DiscoveryRequest> mine;

          @Override
          public void beforeStart(ClientCallStreamObserver<DiscoveryRequest> rs) {
            mine = rs;
          }

          @Override
          public void onNext(DiscoveryResponse r) {
            if (mine == requests) {
              connected = true;
              backoffMillis = 500;
              handle(r);
            }
          }

          @Override
          public void onError(Throwable t) {
            log.warn("xds.stream.error cause={}", t.toString());
            retry(mine);
          }

          @Override
          public void onCompleted() {
            log.warn("xds.stream.closed by control plane");
            retry(mine);
          }
        };
    requests = stub.streamAggregatedResources(observer);
    for (String type : ORDER) {
      TypeState s = states.get(type);
      if (s.subscribed) {
        // Re-subscribing on a new stream: send the versions we hold, no nonce (none is valid).
        send(type, s, null);
      }
    }
  }

  private void retry(StreamObserver<DiscoveryRequest> failed) {
    if (failed != requests || closed) {
      return;
    }
    connected = false;
    requests = null;
    long delay = backoffMillis;
    backoffMillis = Math.min(backoffMillis * 2, 30_000);
    executor.schedule(this::openStream, delay, TimeUnit.MILLISECONDS);
  }

  private void handle(DiscoveryResponse r) {
    String type = r.getTypeUrl();
    TypeState s = states.get(type);
    ResourceParser<?> parser = parsers.get(type);
    if (s == null || parser == null) {
      log.warn("xds.response.unexpected type={}", type);
      return;
    }
    s.nonce = r.getNonce();
    List<String> errors = new ArrayList<>();
    Map<String, Object> parsed = new LinkedHashMap<>();
    Map<String, Any> raw = new LinkedHashMap<>();
    for (Any any : r.getResourcesList()) {
      Parsed<?> p = parser.parse(any);
      if (!p.ok()) {
        for (String e : p.errors()) {
          errors.add(shortType(type) + " '" + p.name() + "': " + e);
        }
      } else if (parsed.putIfAbsent(p.name(), p.value()) != null) {
        errors.add(shortType(type) + " '" + p.name() + "': duplicate resource name");
      } else {
        raw.put(p.name(), any);
      }
    }
    if (!errors.isEmpty()) {
      String detail = String.join("; ", errors);
      lastNack = detail;
      log.warn(
          "xds.nack type={} version={} reasons={}", shortType(type), r.getVersionInfo(), detail);
      send(
          type,
          s,
          Status.newBuilder().setCode(Code.INVALID_ARGUMENT_VALUE).setMessage(detail).build());
      return;
    }
    s.accepted = parsed;
    s.raw = raw;
    s.version = r.getVersionInfo();
    holder.set(
        SnapshotAssembler.assemble(
            typed(TypeUrls.LISTENER),
            typed(TypeUrls.ROUTE),
            typed(TypeUrls.CLUSTER),
            typed(TypeUrls.ENDPOINT),
            versions()));
    log.info("xds.ack type={} version={} resources={}", shortType(type), s.version, parsed.size());
    send(type, s, null);
    updateSubscriptions();
  }

  /** After an accepted update, subscribe to the dependent names it introduced or dropped. */
  private void updateSubscriptions() {
    resubscribe(TypeUrls.ROUTE, SnapshotAssembler.routeNames(typed(TypeUrls.LISTENER)));
    resubscribe(TypeUrls.CLUSTER, SnapshotAssembler.clusterNames(typed(TypeUrls.ROUTE)));
    resubscribe(TypeUrls.ENDPOINT, SnapshotAssembler.endpointNames(typed(TypeUrls.CLUSTER)));
  }

  private void resubscribe(String type, Set<String> names) {
    TypeState s = states.get(type);
    if (s.subscribed && s.names.equals(names)) {
      return;
    }
    if (!s.subscribed && names.isEmpty()) {
      return;
    }
    s.names = new TreeSet<>(names);
    s.subscribed = true;
    send(type, s, null);
  }

  private void send(String type, TypeState s, Status error) {
    if (requests == null) {
      return;
    }
    DiscoveryRequest.Builder b =
        DiscoveryRequest.newBuilder()
            .setTypeUrl(type)
            .setVersionInfo(s.version)
            .setResponseNonce(s.nonce)
            .addAllResourceNames(s.wildcard ? List.of() : s.names);
    // The node goes on every request: java-control-plane groups by it, and it is cheap.
    b.setNode(node);
    if (error != null) {
      b.setErrorDetail(error);
    }
    requests.onNext(b.build());
  }

  @SuppressWarnings("unchecked")
  private <T> Map<String, T> typed(String type) {
    return (Map<String, T>) (Map<String, ?>) states.get(type).accepted;
  }

  private Map<String, String> versions() {
    Map<String, String> v = new LinkedHashMap<>();
    for (String t : ORDER) {
      v.put(shortType(t), states.get(t).version);
    }
    return v;
  }

  private static String shortType(String typeUrl) {
    return typeUrl.substring(typeUrl.lastIndexOf('.') + 1);
  }

  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    executor.execute(
        () -> {
          if (requests != null) {
            requests.onCompleted();
            requests = null;
          }
        });
    executor.shutdown();
  }
}
