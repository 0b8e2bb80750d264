package dev.meshwork.injector.admission;

import dev.meshwork.injector.patch.PodConflictException;
import dev.meshwork.injector.patch.PodMutator;
import dev.meshwork.injector.patch.PodPatch;
import dev.meshwork.injector.template.InjectorConfig;
import dev.meshwork.injector.template.InvalidAnnotationException;
import dev.meshwork.injector.template.PodOverrides;
import dev.meshwork.injector.template.SidecarTemplate;
import io.fabric8.kubernetes.api.model.GroupVersionKind;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.StatusBuilder;
import io.fabric8.kubernetes.api.model.admission.v1.AdmissionRequest;
import io.fabric8.kubernetes.api.model.admission.v1.AdmissionResponse;
import io.fabric8.kubernetes.api.model.admission.v1.AdmissionResponseBuilder;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Map;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;

/**
 * Answers one decoded admission request: a JSON Patch for a pod that joins the mesh, {@code
 * allowed} without a patch for everything the injector leaves alone, and a denial with a clear
 * message only when the pod asks for something the injector cannot do (a bad annotation, a name
 * clash). Thread-safe: no mutable state.
 */
public final class SidecarInjector {
  private static final Logger log = LoggerFactory.getLogger(SidecarInjector.class);

  /** Audit annotation key; the API server prefixes it with the webhook's name. */
  public static final String AUDIT_KEY = "injection";

  private final InjectorConfig config;
  private final PodMutator mutator;
  private final JsonMapper mapper;

  public SidecarInjector(InjectorConfig config, JsonMapper mapper) {
    this.config = Objects.requireNonNull(config, "config");
    this.mutator = new PodMutator(new SidecarTemplate(config));
    this.mapper = Objects.requireNonNull(mapper, "mapper");
  }

  public AdmissionResponse review(DecodedReview review) {
    AdmissionRequest request = review.request();
    String uid = review.uid();
    GroupVersionKind kind = request.getKind();
    if (kind == null
        || !"".equals(Objects.requireNonNullElse(kind.getGroup(), ""))
        || !"v1".equals(kind.getVersion())
        || !"Pod".equals(kind.getKind())
        || (request.getSubResource() != null && !request.getSubResource().isEmpty())) {
      String what =
          kind == null
              ? "an object without kind"
              : kind.getGroup() + "/" + kind.getVersion() + " " + kind.getKind();
      String msg = "meshwork injector mutates core/v1 Pods only; left " + what + " unchanged";
      log.warn("admission uid={} skipped: {}", uid, msg);
      return allowed(uid, "skipped: not a Pod", msg);
    }
    if (!"CREATE".equals(request.getOperation())) {
      return allowed(uid, "skipped: operation " + request.getOperation(), null);
    }
    if (review.object() == null || !review.object().isObject()) {
      return denied(uid, 400, "AdmissionReview for Pod CREATE has no request.object");
    }
    Pod pod;
    try {
      pod = mapper.treeToValue(review.object(), Pod.class);
    } catch (JacksonException e) {
      return denied(uid, 400, "request.object is not a valid v1 Pod: " + e.getOriginalMessage());
    }
    if (pod.getMetadata() == null || pod.getSpec() == null) {
      return denied(uid, 400, "request.object is a Pod without metadata or spec");
    }
    String namespace =
        request.getNamespace() != null ? request.getNamespace() : pod.getMetadata().getNamespace();
    String name = podName(pod, request);

    Decision decision = InjectionPolicy.decide(namespace, pod);
    if (!decision.inject()) {
      log.info(
          "admission uid={} namespace={} pod={} injected=false reason=\"{}\"",
          uid,
          namespace,
          name,
          decision.reason());
      return allowed(uid, "skipped: " + decision.reason(), null);
    }
    Map<String, String> annotations =
        pod.getMetadata().getAnnotations() == null ? Map.of() : pod.getMetadata().getAnnotations();
    try {
      PodOverrides overrides = PodOverrides.parse(annotations, config.proxyResources());
      Pod injected = mutator.inject(pod, overrides);
      JsonNode before = mapper.valueToTree(pod);
      JsonNode after = mapper.valueToTree(injected);
      ArrayNode patch = PodPatch.diff(before, after);
      log.info(
          "admission uid={} namespace={} pod={} injected=true ops={}",
          uid,
          namespace,
          name,
          patch.size());
      return new AdmissionResponseBuilder()
          .withUid(uid)
          .withAllowed(true)
          .withPatchType("JSONPatch")
          .withPatch(
              Base64.getEncoder()
                  .encodeToString(
                      mapper.writeValueAsString(patch).getBytes(StandardCharsets.UTF_8)))
          .withAuditAnnotations(Map.of(AUDIT_KEY, "injected"))
          .build();
    } catch (InvalidAnnotationException | PodConflictException e) {
      log.warn(
          "admission uid={} namespace={} pod={} denied reason=\"{}\"",
          uid,
          namespace,
          name,
          e.getMessage());
      return denied(uid, 400, "meshwork sidecar injection: " + e.getMessage());
    }
  }

  private static String podName(Pod pod, AdmissionRequest request) {
    if (pod.getMetadata().getName() != null && !pod.getMetadata().getName().isEmpty()) {
      return pod.getMetadata().getName();
    }
    if (request.getName() != null && !request.getName().isEmpty()) {
      return request.getName();
    }
    String generate = pod.getMetadata().getGenerateName();
    return generate == null ? "(unnamed)" : generate + "*";
  }

  static AdmissionResponse allowed(String uid, String audit, String warning) {
    AdmissionResponseBuilder b =
        new AdmissionResponseBuilder()
            .withUid(uid)
            .withAllowed(true)
            .withAuditAnnotations(Map.of(AUDIT_KEY, audit));
    if (warning != null) {
      b.withWarnings(warning).withStatus(new StatusBuilder().withMessage(warning).build());
    }
    return b.build();
  }

  static AdmissionResponse denied(String uid, int code, String message) {
    return new AdmissionResponseBuilder()
        .withUid(uid)
        .withAllowed(false)
        .withStatus(
            new StatusBuilder()
                .withStatus("Failure")
                .withCode(code)
                .withReason(code == 400 ? "BadRequest" : "InternalError")
                .withMessage(message)
                .build())
        .build();
  }
}
