package dev.meshwork.controlplane.translate;

import com.google.protobuf.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Gateway API duration strings ({@code 1h}, {@code 30s}, {@code 500ms}, {@code 1m30s}). */
final class Durations {
  private static final Pattern PART = Pattern.compile("(\\d+)(h|ms|m|s)");

  private Durations() {}

  /**
   * @throws IllegalArgumentException naming the bad value
   */
  static Duration parse(String text) {
    if (text == null || text.isEmpty()) {
      throw new IllegalArgumentException("empty duration");
    }
    Matcher m = PART.matcher(text);
    long millis = 0;
    int end = 0;
    while (m.find()) {
      if (m.start() != end) {
        break;
      }
      long n = Long.parseLong(m.group(1));
      millis +=
          switch (m.group(2)) {
            case "h" -> n * 3_600_000;
            case "m" -> n * 60_000;
            case "s" -> n * 1000;
            default -> n;
          };
      end = m.end();
    }
    if (end != text.length()) {
      throw new IllegalArgumentException(
          "invalid duration '" + text + "' (use e.g. 500ms, 5s, 1m)");
    }
    return Duration.newBuilder()
        .setSeconds(millis / 1000)
        .setNanos((int) (millis % 1000) * 1_000_000)
        .build();
  }
}
