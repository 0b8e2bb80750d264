package dev.meshwork.injector.server;

/** The webhook cannot build its TLS context (unreadable or mismatched certificate and key). */
public final class TlsConfigException extends RuntimeException {
  public TlsConfigException(String message, Throwable cause) {
    super(message, cause);
  }
}
