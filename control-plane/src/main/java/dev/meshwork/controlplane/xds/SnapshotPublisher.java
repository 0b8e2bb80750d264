package dev.meshwork.controlplane.xds;

import dev.meshwork.controlplane.model.MeshModel;
import dev.meshwork.controlplane.translate.ProxyKey;
import dev.meshwork.controlplane.translate.ProxyResources;
import dev.meshwork.controlplane.translate.SnapshotAssembler;
import io.envoyproxy.controlplane.cache.v3.SimpleCache;
import io.envoyproxy.controlplane.cache.v3.Snapshot;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import javax.annotation.concurrent.ThreadSafe;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The only caller of {@code setSnapshot}. Takes each new model, waits for the debounce window so a
 * burst of changes becomes one push, translates for every connected proxy and sets a snapshot only
 * where a type's version changed; a proxy that connects gets its snapshot at once.
 *
 * <p>Threading: public methods may be called from any thread; translation and cache updates run on
 * the publisher's single thread, so snapshots for one proxy are set in order.
 */
@ThreadSafe
public final class SnapshotPublisher implements ProxyRegistry.Listener, AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(SnapshotPublisher.class);

  private final SimpleCache<String> cache;
  private final ProxyRegistry registry;
  private final SnapshotAssembler assembler = new SnapshotAssembler();
  private final Duration debounce;
  private final ScheduledExecutorService executor =
      Executors.newSingleThreadScheduledExecutor(
          r -> Thread.ofPlatform().name("meshwork-publisher").daemon().unstarted(r));

  // Written and read on the publisher thread; volatile for the debug page's reads.
  private volatile MeshModel model;
  private final Map<String, ProxyResources> published = new ConcurrentHashMap<>();
  // Proxies with equal versions have equal resources: they share one ProxyResources and one
  // Snapshot (whose per-resource hashing is the costly part), so 1,000 proxies of a few kinds cost
  // a few snapshots. Publisher thread only.
  private final Map<ProxyResources.Versions, Published> byVersions = new HashMap<>();

  private record Published(ProxyResources resources, Snapshot snapshot) {}

  private ScheduledFuture<?> pending;
  private final AtomicLong pushes = new AtomicLong();
  private volatile long lastPushNanos;

  /**
   * Proxies that connect before the first model get nothing until it arrives: an empty snapshot
   * would tell them every Service they asked for does not exist.
   */
  public SnapshotPublisher(SimpleCache<String> cache, ProxyRegistry registry, Duration debounce) {
    this.cache = cache;
    this.registry = registry;
    this.debounce = debounce;
    registry.addListener(this);
  }

  /** A new model; pushed to every proxy after the debounce window. */
  public void onModel(MeshModel next) {
    executor.execute(
        () -> {
          model = next;
          if (pending == null || pending.isDone()) {
            pending = executor.schedule(this::pushAll, debounce.toMillis(), TimeUnit.MILLISECONDS);
          }
        });
  }

  @Override
  public void proxyConnected(ProxyKey proxy) {
    executor.execute(
        () -> {
          if (model != null) {
            push(proxy, model);
          }
        });
  }

  @Override
  public void proxyDisconnected(String proxyId) {
    executor.execute(
        () -> {
          if (registry.proxy(proxyId).isEmpty()) {
            published.remove(proxyId);
            cache.clearSnapshot(proxyId);
          }
        });
  }

  /** The resources last set for a proxy, for the debug page. */
  public Optional<ProxyResources> published(String proxyId) {
    return Optional.ofNullable(published.get(proxyId));
  }

  /** The model last handed in, or null before the first one. */
  public MeshModel currentModel() {
    return model;
  }

  /** Snapshots set since start (one per proxy whose config changed). */
  public long pushCount() {
    return pushes.get();
  }

  /** How long the last full push (translate + set for every proxy) took. */
  public Duration lastPushDuration() {
    return Duration.ofNanos(lastPushNanos);
  }

  /** Runs {@code task} on the publisher thread after everything already queued; for tests. */
  public void flush() throws InterruptedException {
    var done = new java.util.concurrent.CountDownLatch(1);
    executor.execute(done::countDown);
    done.await(10, TimeUnit.SECONDS);
  }

  private void pushAll() {
    long start = System.nanoTime();
    MeshModel m = model;
    List<ProxyKey> proxies = registry.connected();
    int changed = 0;
    for (ProxyKey p : proxies) {
      if (push(p, m)) {
        changed++;
      }
    }
    // Forget snapshots no proxy uses any more.
    Set<ProxyResources.Versions> inUse = new HashSet<>();
    published.values().forEach(r -> inUse.add(r.versions()));
    byVersions.keySet().retainAll(inUse);
    lastPushNanos = System.nanoTime() - start;
    log.info(
        "model {}: {} of {} proxies got new config in {} ms",
        m.generation(),
        changed,
        proxies.size(),
        TimeUnit.NANOSECONDS.toMillis(lastPushNanos));
  }

  /** Translates for one proxy and sets its snapshot if any version changed. */
  private boolean push(ProxyKey proxy, MeshModel m) {
    ProxyResources next;
    try {
      next = assembler.assemble(m, proxy);
    } catch (RuntimeException e) {
      // A translator bug must not stop other proxies' pushes; this proxy keeps its last config.
      log.error("translation failed for proxy {} at model {}", proxy.id(), m.generation(), e);
      return false;
    }
    ProxyResources prev = published.get(proxy.id());
    if (prev != null && prev.versions().equals(next.versions())) {
      return false;
    }
    Published shared = byVersions.computeIfAbsent(next.versions(), v -> snapshotOf(next));
    cache.setSnapshot(proxy.id(), shared.snapshot());
    published.put(proxy.id(), shared.resources());
    pushes.incrementAndGet();
    return true;
  }

  private static Published snapshotOf(ProxyResources r) {
    ProxyResources.Versions v = r.versions();
    return new Published(
        r,
        Snapshot.create(
            r.clusters(),
            v.clusters(),
            r.endpoints(),
            v.endpoints(),
            r.listeners(),
            v.listeners(),
            r.routes(),
            v.routes(),
            List.of(),
            ""));
  }

  @Override
  public void close() {
    executor.shutdownNow();
  }
}
