package dev.meshwork.sidecar.route;

import java.util.List;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * The request side of a route: exactly one path condition plus header conditions (all must hold).
 * gRPC paths are {@code /package.Service/Method}, so a method match is an exact path and a service
 * match is a prefix.
 */
public record RouteMatch(
    PathKind pathKind,
    String path,
    Pattern regex,
    boolean caseSensitive,
    List<HeaderMatcher> headers) {
  /** How {@link #path} is compared with the request's {@code :path}. */
  public enum PathKind {
    PREFIX,
    EXACT,
    REGEX
  }

  public RouteMatch {
    headers = List.copyOf(headers);
  }

  /** A match for every request: prefix {@code /}. */
  public static RouteMatch any() {
    return new RouteMatch(PathKind.PREFIX, "/", null, true, List.of());
  }

  /**
   * @param requestPath the {@code :path} without query string
   * @param headerLookup returns a request header's value (lower-case name), or null if absent
   */
  public boolean matches(String requestPath, Function<String, CharSequence> headerLookup) {
    if (!pathMatches(requestPath)) {
      return false;
    }
    for (HeaderMatcher h : headers) {
      if (!h.matches(headerLookup.apply(h.name()))) {
        return false;
      }
    }
    return true;
  }

  private boolean pathMatches(String p) {
    return switch (pathKind) {
      case PREFIX ->
          caseSensitive ? p.startsWith(path) : p.regionMatches(true, 0, path, 0, path.length());
      case EXACT -> caseSensitive ? p.equals(path) : p.equalsIgnoreCase(path);
      case REGEX -> regex.matcher(p).matches();
    };
  }
}
