package dev.meshwork.ca.auth;

/** The identity could not be checked (the API server is unreachable); the caller may retry. */
public final class VerifierUnavailableException extends RuntimeException {
  public VerifierUnavailableException(String message, Throwable cause) {
    super(message, cause);
  }
}
