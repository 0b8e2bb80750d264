package dev.meshwork.sidecar.config;

import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

/**
 * The current {@link SidecarSnapshot}. Thread-safe: written by the xDS client's thread, read by
 * every event loop.
 */
public final class SnapshotHolder {
  private final AtomicReference<SidecarSnapshot> current =
      new AtomicReference<>(SidecarSnapshot.EMPTY);
  private final CopyOnWriteArrayList<Consumer<SidecarSnapshot>> listeners =
      new CopyOnWriteArrayList<>();
  private volatile boolean received;
  private volatile boolean complete;

  public SidecarSnapshot get() {
    return current.get();
  }

  /** True once a first configuration was applied (readiness). */
  public boolean received() {
    return received;
  }

  /**
   * True once a snapshot was applied that holds everything its listeners name (see {@link
   * SidecarSnapshot#missing()}); stays true after (readiness is about the start, later pushes are
   * applied type by type and briefly lack what the next type brings).
   */
  public boolean complete() {
    return complete;
  }

  /** Replaces the snapshot whole, then tells listeners (on the caller's thread). */
  public void set(SidecarSnapshot snapshot) {
    current.set(snapshot);
    received = true;
    if (!complete && snapshot.missing().isEmpty()) {
      complete = true;
    }
    for (Consumer<SidecarSnapshot> l : listeners) {
      l.accept(snapshot);
    }
  }

  public void onChange(Consumer<SidecarSnapshot> listener) {
    listeners.add(listener);
  }
}
