package dev.meshwork.sidecar.capture;

/** A capture step failed; the message names the command and what iptables said. */
public final class CaptureException extends Exception {
  public CaptureException(String message) {
    super(message);
  }

  public CaptureException(String message, Throwable cause) {
    super(message, cause);
  }
}
