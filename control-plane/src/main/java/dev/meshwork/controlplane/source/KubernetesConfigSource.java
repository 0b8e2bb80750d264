package dev.meshwork.controlplane.source;

import dev.meshwork.controlplane.model.RawConfig;
import dev.meshwork.controlplane.model.UnreadableObject;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.GRPCRoute;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import javax.annotation.concurrent.ThreadSafe;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Config from the Kubernetes API through fabric8 informers on Services, EndpointSlices, Pods,
 * Namespaces, GRPCRoutes and the Meshwork CRDs, in every namespace. Any event schedules a debounced
 * read of all informer caches, handed to the sink as one {@link RawConfig}.
 *
 * <p>Our own CRDs are watched untyped and read one object at a time ({@link CustomResourceReader}):
 * an object that cannot be read is handed on as unreadable instead of breaking the informer.
 *
 * <p>A kind whose CRD is not installed (e.g. Gateway API missing) is logged once and treated as
 * empty; the rest of the mesh keeps working.
 */
@ThreadSafe
public final class KubernetesConfigSource implements ConfigSource {
  private static final Logger log = LoggerFactory.getLogger(KubernetesConfigSource.class);

  private final KubernetesClient client;
  private final Debouncer debouncer;
  private final Duration syncTimeout;
  private final List<SharedIndexInformer<? extends HasMetadata>> informers = new ArrayList<>();
  private final List<String> kinds = new ArrayList<>();
  private final CustomResourceReader reader;
  private volatile Consumer<RawConfig> sink;
  private volatile boolean synced;

  public KubernetesConfigSource(KubernetesClient client, Duration debounce, Duration syncTimeout) {
    this.client = client;
    this.syncTimeout = syncTimeout;
    this.debouncer = new Debouncer("meshwork-kube-source", debounce, this::emit);
    this.reader = new CustomResourceReader(client.getKubernetesSerialization());
  }

  @Override
  public void start(Consumer<RawConfig> sink) {
    this.sink = sink;
    add(client.services().inAnyNamespace().runnableInformer(0), "Service");
    add(
        client.discovery().v1().endpointSlices().inAnyNamespace().runnableInformer(0),
        "EndpointSlice");
    add(client.pods().inAnyNamespace().runnableInformer(0), "Pod");
    add(client.namespaces().runnableInformer(0), "Namespace");
    add(client.resources(GRPCRoute.class).inAnyNamespace().runnableInformer(0), "GRPCRoute");
    // Our CRDs untyped, read one object at a time: see CustomResourceReader.
    for (Class<? extends HasMetadata> type : CustomResourceReader.TYPES) {
      add(
          client
              .genericKubernetesResources(ResourceDefinitionContext.fromResourceType(type))
              .inAnyNamespace()
              .runnableInformer(0),
          HasMetadata.getKind(type));
    }

    List<CompletableFuture<Void>> starts = new ArrayList<>();
    for (int i = 0; i < informers.size(); i++) {
      SharedIndexInformer<? extends HasMetadata> informer = informers.get(i);
      String kind = kinds.get(i);
      starts.add(
          informer
              .start()
              .toCompletableFuture()
              .exceptionally(
                  e -> {
                    log.warn(
                        "cannot watch {} ({}); treating it as empty. Is its CRD installed?",
                        kind,
                        e.getMessage());
                    return null;
                  }));
    }
    try {
      CompletableFuture.allOf(starts.toArray(CompletableFuture[]::new))
          .get(syncTimeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (Exception e) {
      throw new ConfigSourceException(
          "informers did not sync within " + syncTimeout + " from " + client.getMasterUrl(), e);
    }
    synced = true;
    log.info("informers synced from {}", client.getMasterUrl());
    debouncer.runNow();
  }

  private <T extends HasMetadata> void add(SharedIndexInformer<T> informer, String kind) {
    informer.addEventHandler(
        new ResourceEventHandler<>() {
          @Override
          public void onAdd(T obj) {
            changed();
          }

          @Override
          public void onUpdate(T oldObj, T newObj) {
            // Status-only writes (including our own route status) bump resourceVersion but not
            // generation; pods and endpoints have no generation, so compare what we read.
            if (sameSpec(oldObj, newObj)) {
              return;
            }
            changed();
          }

          @Override
          public void onDelete(T obj, boolean deletedFinalStateUnknown) {
            changed();
          }
        });
    informers.add(informer);
    kinds.add(kind);
    log.debug("informer for {} registered", kind);
  }

  private static boolean sameSpec(HasMetadata a, HasMetadata b) {
    Long ga = a.getMetadata().getGeneration();
    Long gb = b.getMetadata().getGeneration();
    if (ga != null
        && gb != null
        && (a instanceof GRPCRoute || a instanceof GenericKubernetesResource)) {
      return ga.equals(gb);
    }
    return false;
  }

  private void changed() {
    if (synced) {
      debouncer.trigger();
    }
  }

  private void emit() {
    List<HasMetadata> all = new ArrayList<>();
    List<UnreadableObject> unreadable = new ArrayList<>();
    for (SharedIndexInformer<? extends HasMetadata> informer : informers) {
      if (informer.isRunning() || informer.hasSynced()) {
        for (HasMetadata o : informer.getStore().list()) {
          Object read = o instanceof GenericKubernetesResource g ? reader.read(g) : o;
          switch (read) {
            case HasMetadata typed -> all.add(typed);
            case UnreadableObject u -> unreadable.add(u);
            default -> throw new IllegalStateException("unexpected " + read);
          }
        }
      }
    }
    Consumer<RawConfig> s = sink;
    if (s != null) {
      s.accept(Classifier.classify(all, unreadable));
    }
  }

  /** True once every informer finished its first list. */
  public boolean synced() {
    return synced;
  }

  @Override
  public String describe() {
    return "kubernetes " + client.getMasterUrl();
  }

  @Override
  public void close() {
    informers.forEach(SharedIndexInformer::close);
    debouncer.close();
  }
}
