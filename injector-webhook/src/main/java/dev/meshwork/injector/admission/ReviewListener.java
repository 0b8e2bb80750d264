package dev.meshwork.injector.admission;

import io.fabric8.kubernetes.api.model.admission.v1.AdmissionRequest;
import io.fabric8.kubernetes.api.model.admission.v1.AdmissionResponse;

/**
 * Told about every AdmissionReview the webhook answered (metrics, audit, tests). Called on a worker
 * thread, many at once: implementations must be thread-safe and quick. An exception thrown here is
 * logged and never changes the answer.
 */
@FunctionalInterface
public interface ReviewListener {

  /** Does nothing. */
  ReviewListener NOOP = (request, response) -> {};

  /**
   * @param request the decoded request (namespace, name, kind, operation, uid)
   * @param response what was sent back (allowed, patch, status)
   */
  void reviewed(AdmissionRequest request, AdmissionResponse response);

  /**
   * As {@link #reviewed(AdmissionRequest, AdmissionResponse)}, with how long answering took
   * (decode, inject, encode): the webhook latency metric needs it.
   */
  default void reviewed(
      AdmissionRequest request, AdmissionResponse response, java.time.Duration took) {
    reviewed(request, response);
  }
}
