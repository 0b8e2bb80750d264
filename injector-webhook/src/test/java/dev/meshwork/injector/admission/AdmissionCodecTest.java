package dev.meshwork.injector.admission;

import static org.assertj.core.api.Assertions.assertThat;

import dev.meshwork.injector.template.InjectorConfig;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/** Bad input: every body gets an answer a user can act on, never a stack trace. */
class AdmissionCodecTest {
  private final AdmissionService service = new AdmissionService(InjectorConfig.defaults());

  private HttpAnswer handle(String body) {
    return service.handle(body.getBytes(StandardCharsets.UTF_8));
  }

  private static JsonNode status400(HttpAnswer a) {
    assertThat(a.status()).isEqualTo(400);
    JsonNode status = Reviews.JSON.readTree(a.body());
    assertThat(status.path("kind").asString()).isEqualTo("Status");
    assertThat(status.path("code").asInt()).isEqualTo(400);
    return status;
  }

  private static JsonNode deniedReview(HttpAnswer a, String uid) {
    assertThat(a.status()).isEqualTo(200);
    JsonNode response = Reviews.response(a);
    assertThat(response.path("uid").asString()).isEqualTo(uid);
    assertThat(response.path("allowed").asBoolean()).isFalse();
    return response;
  }

  @Test
  void emptyBody() {
    assertThat(status400(handle("")).path("message").asString()).contains("empty request body");
  }

  @Test
  void notAnObject() {
    assertThat(status400(handle("[1,2]")).path("message").asString()).contains("not a JSON object");
  }

  @Test
  void malformedJson() {
    assertThat(status400(handle("{\"apiVersion\": ,}")).path("message").asString())
        .startsWith("malformed AdmissionReview JSON");
  }

  @Test
  void truncatedBeforeTheUidIs400() {
    assertThat(
            status400(handle("{\"apiVersion\":\"admission.k8s.io/v1\",\"req"))
                .path("message")
                .asString())
        .contains("malformed");
  }

  @Test
  void truncatedAfterTheUidIsAnsweredInAReview() {
    String body =
        "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\","
            + "\"request\":{\"kind\":{\"kind\":\"Pod\"},\"uid\":\"abc-123\",\"object\":{\"spec\":{";
    JsonNode response = deniedReview(handle(body), "abc-123");
    assertThat(response.path("status").path("message").asString()).contains("malformed");
  }

  @Test
  void uidOfANestedObjectIsNotMistakenForTheRequestUid() {
    String body =
        "{\"apiVersion\":\"admission.k8s.io/v1\",\"request\":{\"object\":{\"metadata\":{\"uid\":\"x\"}";
    status400(handle(body));
  }

  @Test
  void unknownApiVersionNamesTheVersionWeSpeak() {
    String body =
        """
        {"apiVersion":"admission.k8s.io/v1beta1","kind":"AdmissionReview","request":{"uid":"old-1"}}
        """;
    JsonNode response = deniedReview(handle(body), "old-1");
    assertThat(response.path("status").path("message").asString())
        .contains("admission.k8s.io/v1beta1")
        .contains("admissionReviewVersions: [v1]");
  }

  @Test
  void missingUid() {
    assertThat(
            status400(
                    handle(
                        """
                        {"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{}}
                        """))
                .path("message")
                .asString())
        .contains("no uid");
  }

  @Test
  void missingRequest() {
    assertThat(
            status400(
                    handle("{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\"}"))
                .path("message")
                .asString())
        .contains("no request");
  }

  @Test
  void podCreateWithoutObjectIsDenied() {
    var tree = Reviews.podCreateTree("u-9", "shop", "{}");
    ((tools.jackson.databind.node.ObjectNode) tree.path("request")).remove("object");
    JsonNode response = deniedReview(service.handle(Reviews.JSON.writeValueAsBytes(tree)), "u-9");
    assertThat(response.path("status").path("message").asString()).contains("no request.object");
  }

  @Test
  void objectThatIsNotAPodShapeIsDenied() {
    JsonNode response =
        deniedReview(
            service.handle(
                Reviews.podCreate(
                    "u-8",
                    "shop",
                    "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"spec\":{\"containers\":\"nope\"}}")),
            "u-8");
    assertThat(response.path("status").path("message").asString()).contains("not a valid v1 Pod");
    assertThat(Reviews.JSON.writeValueAsString(response)).doesNotContain("\tat ");
  }

  @Test
  void updateIsAllowedWithoutPatch() {
    var tree = Reviews.podCreateTree("u-7", "shop", AdmissionServiceTest.BARE_POD);
    ((tools.jackson.databind.node.ObjectNode) tree.path("request")).put("operation", "UPDATE");
    JsonNode response = Reviews.response(service.handle(Reviews.JSON.writeValueAsBytes(tree)));
    assertThat(response.path("allowed").asBoolean()).isTrue();
    assertThat(response.has("patch")).isFalse();
  }
}
