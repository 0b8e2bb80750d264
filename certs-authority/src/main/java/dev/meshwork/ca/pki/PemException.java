package dev.meshwork.ca.pki;

/** PEM text that is empty, malformed, or holds another kind of object than the one expected. */
public final class PemException extends IllegalArgumentException {
  public PemException(String message) {
    super(message);
  }

  public PemException(String message, Throwable cause) {
    super(message, cause);
  }
}
