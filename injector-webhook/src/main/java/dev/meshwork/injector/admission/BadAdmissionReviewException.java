package dev.meshwork.injector.admission;

import java.util.Optional;

/**
 * The request body is not an AdmissionReview v1 this webhook can answer. Carries the request's uid
 * when it could be read, so the answer can still be an AdmissionReview.
 */
public final class BadAdmissionReviewException extends Exception {
  private final String uid;

  public BadAdmissionReviewException(String message, String uid) {
    super(message);
    this.uid = uid == null || uid.isBlank() ? null : uid;
  }

  /** The request uid, if the body got far enough to name it. */
  public Optional<String> uid() {
    return Optional.ofNullable(uid);
  }
}
