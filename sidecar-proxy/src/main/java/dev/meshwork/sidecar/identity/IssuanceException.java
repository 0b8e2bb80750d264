package dev.meshwork.sidecar.identity;

/**
 * No certificate this time: CA unreachable, call refused, token unreadable, or an answer that did
 * not check out. {@link #retryable()} is false for refusals that retrying cannot fix soon
 * (PERMISSION_DENIED, INVALID_ARGUMENT); the source still retries them, at its slowest pace.
 */
public final class IssuanceException extends RuntimeException {
  private final boolean retryable;

  public IssuanceException(String message, boolean retryable, Throwable cause) {
    super(message, cause);
    this.retryable = retryable;
  }

  public boolean retryable() {
    return retryable;
  }
}
