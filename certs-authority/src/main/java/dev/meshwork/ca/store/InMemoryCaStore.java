package dev.meshwork.ca.store;

import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;

/** Keeps the material in memory only: tests and throw-away runs. Thread-safe. */
public final class InMemoryCaStore implements CaStore {
  private final AtomicReference<Map<String, String>> entries = new AtomicReference<>();

  @Override
  public Optional<Map<String, String>> load() {
    return Optional.ofNullable(entries.get());
  }

  @Override
  public Map<String, String> createIfAbsent(Map<String, String> candidate) {
    entries.compareAndSet(null, Map.copyOf(candidate));
    return entries.get();
  }

  @Override
  public void replace(Map<String, String> replacement) {
    entries.set(Map.copyOf(replacement));
  }

  @Override
  public String describe() {
    return "memory";
  }
}
