package dev.meshwork.injector.admission;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.zjsonpatch.JsonPatch;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/** Builds AdmissionReview requests the way the API server sends them, and reads the answers. */
final class Reviews {
  static final JsonMapper JSON = JsonMapper.builder().build();

  private Reviews() {}

  /** An AdmissionReview v1 for Pod CREATE of {@code podJson} in {@code namespace}. */
  static byte[] podCreate(String uid, String namespace, String podJson) {
    return JSON.writeValueAsBytes(podCreateTree(uid, namespace, podJson));
  }

  static ObjectNode podCreateTree(String uid, String namespace, String podJson) {
    ObjectNode root = JSON.createObjectNode();
    root.put("apiVersion", "admission.k8s.io/v1");
    root.put("kind", "AdmissionReview");
    ObjectNode req = root.putObject("request");
    req.put("uid", uid);
    req.putObject("kind").put("group", "").put("version", "v1").put("kind", "Pod");
    req.putObject("resource").put("group", "").put("version", "v1").put("resource", "pods");
    req.putObject("requestKind").put("group", "").put("version", "v1").put("kind", "Pod");
    req.putObject("requestResource").put("group", "").put("version", "v1").put("resource", "pods");
    req.put("namespace", namespace);
    req.put("operation", "CREATE");
    req.putObject("userInfo").put("username", "system:serviceaccount:kube-system:replicaset");
    req.set("object", JSON.readTree(podJson));
    req.set("oldObject", null);
    req.put("dryRun", false);
    req.putObject("options").put("apiVersion", "meta.k8s.io/v1").put("kind", "CreateOptions");
    return root;
  }

  /** The response object of an AdmissionReview answer. */
  static JsonNode response(HttpAnswer answer) {
    JsonNode root = JSON.readTree(answer.body());
    if (!"admission.k8s.io/v1".equals(root.path("apiVersion").asString())
        || !"AdmissionReview".equals(root.path("kind").asString())) {
      throw new AssertionError("not an AdmissionReview v1: " + answer.bodyText());
    }
    return root.path("response");
  }

  /** The decoded JSON Patch of a response, or null when it has none. */
  static JsonNode patch(JsonNode response) {
    if (!response.hasNonNull("patch")) {
      return null;
    }
    if (!"JSONPatch".equals(response.path("patchType").asString())) {
      throw new AssertionError("patchType is " + response.path("patchType"));
    }
    byte[] raw = Base64.getDecoder().decode(response.path("patch").asString());
    return JSON.readTree(new String(raw, StandardCharsets.UTF_8));
  }

  /** Applies the patch to the pod JSON exactly as submitted, the way the API server does. */
  static JsonNode applyToRaw(JsonNode patch, String podJson) {
    return JsonPatch.apply(patch, JSON.readTree(podJson));
  }

  static Pod pod(JsonNode podTree) {
    return JSON.treeToValue(podTree, Pod.class);
  }
}
