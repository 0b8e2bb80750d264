package dev.meshwork.ca.auth;

/** A token that proves no identity; the message says why, never the token itself. */
public final class AuthenticationException extends RuntimeException {
  public AuthenticationException(String message) {
    super(message);
  }
}
