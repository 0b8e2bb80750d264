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

  /**
   * The text format's logback pattern: time, level, thread, logger, message, key/value pairs. The
   * sidecar sets its logging up in code with it; {@code log-text.xml} carries the same (tested).
   */
  public static final String TEXT_PATTERN =
      "%d{yyyy-MM-dd'T'HH:mm:ss.SSSX} %-5level [%thread] %logger{20} - %msg %kvp%n%ex";

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
