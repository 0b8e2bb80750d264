package dev.meshwork.bench.controlplane;

import com.google.protobuf.Any;
import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.RouteAction;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import io.envoyproxy.envoy.config.route.v3.WeightedCluster;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.service.discovery.v3.AggregatedDiscoveryServiceGrpc;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.grpc.ConnectivityState;
import io.grpc.ManagedChannel;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.grpc.stub.StreamObserver;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.zip.Adler32;
import java.util.zip.CRC32C;

/**
 * One simulated sidecar on its own ADS stream (state of the world), subscribing and ACKing the way
 * the Meshwork sidecar does (docs/xds-contract.md): LDS wildcard; RDS by the outbound listeners'
 * route names; CDS by the clusters those routes name; EDS by the clusters' service names. It keeps
 * no resources, only what the benchmark measures: per type the version it ACKed and when, and a
 * digest of the content so a response that changes nothing can be counted.
 *
 * <p>Deriving names means parsing resources; proxies in one JVM share that work through {@link
 * #NAMES}, keyed by content digest (every proxy would compute the same names from the same bytes).
 *
 * <p>Threading: gRPC delivers one stream's callbacks one at a time; fields read by the benchmark's
 * thread are volatile or concurrent.
 */
final class SimulatedProxy implements BenchProxy {
  static final String LDS = "type.googleapis.com/envoy.config.listener.v3.Listener";
  static final String RDS = "type.googleapis.com/envoy.config.route.v3.RouteConfiguration";
  static final String CDS = "type.googleapis.com/envoy.config.cluster.v3.Cluster";
  static final String EDS = "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment";
  static final List<String> TYPES = List.of(LDS, RDS, CDS, EDS);

  /** Names a type's content makes a proxy subscribe to, by content digest. */
  private static final Map<Long, Set<String>> NAMES = new ConcurrentHashMap<>();

  /** What one type looks like from this proxy. */
  static final class TypeState {
    volatile String acked = "";
    volatile long ackedAtNanos;
    String nonce = "";
    long digest;
    boolean have;
    boolean subscribed;
    Set<String> names = new TreeSet<>();
  }

  private final Node node;
  private final ManagedChannel channel;
  private final ScheduledExecutorService retries;
  private final AtomicLong needless;
  private final Map<String, TypeState> types = new ConcurrentHashMap<>();
  private final AtomicLong responses = new AtomicLong();
  private volatile StreamObserver<DiscoveryRequest> requests;
  private volatile boolean closed;

  /**
   * @param needless counts responses, over all proxies, whose content equals what this proxy
   *     already had for that type: pushes to a proxy whose config did not change
   */
  SimulatedProxy(
      Node node, ManagedChannel channel, ScheduledExecutorService retries, AtomicLong needless) {
    this.node = node;
    this.channel = channel;
    this.retries = retries;
    this.needless = needless;
    TYPES.forEach(t -> types.put(t, new TypeState()));
    types.get(LDS).subscribed = true;
  }

  /** A sidecar's node as docs/xds-contract.md defines it. */
  static Node node(String namespace, String pod, String workload) {
    return Node.newBuilder()
        .setId(namespace + "/" + pod)
        .setCluster(workload)
        .setMetadata(
            Struct.newBuilder()
                .putFields("NAMESPACE", str(namespace))
                .putFields("POD_NAME", str(pod))
                .putFields("SERVICE_ACCOUNT", str(workload))
                .putFields("PROXY_TYPE", str("sidecar"))
                .putFields(
                    "LABELS",
                    Value.newBuilder()
                        .setStructValue(
                            Struct.newBuilder()
                                .putFields("app", str(workload))
                                .putFields("version", str("v1")))
                        .build()))
        .build();
  }

  private static Value str(String s) {
    return Value.newBuilder().setStringValue(s).build();
  }

  @Override
  public String id() {
    return node.getId();
  }

  @Override
  public String acked(String typeUrl) {
    return types.get(typeUrl).acked;
  }

  @Override
  public long ackedAtNanos(String typeUrl) {
    return types.get(typeUrl).ackedAtNanos;
  }

  @Override
  public long responses() {
    return responses.get();
  }

  /** Opens the stream; after an error it reopens every 100 ms, sending the versions it holds. */
  @Override
  public void start() {
    if (closed) {
      return;
    }
    ClientResponseObserver<DiscoveryRequest, DiscoveryResponse> observer =
        new ClientResponseObserver<>() {
          ClientCallStreamObserver<DiscoveryRequest> mine;

          @Override
          public void beforeStart(ClientCallStreamObserver<DiscoveryRequest> stream) {
            mine = stream;
            requests = stream; // before any callback can report this stream failed
          }

          @Override
          public void onNext(DiscoveryResponse r) {
            if (mine == requests) {
              handle(r);
            }
          }

          @Override
          public void onError(Throwable t) {
            reopen(mine);
          }

          @Override
          public void onCompleted() {
            reopen(mine);
          }
        };
    AggregatedDiscoveryServiceGrpc.newStub(channel).streamAggregatedResources(observer);
    for (String t : TYPES) {
      TypeState s = types.get(t);
      if (s.subscribed) {
        send(t, s); // a new stream: the versions we hold, no nonce
      }
    }
  }

  /**
   * Opens the new stream only once the channel is connected again: a stream opened while the
   * control plane is down queues its first requests, and a thousand of them add up.
   */
  private void reconnect() {
    if (closed) {
      return;
    }
    channel.resetConnectBackoff(); // the control plane is back when it is back
    if (channel.getState(true) != ConnectivityState.READY) {
      retries.schedule(this::reconnect, 100, TimeUnit.MILLISECONDS);
      return;
    }
    start();
  }

  private synchronized void reopen(StreamObserver<DiscoveryRequest> failed) {
    if (failed != requests || closed) {
      return;
    }
    requests = null;
    types.values().forEach(s -> s.nonce = "");
    retries.schedule(this::reconnect, 100, TimeUnit.MILLISECONDS);
  }

  private void handle(DiscoveryResponse r) {
    responses.incrementAndGet();
    TypeState s = types.get(r.getTypeUrl());
    if (s == null) {
      return;
    }
    long digest = digest(r.getTypeUrl(), r.getResourcesList());
    if (s.have && s.digest == digest) {
      needless.incrementAndGet();
    }
    s.have = true;
    s.digest = digest;
    s.nonce = r.getNonce();
    s.acked = r.getVersionInfo();
    send(r.getTypeUrl(), s); // ACK: this version, this nonce
    s.ackedAtNanos = System.nanoTime();
    String dependent = dependent(r.getTypeUrl());
    if (dependent != null) {
      Set<String> names =
          NAMES.computeIfAbsent(digest, d -> namesIn(r.getTypeUrl(), r.getResourcesList()));
      TypeState d = types.get(dependent);
      if (!d.subscribed || !d.names.equals(names)) {
        d.names = names;
        d.subscribed = true;
        send(dependent, d);
      }
    }
  }

  private void send(String typeUrl, TypeState s) {
    StreamObserver<DiscoveryRequest> out = requests;
    if (out == null) {
      return;
    }
    out.onNext(
        DiscoveryRequest.newBuilder()
            .setNode(node)
            .setTypeUrl(typeUrl)
            .setVersionInfo(s.acked)
            .setResponseNonce(s.nonce)
            .addAllResourceNames(typeUrl.equals(LDS) ? List.of() : s.names)
            .build());
  }

  @Override
  public void close() {
    closed = true;
    StreamObserver<DiscoveryRequest> out = requests;
    if (out != null) {
      out.onCompleted();
    }
  }

  private static String dependent(String typeUrl) {
    return switch (typeUrl) {
      case LDS -> RDS;
      case RDS -> CDS;
      case CDS -> EDS;
      default -> null;
    };
  }

  /** Order-independent 64-bit digest of a response's resources. */
  static long digest(String typeUrl, List<Any> resources) {
    long sum = typeUrl.hashCode();
    for (Any a : resources) {
      ByteString v = a.getValue();
      CRC32C crc = new CRC32C();
      Adler32 adler = new Adler32();
      for (var b : v.asReadOnlyByteBufferList()) {
        crc.update(b.duplicate());
        adler.update(b);
      }
      sum += mix((crc.getValue() << 32) ^ adler.getValue() ^ v.size());
    }
    return sum;
  }

  private static long mix(long z) {
    z = (z ^ (z >>> 33)) * 0xff51afd7ed558ccdL;
    z = (z ^ (z >>> 33)) * 0xc4ceb9fe1a85ec53L;
    return z ^ (z >>> 33);
  }

  static Set<String> namesIn(String typeUrl, List<Any> resources) {
    Set<String> names = new TreeSet<>();
    for (Any a : resources) {
      switch (typeUrl) {
        case LDS -> {
          Listener l = unpack(a, Listener::parseFrom);
          if (l.hasApiListener()) {
            HttpConnectionManager hcm =
                unpack(l.getApiListener().getApiListener(), HttpConnectionManager::parseFrom);
            if (hcm.hasRds()) {
              names.add(hcm.getRds().getRouteConfigName());
            }
          }
        }
        case RDS -> {
          RouteConfiguration rc = unpack(a, RouteConfiguration::parseFrom);
          for (VirtualHost vh : rc.getVirtualHostsList()) {
            for (Route route : vh.getRoutesList()) {
              RouteAction action = route.getRoute();
              if (!action.getCluster().isEmpty()) {
                names.add(action.getCluster());
              }
              for (WeightedCluster.ClusterWeight w :
                  action.getWeightedClusters().getClustersList()) {
                names.add(w.getName());
              }
              action.getRequestMirrorPoliciesList().forEach(m -> names.add(m.getCluster()));
            }
          }
        }
        case CDS -> {
          Cluster c = unpack(a, Cluster::parseFrom);
          if (c.getType() == Cluster.DiscoveryType.EDS) {
            String service = c.getEdsClusterConfig().getServiceName();
            names.add(service.isEmpty() ? c.getName() : service);
          }
        }
        default -> {}
      }
    }
    return Set.copyOf(names);
  }

  private interface Parser<T> {
    T parse(ByteString bytes) throws InvalidProtocolBufferException;
  }

  private static <T> T unpack(Any a, Parser<T> parser) {
    try {
      return parser.parse(a.getValue());
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException("control plane sent an unparseable " + a.getTypeUrl(), e);
    }
  }
}
