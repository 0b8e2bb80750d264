package dev.meshwork.sidecar.lb;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Live load of one endpoint address, shared by all event loops: calls in flight, a peak-EWMA of
 * latency, totals, and a passive-health ejection deadline set after connection failures.
 */
public final class EndpointLoad {
  /** Decay time of the latency average: a sample this old weighs 1/e. */
  private static final double DECAY_NANOS = 10_000_000_000.0;

  private final AtomicInteger active = new AtomicInteger();
  private final AtomicLong total = new AtomicLong();
  private final AtomicLong failures = new AtomicLong();
  private final AtomicInteger consecutiveFailures = new AtomicInteger();
  private volatile long ejectedUntilNanos;
  // Peak EWMA state, updated under this object's monitor (cheap and rare next to I/O).
  private double ewmaNanos;
  private long lastSampleNanos = System.nanoTime();

  public int active() {
    return active.get();
  }

  public long total() {
    return total.get();
  }

  public long failures() {
    return failures.get();
  }

  /** Called when a call is sent to this endpoint. */
  public void begin() {
    active.incrementAndGet();
    total.incrementAndGet();
  }

  /** Called once per {@link #begin()}, with the call's time to completion. */
  public void end(long latencyNanos) {
    active.decrementAndGet();
    observe(latencyNanos);
  }

  /** A connection attempt or stream open failed: eject for a while after repeated failures. */
  public void connectFailed(long ejectNanos) {
    failures.incrementAndGet();
    if (consecutiveFailures.incrementAndGet() >= 1) {
      ejectedUntilNanos = System.nanoTime() + ejectNanos;
    }
  }

  public void connectSucceeded() {
    consecutiveFailures.set(0);
  }

  public boolean ejected() {
    long until = ejectedUntilNanos;
    return until != 0 && System.nanoTime() - until < 0;
  }

  /** Peak EWMA cost: latency average times (in-flight + 1); a fresh endpoint costs 0. */
  public synchronized double ewmaCost() {
    long now = System.nanoTime();
    double decayed = ewmaNanos * Math.exp(-(now - lastSampleNanos) / DECAY_NANOS);
    return decayed * (active.get() + 1);
  }

  private synchronized void observe(long latencyNanos) {
    long now = System.nanoTime();
    if (latencyNanos > ewmaNanos) {
      // Peak: jump to a worse latency at once, decay slowly from it.
      ewmaNanos = latencyNanos;
    } else {
      double w = Math.exp(-(now - lastSampleNanos) / DECAY_NANOS);
      ewmaNanos = ewmaNanos * w + latencyNanos * (1 - w);
    }
    lastSampleNanos = now;
  }
}
