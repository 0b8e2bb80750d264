package dev.meshwork.sidecar.xds;

import java.util.List;

/**
 * What a parser returns for one resource: a valid value, or the reasons to NACK it.
 *
 * @param value the parsed record, or null when {@code errors} is not empty
 */
public record Parsed<T>(String name, T value, List<String> errors) {
  public Parsed {
    errors = List.copyOf(errors);
  }

  public static <T> Parsed<T> ok(String name, T value) {
    return new Parsed<>(name, value, List.of());
  }

  public static <T> Parsed<T> error(String name, List<String> errors) {
    return new Parsed<>(name, null, errors);
  }

  public boolean ok() {
    return errors.isEmpty();
  }
}
