package dev.meshwork.injector.admission;

import io.fabric8.kubernetes.api.model.admission.v1.AdmissionRequest;
import java.util.Objects;
import tools.jackson.databind.JsonNode;

/**
 * An AdmissionReview v1 request that passed protocol checks.
 *
 * @param uid the request uid, echoed in the response
 * @param request the typed request (kind, namespace, operation, ...)
 * @param object the raw {@code request.object}, or null when absent (e.g. DELETE)
 */
public record DecodedReview(String uid, AdmissionRequest request, JsonNode object) {
  public DecodedReview {
    Objects.requireNonNull(uid, "uid");
    Objects.requireNonNull(request, "request");
  }
}
