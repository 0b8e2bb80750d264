package dev.meshwork.sidecar.listener;

import java.util.concurrent.TimeUnit;

/** Parses the {@code grpc-timeout} header: 1 to 8 digits and a unit (H M S m u n). */
public final class GrpcTimeout {
  private GrpcTimeout() {}

  /**
   * @return the timeout in nanoseconds, or -1 when the value is absent or malformed (a malformed
   *     timeout is ignored here; the server judges it too)
   */
  public static long parseNanos(CharSequence v) {
    if (v == null || v.length() < 2 || v.length() > 9) {
      return -1;
    }
    long n = 0;
    for (int i = 0; i < v.length() - 1; i++) {
      char c = v.charAt(i);
      if (c < '0' || c > '9') {
        return -1;
      }
      n = n * 10 + (c - '0');
    }
    return switch (v.charAt(v.length() - 1)) {
      case 'H' -> TimeUnit.HOURS.toNanos(n);
      case 'M' -> TimeUnit.MINUTES.toNanos(n);
      case 'S' -> TimeUnit.SECONDS.toNanos(n);
      case 'm' -> TimeUnit.MILLISECONDS.toNanos(n);
      case 'u' -> TimeUnit.MICROSECONDS.toNanos(n);
      case 'n' -> n;
      default -> -1;
    };
  }
}
