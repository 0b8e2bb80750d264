package dev.meshwork.sidecar.route;

import java.util.Objects;
import java.util.regex.Pattern;

/**
 * One header condition of a route match. {@code name} is lower case (HTTP/2 header names are).
 *
 * @param value the string to compare with; ignored for {@link Kind#PRESENT}
 * @param regex compiled pattern for {@link Kind#REGEX}, else null
 */
public record HeaderMatcher(String name, Kind kind, String value, Pattern regex, boolean invert) {
  /** How the header value is compared. */
  public enum Kind {
    EXACT,
    PREFIX,
    SUFFIX,
    CONTAINS,
    REGEX,
    PRESENT
  }

  public HeaderMatcher {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(kind, "kind");
    value = value == null ? "" : value;
  }

  /**
   * @param actual the request's header value, or null when the header is absent
   */
  public boolean matches(CharSequence actual) {
    return invert != matchesPlain(actual);
  }

  private boolean matchesPlain(CharSequence actual) {
    if (actual == null) {
      return false;
    }
    String v = actual.toString();
    return switch (kind) {
      case EXACT -> v.equals(value);
      case PREFIX -> v.startsWith(value);
      case SUFFIX -> v.endsWith(value);
      case CONTAINS -> v.contains(value);
      case REGEX -> regex.matcher(v).matches();
      case PRESENT -> true;
    };
  }
}
