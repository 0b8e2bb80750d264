package dev.meshwork.ca.store;

/** The CA's store cannot be read or written; the message names the store and the operation. */
public final class CaStoreException extends RuntimeException {
  public CaStoreException(String message, Throwable cause) {
    super(message, cause);
  }

  public CaStoreException(String message) {
    super(message);
  }
}
