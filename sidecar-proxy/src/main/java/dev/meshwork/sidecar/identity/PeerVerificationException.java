package dev.meshwork.sidecar.identity;

import java.security.cert.CertificateException;

/** A peer certificate chain that does not prove an acceptable SPIFFE identity; says why. */
public final class PeerVerificationException extends CertificateException {
  public PeerVerificationException(String message) {
    super(message);
  }

  public PeerVerificationException(String message, Throwable cause) {
    super(message, cause);
  }
}
