package dev.meshwork.ca.pki;

/** A CSR the CA will not consider: unparsable, badly signed, wrong key type, or wrong SANs. */
public final class MalformedCsrException extends IllegalArgumentException {
  public MalformedCsrException(String message) {
    super(message);
  }

  public MalformedCsrException(String message, Throwable cause) {
    super(message, cause);
  }
}
