package dev.meshwork.injector.admission;

import java.nio.charset.StandardCharsets;

/**
 * What to send back over HTTP: a status code and a JSON body.
 *
 * @param status HTTP status (200 for every AdmissionReview answer, allowed or not)
 * @param body JSON bytes
 */
public record HttpAnswer(int status, byte[] body) {
  public String bodyText() {
    return new String(body, StandardCharsets.UTF_8);
  }
}
