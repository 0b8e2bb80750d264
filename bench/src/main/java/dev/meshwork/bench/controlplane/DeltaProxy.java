package dev.meshwork.bench.controlplane;

import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.service.discovery.v3.AggregatedDiscoveryServiceGrpc;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryResponse;
import io.envoyproxy.envoy.service.discovery.v3.Resource;
import io.grpc.ConnectivityState;
import io.grpc.ManagedChannel;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.grpc.stub.StreamObserver;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A simulated sidecar on a delta (incremental) ADS stream: LDS and CDS as wildcards, RDS and EDS by
 * the names the held listeners and clusters give, ACK after each response. It holds, per type, the
 * name-to-version map a delta client must keep; proxies in one JVM hold the same maps, so maps are
 * shared immutable {@link Held} values, interned by content.
 */
final class DeltaProxy implements BenchProxy {
  /** One type's held resources (name to version), immutable and shared. */
  record Held(Map<String, String> versions, long digest) {
    static final Held EMPTY = new Held(Map.of(), 0);
  }

  private static final Map<Long, Held> TRANSITIONS = new ConcurrentHashMap<>();
  private static final Map<String, Set<String>> NAMES_BY_VERSION = new ConcurrentHashMap<>();
  private static final Map<Long, Set<String>> NAMES_BY_HELD = new ConcurrentHashMap<>();

  private static final class TypeState {
    volatile String acked = "";
    volatile long ackedAtNanos;
    Held held = Held.EMPTY;
    boolean subscribed;
    Set<String> names = Set.of();
  }

  private final Node node;
  private final ManagedChannel channel;
  private final ScheduledExecutorService retries;
  private final AtomicLong needless;
  private final Map<String, TypeState> types = new ConcurrentHashMap<>();
  private final AtomicLong responses = new AtomicLong();
  private volatile StreamObserver<DeltaDiscoveryRequest> requests;
  private volatile boolean closed;

  DeltaProxy(
      Node node, ManagedChannel channel, ScheduledExecutorService retries, AtomicLong needless) {
    this.node = node;
    this.channel = channel;
    this.retries = retries;
    this.needless = needless;
    SimulatedProxy.TYPES.forEach(t -> types.put(t, new TypeState()));
    types.get(SimulatedProxy.LDS).subscribed = true;
    types.get(SimulatedProxy.CDS).subscribed = true;
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

  @Override
  public void start() {
    if (closed) {
      return;
    }
    ClientResponseObserver<DeltaDiscoveryRequest, DeltaDiscoveryResponse> observer =
        new ClientResponseObserver<>() {
          ClientCallStreamObserver<DeltaDiscoveryRequest> mine;

          @Override
          public void beforeStart(ClientCallStreamObserver<DeltaDiscoveryRequest> stream) {
            mine = stream;
            requests = stream;
          }

          @Override
          public void onNext(DeltaDiscoveryResponse r) {
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
    AggregatedDiscoveryServiceGrpc.newStub(channel).deltaAggregatedResources(observer);
    for (String t : SimulatedProxy.TYPES) {
      TypeState s = types.get(t);
      if (s.subscribed) {
        // A new stream: what we hold, and what we want (wildcards subscribe to nothing by name).
        DeltaDiscoveryRequest.Builder b =
            DeltaDiscoveryRequest.newBuilder()
                .setNode(node)
                .setTypeUrl(t)
                .putAllInitialResourceVersions(s.held.versions())
                .addAllResourceNamesSubscribe(wildcard(t) ? List.of() : s.names);
        requests.onNext(b.build());
      }
    }
  }

  private static boolean wildcard(String typeUrl) {
    return typeUrl.equals(SimulatedProxy.LDS) || typeUrl.equals(SimulatedProxy.CDS);
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

  private synchronized void reopen(StreamObserver<DeltaDiscoveryRequest> failed) {
    if (failed != requests || closed) {
      return;
    }
    requests = null;
    retries.schedule(this::reconnect, 100, TimeUnit.MILLISECONDS);
  }

  private void handle(DeltaDiscoveryResponse r) {
    responses.incrementAndGet();
    String type = r.getTypeUrl();
    TypeState s = types.get(type);
    if (s == null) {
      return;
    }
    Held before = s.held;
    s.held = apply(before, r);
    if (s.held.digest() == before.digest()) {
      needless.incrementAndGet();
    }
    s.acked = r.getSystemVersionInfo();
    StreamObserver<DeltaDiscoveryRequest> out = requests;
    if (out != null) {
      out.onNext(
          DeltaDiscoveryRequest.newBuilder()
              .setNode(node)
              .setTypeUrl(type)
              .setResponseNonce(r.getNonce())
              .build());
    }
    s.ackedAtNanos = System.nanoTime();
    String dependent =
        type.equals(SimulatedProxy.LDS)
            ? SimulatedProxy.RDS
            : type.equals(SimulatedProxy.CDS) ? SimulatedProxy.EDS : null;
    if (dependent != null) {
      Set<String> names = NAMES_BY_HELD.computeIfAbsent(s.held.digest(), d -> names(s.held));
      TypeState d = types.get(dependent);
      if (!d.subscribed || !d.names.equals(names)) {
        Set<String> add = new TreeSet<>(names);
        add.removeAll(d.names);
        Set<String> drop = new TreeSet<>(d.names);
        drop.removeAll(names);
        d.names = names;
        d.subscribed = true;
        if (out != null) {
          out.onNext(
              DeltaDiscoveryRequest.newBuilder()
                  .setNode(node)
                  .setTypeUrl(dependent)
                  .addAllResourceNamesSubscribe(add)
                  .addAllResourceNamesUnsubscribe(drop)
                  .build());
        }
      }
    }
  }

  /** Applies a response to held state; equal transitions are computed once for all proxies. */
  private static Held apply(Held before, DeltaDiscoveryResponse r) {
    long change = r.getTypeUrl().hashCode();
    for (Resource res : r.getResourcesList()) {
      change += mix(res.getName().hashCode() * 31L + res.getVersion().hashCode());
    }
    for (String removed : r.getRemovedResourcesList()) {
      change += mix(~removed.hashCode());
    }
    long key = mix(before.digest() * 0x9E3779B97F4A7C15L + change);
    return TRANSITIONS.computeIfAbsent(
        key,
        k -> {
          Map<String, String> next = new HashMap<>(before.versions());
          for (Resource res : r.getResourcesList()) {
            next.put(res.getName(), res.getVersion());
            NAMES_BY_VERSION.computeIfAbsent(
                res.getVersion(),
                v -> SimulatedProxy.namesIn(r.getTypeUrl(), List.of(res.getResource())));
          }
          r.getRemovedResourcesList().forEach(next::remove);
          long digest = r.getTypeUrl().hashCode();
          for (Map.Entry<String, String> e : next.entrySet()) {
            digest += mix(e.getKey().hashCode() * 31L + e.getValue().hashCode());
          }
          return new Held(Map.copyOf(next), digest);
        });
  }

  private static Set<String> names(Held held) {
    Set<String> out = new HashSet<>();
    for (String version : held.versions().values()) {
      out.addAll(NAMES_BY_VERSION.getOrDefault(version, Set.of()));
    }
    return Set.copyOf(out);
  }

  private static long mix(long z) {
    z = (z ^ (z >>> 33)) * 0xff51afd7ed558ccdL;
    z = (z ^ (z >>> 33)) * 0xc4ceb9fe1a85ec53L;
    return z ^ (z >>> 33);
  }

  @Override
  public void close() {
    closed = true;
    StreamObserver<DeltaDiscoveryRequest> out = requests;
    if (out != null) {
      out.onCompleted();
    }
  }
}
