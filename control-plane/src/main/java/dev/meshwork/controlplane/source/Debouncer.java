package dev.meshwork.controlplane.source;

import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import javax.annotation.concurrent.GuardedBy;
import javax.annotation.concurrent.ThreadSafe;

/**
 * Runs an action once after a burst of triggers has been quiet for the window, capped so a steady
 * trickle of changes still goes out at least every {@code 10 x window}. The action runs on one
 * thread, never concurrently with itself.
 */
@ThreadSafe
final class Debouncer implements AutoCloseable {
  private final ScheduledExecutorService executor;
  private final Runnable action;
  private final long windowNanos;

  @GuardedBy("this")
  private ScheduledFuture<?> scheduled;

  @GuardedBy("this")
  private long firstTrigger;

  Debouncer(String threadName, Duration window, Runnable action) {
    this.executor =
        Executors.newSingleThreadScheduledExecutor(
            r -> Thread.ofPlatform().name(threadName).daemon().unstarted(r));
    this.windowNanos = window.toNanos();
    this.action = action;
  }

  synchronized void trigger() {
    long now = System.nanoTime();
    if (scheduled != null && !scheduled.isDone()) {
      if (now - firstTrigger > 10 * windowNanos) {
        return; // already due soon: let the cap fire
      }
      scheduled.cancel(false);
    } else {
      firstTrigger = now;
    }
    scheduled = executor.schedule(this::run, windowNanos, TimeUnit.NANOSECONDS);
  }

  /** Runs the action now on the debouncer's thread. */
  void runNow() {
    executor.execute(this::run);
  }

  private void run() {
    synchronized (this) {
      scheduled = null;
    }
    action.run();
  }

  @Override
  public void close() {
    executor.shutdownNow();
  }
}
