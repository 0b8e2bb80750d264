package dev.meshwork.ca.store;

/** Stored or operator-supplied CA material that is missing, unreadable or inconsistent. */
public final class CaMaterialException extends IllegalStateException {
  public CaMaterialException(String message) {
    super(message);
  }

  public CaMaterialException(String message, Throwable cause) {
    super(message, cause);
  }
}
