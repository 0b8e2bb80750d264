package dev.meshwork.bench.controlplane;

/** A simulated sidecar as the benchmark sees it: what it ACKed, when, and how often it heard. */
interface BenchProxy {
  String id();

  /** The version last ACKed for a type, or empty. */
  String acked(String typeUrl);

  /** {@link System#nanoTime()} of that ACK. */
  long ackedAtNanos(String typeUrl);

  long responses();

  void start();

  void close();
}
