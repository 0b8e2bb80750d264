package dev.meshwork.api.logging;

import java.util.Optional;

/**
 * The {@code MESHWORK_LOG_FORMAT} switch shared by the control plane and the sidecar: their logback
 * configurations include {@code dev/meshwork/logging/log-<format>.xml}, so any other value would
 * find no appender and the process would log nothing at all. Mains check it first and refuse to
 * start instead.
 */
public final class LogFormat {
  public static final String ENV = "MESHWORK_LOG_FORMAT";

  private LogFormat() {}

  /** Why {@code value} (the variable's value, or null when unset) cannot be used, if it cannot. */
  public static Optional<String> problem(String value) {
    if (value == null || value.equals("text") || value.equals("json")) {
      return Optional.empty();
    }
    return Optional.of(ENV + "=" + value + " is not a log format: use text (the default) or json");
  }

  /** Exits with status 2 and the reason on stderr when the environment's value is unusable. */
  public static void requireValidEnvironment() {
    problem(System.getenv(ENV))
        .ifPresent(
            reason -> {
              System.err.println(reason);
              System.exit(2);
            });
  }
}
