package dev.meshwork.controlplane.xds;

import dev.meshwork.controlplane.translate.ProxyKey;
import io.envoyproxy.controlplane.server.DiscoveryServerCallbacks;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryResponse;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import javax.annotation.concurrent.ThreadSafe;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Discovery callbacks: which proxies are connected, which version of each type each one last ACKed
 * or NACKed, and how many NACKs arrived. What {@code /debug/proxies} and {@code meshctl
 * proxy-status} show.
 *
 * <p>An ACK is a request whose {@code response_nonce} names a response we sent and that has no
 * {@code error_detail}; its {@code version_info} is the version applied. A NACK carries {@code
 * error_detail}; the version it rejects is the one we sent with that nonce (its own {@code
 * version_info} is still the last good one).
 */
@ThreadSafe
public final class ProxyRegistry implements DiscoveryServerCallbacks, NackCounts {
  private static final Logger log = LoggerFactory.getLogger(ProxyRegistry.class);

  /** Told when a proxy's first stream opens and when its last stream closes. */
  public interface Listener {
    void proxyConnected(ProxyKey proxy);

    default void proxyDisconnected(String proxyId) {}
  }

  /** One type's state for one proxy. Versions are empty strings until known. */
  public record TypeStatus(
      String sent, String acked, String nacked, String lastError, Instant updated) {}

  /**
   * What is known about one connected proxy.
   *
   * @param nacks NACKs this proxy sent since it connected
   */
  public record ProxyStatus(
      ProxyKey proxy,
      Instant connectedSince,
      int streams,
      long nacks,
      Map<String, TypeStatus> types) {}

  private static final class Stream {
    volatile ProxyKey proxy;
    final Map<String, String> versionByNonce = new ConcurrentHashMap<>();
  }

  private static final class Proxy {
    final ProxyKey key;
    final Instant since = Instant.now();
    final AtomicLong streams = new AtomicLong();
    final AtomicLong nacks = new AtomicLong();
    final Map<String, TypeStatus> types = new ConcurrentHashMap<>();

    Proxy(ProxyKey key) {
      this.key = key;
    }
  }

  private final Map<Long, Stream> streams = new ConcurrentHashMap<>();
  private final Map<String, Proxy> proxies = new ConcurrentHashMap<>();
  private final List<Listener> listeners = new CopyOnWriteArrayList<>();
  private final AtomicLong nacks = new AtomicLong();

  public void addListener(Listener l) {
    listeners.add(l);
  }

  /** NACKs received since start. */
  public long nackCount() {
    return nacks.get();
  }

  @Override
  public long totalNacks() {
    return nacks.get();
  }

  @Override
  public Map<String, Long> nacksByProxy() {
    Map<String, Long> out = new java.util.TreeMap<>();
    proxies.forEach((id, p) -> out.put(id, p.nacks.get()));
    return java.util.Collections.unmodifiableMap(out);
  }

  public Collection<ProxyStatus> proxies() {
    return proxies.values().stream()
        .map(
            p ->
                new ProxyStatus(
                    p.key,
                    p.since,
                    (int) p.streams.get(),
                    p.nacks.get(),
                    Map.copyOf(new java.util.TreeMap<>(p.types))))
        .sorted(java.util.Comparator.comparing(s -> s.proxy().id()))
        .toList();
  }

  public java.util.Optional<ProxyKey> proxy(String id) {
    Proxy p = proxies.get(id);
    return p == null ? java.util.Optional.empty() : java.util.Optional.of(p.key);
  }

  public List<ProxyKey> connected() {
    return proxies.values().stream().map(p -> p.key).toList();
  }

  @Override
  public void onStreamOpen(long streamId, String typeUrl) {
    streams.put(streamId, new Stream());
  }

  @Override
  public void onStreamClose(long streamId, String typeUrl) {
    closed(streamId);
  }

  @Override
  public void onStreamCloseWithError(long streamId, String typeUrl, Throwable error) {
    log.debug("xDS stream {} closed with error: {}", streamId, error.toString());
    closed(streamId);
  }

  private void closed(long streamId) {
    Stream s = streams.remove(streamId);
    if (s == null || s.proxy == null) {
      return;
    }
    String id = s.proxy.id();
    Proxy p = proxies.get(id);
    if (p != null && p.streams.decrementAndGet() <= 0 && proxies.remove(id, p)) {
      log.info("proxy {} disconnected", id);
      listeners.forEach(l -> l.proxyDisconnected(id));
    }
  }

  @Override
  public void onV3StreamRequest(long streamId, DiscoveryRequest request) {
    Stream s = stream(streamId);
    if (s.proxy == null && request.hasNode()) {
      register(s, ProxyKey.fromNode(request.getNode()));
    }
    if (s.proxy == null) {
      return;
    }
    track(
        s,
        request.getTypeUrl(),
        request.getResponseNonce(),
        request.getVersionInfo(),
        request.hasErrorDetail() ? request.getErrorDetail() : null);
  }

  @Override
  public void onV3StreamDeltaRequest(long streamId, DeltaDiscoveryRequest request) {
    Stream s = stream(streamId);
    if (s.proxy == null && request.hasNode()) {
      register(s, ProxyKey.fromNode(request.getNode()));
    }
    if (s.proxy == null) {
      return;
    }
    String nonce = request.getResponseNonce();
    String version = nonce.isEmpty() ? "" : s.versionByNonce.getOrDefault(nonce, "");
    track(
        s,
        request.getTypeUrl(),
        nonce,
        request.hasErrorDetail() ? "" : version,
        request.hasErrorDetail() ? request.getErrorDetail() : null);
  }

  @Override
  public void onV3StreamResponse(
      long streamId, DiscoveryRequest request, DiscoveryResponse response) {
    sent(streamId, response.getTypeUrl(), response.getNonce(), response.getVersionInfo());
  }

  @Override
  public void onV3StreamDeltaResponse(
      long streamId, DeltaDiscoveryRequest request, DeltaDiscoveryResponse response) {
    sent(streamId, response.getTypeUrl(), response.getNonce(), response.getSystemVersionInfo());
  }

  private void sent(long streamId, String typeUrl, String nonce, String version) {
    Stream s = streams.get(streamId);
    if (s == null || s.proxy == null) {
      return;
    }
    s.versionByNonce.put(nonce, version);
    Proxy p = proxies.get(s.proxy.id());
    if (p != null) {
      p.types.compute(
          typeUrl,
          (t, old) ->
              old == null
                  ? new TypeStatus(version, "", "", "", Instant.now())
                  : new TypeStatus(
                      version, old.acked(), old.nacked(), old.lastError(), Instant.now()));
    }
  }

  private Stream stream(long streamId) {
    return streams.computeIfAbsent(streamId, id -> new Stream());
  }

  private void register(Stream s, ProxyKey key) {
    s.proxy = key;
    boolean[] fresh = {false};
    Proxy p =
        proxies.compute(
            key.id(),
            (id, old) -> {
              if (old == null) {
                fresh[0] = true;
                return new Proxy(key);
              }
              return old;
            });
    p.streams.incrementAndGet();
    if (fresh[0]) {
      log.info(
          "proxy {} connected (namespace {}, {})",
          key.id(),
          key.namespace(),
          key.sidecar() ? "sidecar" : "proxyless");
      listeners.forEach(l -> l.proxyConnected(key));
    }
  }

  private void track(
      Stream s, String typeUrl, String nonce, String version, com.google.rpc.Status error) {
    Proxy p = proxies.get(s.proxy.id());
    if (p == null || nonce.isEmpty()) {
      return; // the first request of a type: nothing answered yet
    }
    if (error != null) {
      String rejected = s.versionByNonce.getOrDefault(nonce, "");
      long total = nacks.incrementAndGet();
      long fromProxy = p.nacks.incrementAndGet();
      log.warn(
          "NACK from proxy {} for {} version {}: {} (code {}); {} NACKs from this proxy, {} in"
              + " total",
          s.proxy.id(),
          shortType(typeUrl),
          rejected,
          error.getMessage(),
          error.getCode(),
          fromProxy,
          total);
      p.types.compute(
          typeUrl,
          (t, old) ->
              new TypeStatus(
                  old == null ? "" : old.sent(),
                  old == null ? "" : old.acked(),
                  rejected,
                  error.getMessage(),
                  Instant.now()));
    } else {
      p.types.compute(
          typeUrl,
          (t, old) ->
              new TypeStatus(
                  old == null ? version : old.sent(),
                  version,
                  old == null ? "" : old.nacked(),
                  old == null ? "" : old.lastError(),
                  Instant.now()));
    }
    s.versionByNonce.remove(nonce);
  }

  static String shortType(String typeUrl) {
    int dot = typeUrl.lastIndexOf('.');
    return dot >= 0 ? typeUrl.substring(dot + 1) : typeUrl;
  }
}
