package dev.meshwork.injector.admission;

import io.fabric8.kubernetes.api.model.Status;
import io.fabric8.kubernetes.api.model.StatusBuilder;
import io.fabric8.kubernetes.api.model.admission.v1.AdmissionRequest;
import io.fabric8.kubernetes.api.model.admission.v1.AdmissionResponse;
import io.fabric8.kubernetes.api.model.admission.v1.AdmissionReview;
import io.fabric8.kubernetes.api.model.admission.v1.AdmissionReviewBuilder;
import java.util.ArrayDeque;
import java.util.Deque;
import tools.jackson.core.JacksonException;
import tools.jackson.core.JsonParser;
import tools.jackson.core.JsonToken;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * Reads and writes AdmissionReview v1 JSON with the fabric8 model. Thread-safe (the mapper is
 * immutable once built).
 */
public final class AdmissionCodec {
  public static final String API_VERSION = "admission.k8s.io/v1";
  public static final String KIND = "AdmissionReview";

  private final JsonMapper mapper;

  public AdmissionCodec() {
    this(JsonMapper.builder().build());
  }

  public AdmissionCodec(JsonMapper mapper) {
    this.mapper = mapper;
  }

  public JsonMapper mapper() {
    return mapper;
  }

  /**
   * Decodes a request body.
   *
   * @throws BadAdmissionReviewException with a message fit for the caller, and the uid when it
   *     could be read
   */
  public DecodedReview decode(byte[] body) throws BadAdmissionReviewException {
    if (body == null || body.length == 0) {
      throw new BadAdmissionReviewException(
          "empty request body: expected an AdmissionReview", null);
    }
    JsonNode root;
    try {
      root = mapper.readTree(body);
    } catch (JacksonException e) {
      throw new BadAdmissionReviewException(
          "malformed AdmissionReview JSON: " + firstLine(e.getOriginalMessage()), sniffUid(body));
    }
    if (root == null || !root.isObject()) {
      throw new BadAdmissionReviewException("request body is not a JSON object", null);
    }
    String uid = text(root.path("request").path("uid"));
    String apiVersion = text(root.path("apiVersion"));
    String kind = text(root.path("kind"));
    if (!API_VERSION.equals(apiVersion) || !KIND.equals(kind)) {
      throw new BadAdmissionReviewException(
          "unsupported object "
              + (apiVersion == null ? "(no apiVersion)" : apiVersion)
              + " "
              + (kind == null ? "(no kind)" : kind)
              + ": this webhook speaks "
              + API_VERSION
              + " "
              + KIND
              + " only (admissionReviewVersions: [v1])",
          uid);
    }
    if (!root.path("request").isObject()) {
      throw new BadAdmissionReviewException("AdmissionReview has no request", null);
    }
    if (uid == null || uid.isBlank()) {
      throw new BadAdmissionReviewException("AdmissionReview request has no uid", null);
    }
    // The object is decoded by the injector as a Pod, where a bad one gets its own message; the
    // typed request is read without it (and without oldObject, which we never use).
    ObjectNode requestNode = ((ObjectNode) root.path("request")).deepCopy();
    JsonNode object = requestNode.remove("object");
    requestNode.remove("oldObject");
    AdmissionRequest request;
    try {
      request = mapper.treeToValue(requestNode, AdmissionRequest.class);
    } catch (JacksonException e) {
      throw new BadAdmissionReviewException(
          "AdmissionReview request does not match admission.k8s.io/v1: "
              + firstLine(e.getOriginalMessage()),
          uid);
    }
    return new DecodedReview(uid, request, object == null || object.isNull() ? null : object);
  }

  /** An AdmissionReview v1 wrapping {@code response}, as JSON bytes. */
  public byte[] encode(AdmissionResponse response) {
    AdmissionReview review =
        new AdmissionReviewBuilder()
            .withApiVersion(API_VERSION)
            .withKind(KIND)
            .withResponse(response)
            .build();
    return mapper.writeValueAsBytes(review);
  }

  /** A Kubernetes {@code Status} failure, the body of an HTTP error with no uid to answer. */
  public byte[] encodeFailure(int code, String reason, String message) {
    Status status =
        new StatusBuilder()
            .withApiVersion("v1")
            .withKind("Status")
            .withStatus("Failure")
            .withCode(code)
            .withReason(reason)
            .withMessage(message)
            .build();
    return mapper.writeValueAsBytes(status);
  }

  /**
   * Reads {@code request.uid} from a body that does not parse as a whole (e.g. truncated), token by
   * token until the parser fails. Returns null when the uid does not come before the damage.
   */
  String sniffUid(byte[] body) {
    Deque<String> path = new ArrayDeque<>();
    String field = null;
    try (JsonParser p = mapper.createParser(body)) {
      JsonToken t;
      while ((t = p.nextToken()) != null) {
        switch (t) {
          case PROPERTY_NAME -> field = p.getString();
          case START_OBJECT, START_ARRAY -> {
            path.push(field == null ? "" : field);
            field = null;
          }
          case END_OBJECT, END_ARRAY -> {
            path.pop();
            field = null;
          }
          case VALUE_STRING -> {
            if ("uid".equals(field) && path.size() == 2 && "request".equals(path.peek())) {
              return p.getString();
            }
            field = null;
          }
          default -> field = null;
        }
      }
    } catch (JacksonException | java.util.NoSuchElementException e) {
      return null;
    }
    return null;
  }

  private static String text(JsonNode n) {
    return n != null && n.isString() ? n.asString() : null;
  }

  private static String firstLine(String s) {
    if (s == null) {
      return "unreadable";
    }
    int nl = s.indexOf('\n');
    return nl < 0 ? s : s.substring(0, nl);
  }
}
