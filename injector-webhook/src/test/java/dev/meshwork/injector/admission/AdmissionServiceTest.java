package dev.meshwork.injector.admission;

import static org.assertj.core.api.Assertions.assertThat;

import dev.meshwork.api.MeshConstants;
import dev.meshwork.injector.template.InjectorConfig;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import java.util.List;
import java.util.Map;
import java.util.stream.StreamSupport;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/** AdmissionReview in, JSON Patch out, applied to the submitted pod with a real JSON Patch. */
class AdmissionServiceTest {
  private static final String IMAGE = "registry.test/meshwork/sidecar-proxy:9.9";
  private final AdmissionService service =
      new AdmissionService(InjectorConfig.defaults().withSidecarImage(IMAGE));

  /** A pod as a ReplicaSet creates it: no initContainers, volumes or annotations at all. */
  static final String BARE_POD =
      """
      {"apiVersion":"v1","kind":"Pod",
       "metadata":{"generateName":"greeter-7d9f-","labels":{"app":"greeter","version":"v1"}},
       "spec":{"serviceAccountName":"greeter",
               "containers":[{"name":"app","image":"greeter:1","ports":[{"containerPort":8080}]}]}}
      """;

  private JsonNode answer(String namespace, String podJson) {
    HttpAnswer answer = service.handle(Reviews.podCreate("uid-1", namespace, podJson));
    assertThat(answer.status()).isEqualTo(200);
    JsonNode response = Reviews.response(answer);
    assertThat(response.path("uid").asString()).isEqualTo("uid-1");
    return response;
  }

  private Pod injected(String namespace, String podJson) {
    JsonNode response = answer(namespace, podJson);
    assertThat(response.path("allowed").asBoolean()).isTrue();
    JsonNode patch = Reviews.patch(response);
    assertThat(patch).as("a JSON Patch").isNotNull();
    return Reviews.pod(Reviews.applyToRaw(patch, podJson));
  }

  private void assertUntouched(String namespace, String podJson) {
    JsonNode response = answer(namespace, podJson);
    assertThat(response.path("allowed").asBoolean()).isTrue();
    assertThat(Reviews.patch(response)).as("no patch").isNull();
  }

  private static Container init(Pod pod, String name) {
    return pod.getSpec().getInitContainers().stream()
        .filter(c -> c.getName().equals(name))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no init container " + name));
  }

  private static Map<String, EnvVar> env(Container c) {
    return c.getEnv().stream().collect(java.util.stream.Collectors.toMap(EnvVar::getName, e -> e));
  }

  @Test
  void podInLabelledNamespaceGetsInitContainerAndNativeSidecar() {
    Pod pod = injected("shop", BARE_POD);

    assertThat(pod.getSpec().getInitContainers())
        .extracting(Container::getName)
        .containsExactly(MeshConstants.INIT_CONTAINER_NAME, MeshConstants.SIDECAR_CONTAINER_NAME);
    // The app is exactly as submitted.
    assertThat(pod.getSpec().getContainers()).hasSize(1);
    assertThat(pod.getSpec().getContainers().getFirst().getName()).isEqualTo("app");
    assertThat(pod.getSpec().getContainers().getFirst().getImage()).isEqualTo("greeter:1");

    Container capture = init(pod, MeshConstants.INIT_CONTAINER_NAME);
    assertThat(capture.getImage()).isEqualTo(IMAGE);
    assertThat(capture.getRestartPolicy()).isNull();
    assertThat(capture.getArgs())
        .containsExactly(
            "capture",
            "--inbound-port=15006",
            "--outbound-port=15001",
            "--proxy-uid=1337",
            "--exclude-inbound-ports=15000,15020,15021");
    assertThat(capture.getSecurityContext().getRunAsUser()).isZero();
    assertThat(capture.getSecurityContext().getCapabilities().getAdd())
        .containsExactlyInAnyOrder("NET_ADMIN", "NET_RAW");
    assertThat(capture.getSecurityContext().getPrivileged()).isFalse();

    Container proxy = init(pod, MeshConstants.SIDECAR_CONTAINER_NAME);
    assertThat(proxy.getImage()).isEqualTo(IMAGE);
    assertThat(proxy.getRestartPolicy()).as("native sidecar").isEqualTo("Always");
    assertThat(proxy.getSecurityContext().getRunAsUser()).isEqualTo(MeshConstants.SIDECAR_UID);
    assertThat(proxy.getSecurityContext().getRunAsNonRoot()).isTrue();
    assertThat(proxy.getStartupProbe().getHttpGet().getPath()).isEqualTo("/ready");
    assertThat(proxy.getStartupProbe().getHttpGet().getPort().getIntVal()).isEqualTo(15020);
    assertThat(proxy.getReadinessProbe().getHttpGet().getPath()).isEqualTo("/ready");
    assertThat(proxy.getReadinessProbe().getHttpGet().getPort().getIntVal()).isEqualTo(15020);

    Map<String, EnvVar> env = env(proxy);
    assertThat(env.get("POD_NAME").getValueFrom().getFieldRef().getFieldPath())
        .isEqualTo("metadata.name");
    assertThat(env.get("POD_NAMESPACE").getValueFrom().getFieldRef().getFieldPath())
        .isEqualTo("metadata.namespace");
    assertThat(env.get("SERVICE_ACCOUNT").getValueFrom().getFieldRef().getFieldPath())
        .isEqualTo("spec.serviceAccountName");
    assertThat(env.get("POD_IP").getValueFrom().getFieldRef().getFieldPath())
        .isEqualTo("status.podIP");
    assertThat(env.get("INSTANCE_LABELS").getValue())
        .isEqualTo("{\"app\":\"greeter\",\"version\":\"v1\"}");
    assertThat(env.get("POD_LABELS").getValue()).isEqualTo("app=greeter,version=v1");
    assertThat(env.get("WORKLOAD").getValue()).isEqualTo("greeter");
    assertThat(proxy.getArgs())
        .containsExactly(
            "run",
            "--xds=meshwork-control-plane.meshwork-system.svc:15012",
            "--xds-ca=" + MeshConstants.TRUST_BUNDLE_PATH,
            "--ca=meshwork-control-plane.meshwork-system.svc:15012",
            "--ca-roots=" + MeshConstants.TRUST_BUNDLE_PATH,
            "--ca-token=" + MeshConstants.CA_TOKEN_PATH,
            "--trust-domain=cluster.local");
    assertThat(env.get("CONTROL_PLANE_ADDRESS").getValue())
        .isEqualTo("meshwork-control-plane.meshwork-system.svc:15012");
    assertThat(env.get("CA_TOKEN_PATH").getValue()).isEqualTo(MeshConstants.CA_TOKEN_PATH);

    // The projected token: right audience, and the file lands exactly at CA_TOKEN_PATH.
    Volume token =
        pod.getSpec().getVolumes().stream()
            .filter(v -> v.getName().equals("meshwork-token"))
            .findFirst()
            .orElseThrow();
    var projection = token.getProjected().getSources().getFirst().getServiceAccountToken();
    assertThat(projection.getAudience()).isEqualTo(MeshConstants.CA_TOKEN_AUDIENCE);
    VolumeMount mount =
        proxy.getVolumeMounts().stream()
            .filter(m -> m.getName().equals("meshwork-token"))
            .findFirst()
            .orElseThrow();
    assertThat(mount.getMountPath() + "/" + projection.getPath())
        .isEqualTo(MeshConstants.CA_TOKEN_PATH);
    assertThat(mount.getReadOnly()).isTrue();

    // The trust bundle ConfigMap's key lands exactly at TRUST_BUNDLE_PATH.
    Volume trust =
        pod.getSpec().getVolumes().stream()
            .filter(v -> v.getName().equals("meshwork-trust"))
            .findFirst()
            .orElseThrow();
    assertThat(trust.getConfigMap().getName()).isEqualTo(MeshConstants.TRUST_BUNDLE_CONFIG_MAP);
    assertThat(trust.getConfigMap().getItems().getFirst().getKey())
        .isEqualTo(MeshConstants.TRUST_BUNDLE_KEY);
    VolumeMount trustMount =
        proxy.getVolumeMounts().stream()
            .filter(m -> m.getName().equals("meshwork-trust"))
            .findFirst()
            .orElseThrow();
    assertThat(
            trustMount.getMountPath() + "/" + trust.getConfigMap().getItems().getFirst().getPath())
        .isEqualTo(MeshConstants.TRUST_BUNDLE_PATH);

    assertThat(proxy.getResources().getRequests().get("cpu").toString()).isEqualTo("100m");
    assertThat(proxy.getResources().getRequests().get("memory").toString()).isEqualTo("128Mi");
    assertThat(proxy.getResources().getLimits().get("memory").toString()).isEqualTo("512Mi");

    assertThat(pod.getMetadata().getAnnotations())
        .containsEntry(MeshConstants.INJECTED_ANNOTATION, "true")
        .containsEntry("prometheus.io/scrape", "true")
        .containsEntry("prometheus.io/port", "15020")
        .containsEntry("prometheus.io/path", "/metrics");
  }

  @Test
  void patchOnlyAddsAndNeverTouchesAppContainers() {
    JsonNode patch = Reviews.patch(answer("shop", BARE_POD));
    List<JsonNode> ops = StreamSupport.stream(patch.spliterator(), false).toList();
    assertThat(ops).extracting(op -> op.path("op").asString()).containsOnly("add");
    assertThat(ops)
        .extracting(op -> op.path("path").asString())
        .noneMatch(p -> p.startsWith("/spec/containers"));
  }

  @Test
  void existingInitContainersVolumesAndAnnotationsAreKept() {
    String podJson =
        """
        {"apiVersion":"v1","kind":"Pod",
         "metadata":{"name":"worker","annotations":{"team":"payments","prometheus.io/scrape":"false"}},
         "spec":{"initContainers":[{"name":"migrate","image":"migrate:1"}],
                 "containers":[{"name":"app","image":"worker:1"}],
                 "volumes":[{"name":"data","emptyDir":{}}]}}
        """;
    Pod pod = injected("shop", podJson);
    // The mesh starts first, so the app's own init containers already run inside it.
    assertThat(pod.getSpec().getInitContainers())
        .extracting(Container::getName)
        .containsExactly("meshwork-init", "meshwork-proxy", "migrate");
    assertThat(pod.getSpec().getVolumes())
        .extracting(Volume::getName)
        .containsExactly("data", "meshwork-token", "meshwork-trust");
    assertThat(pod.getMetadata().getAnnotations())
        .containsEntry("team", "payments")
        // The user's own choice stands.
        .containsEntry("prometheus.io/scrape", "false")
        .containsEntry("prometheus.io/port", "15020")
        .containsEntry(MeshConstants.INJECTED_ANNOTATION, "true");
  }

  @Test
  void fieldsUnknownToTheModelSurviveThePatch() {
    String podJson =
        """
        {"apiVersion":"v1","kind":"Pod","metadata":{"name":"future"},
         "spec":{"containers":[{"name":"app","image":"a:1"}],"someFutureField":{"x":1}}}
        """;
    JsonNode patch = Reviews.patch(answer("shop", podJson));
    JsonNode result = Reviews.applyToRaw(patch, podJson);
    assertThat(result.path("spec").path("someFutureField").path("x").asInt()).isEqualTo(1);
  }

  @Test
  void podAnnotatedFalseIsLeftAlone() {
    assertUntouched(
        "shop",
        """
        {"apiVersion":"v1","kind":"Pod",
         "metadata":{"name":"legacy","annotations":{"meshwork.dev/inject":"false"}},
         "spec":{"containers":[{"name":"app","image":"a:1"}]}}
        """);
  }

  @Test
  void podLabelledFalseIsLeftAlone() {
    assertUntouched(
        "shop",
        """
        {"apiVersion":"v1","kind":"Pod",
         "metadata":{"name":"legacy","labels":{"meshwork.dev/inject":"false"}},
         "spec":{"containers":[{"name":"app","image":"a:1"}]}}
        """);
  }

  @Test
  void podOptedInWithTrueIsInjected() {
    Pod pod =
        injected(
            "default",
            """
            {"apiVersion":"v1","kind":"Pod",
             "metadata":{"name":"one","labels":{"meshwork.dev/inject":"true"},
                         "annotations":{"meshwork.dev/inject":"true"}},
             "spec":{"containers":[{"name":"app","image":"a:1"}]}}
            """);
    assertThat(pod.getSpec().getInitContainers())
        .extracting(Container::getName)
        .contains("meshwork-proxy");
  }

  @Test
  void secondPassOverAnInjectedPodChangesNothing() {
    JsonNode patch = Reviews.patch(answer("shop", BARE_POD));
    // Reinvocation (reinvocationPolicy: IfNeeded) sends the already injected pod again.
    String injectedJson = Reviews.JSON.writeValueAsString(Reviews.applyToRaw(patch, BARE_POD));
    assertUntouched("shop", injectedJson);
  }

  @Test
  void podThatAlreadyHasTheSidecarContainerIsLeftAlone() {
    assertUntouched(
        "shop",
        """
        {"apiVersion":"v1","kind":"Pod","metadata":{"name":"manual"},
         "spec":{"containers":[{"name":"app","image":"a:1"},
                               {"name":"meshwork-proxy","image":"custom:1"}]}}
        """);
  }

  @Test
  void hostNetworkPodIsSkipped() {
    assertUntouched(
        "shop",
        """
        {"apiVersion":"v1","kind":"Pod","metadata":{"name":"agent"},
         "spec":{"hostNetwork":true,"containers":[{"name":"app","image":"a:1"}]}}
        """);
  }

  @Test
  void meshOwnPodsAreSkipped() {
    assertUntouched(
        MeshConstants.SYSTEM_NAMESPACE,
        """
        {"apiVersion":"v1","kind":"Pod","metadata":{"name":"anything"},
         "spec":{"containers":[{"name":"app","image":"a:1"}]}}
        """);
    assertUntouched(
        "shop",
        """
        {"apiVersion":"v1","kind":"Pod",
         "metadata":{"name":"cp","labels":{"app":"meshwork-control-plane"}},
         "spec":{"containers":[{"name":"app","image":"a:1"}]}}
        """);
  }

  @Test
  void annotationsOverrideResourcesAndCaptureExclusions() {
    Pod pod =
        injected(
            "shop",
            """
            {"apiVersion":"v1","kind":"Pod",
             "metadata":{"name":"tuned","annotations":{
                "meshwork.dev/proxy-cpu":"250m","meshwork.dev/proxy-memory":"300Mi",
                "meshwork.dev/proxy-cpu-limit":"1500m","meshwork.dev/proxy-memory-limit":"1Gi",
                "meshwork.dev/exclude-outbound-ports":"5432, 6379",
                "meshwork.dev/exclude-inbound-ports":"9000",
                "meshwork.dev/exclude-outbound-cidrs":"169.254.169.254/32,10.96.0.0/12"}},
             "spec":{"containers":[{"name":"app","image":"a:1"}]}}
            """);
    Container proxy = init(pod, "meshwork-proxy");
    assertThat(proxy.getResources().getRequests().get("cpu").toString()).isEqualTo("250m");
    assertThat(proxy.getResources().getRequests().get("memory").toString()).isEqualTo("300Mi");
    assertThat(proxy.getResources().getLimits().get("cpu").toString()).isEqualTo("1500m");
    assertThat(proxy.getResources().getLimits().get("memory").toString()).isEqualTo("1Gi");
    assertThat(init(pod, "meshwork-init").getArgs())
        .contains(
            "--exclude-inbound-ports=9000,15000,15020,15021",
            "--exclude-outbound-ports=5432,6379",
            "--exclude-outbound-cidrs=169.254.169.254/32,10.96.0.0/12");
  }

  @Test
  void invalidAnnotationIsDeniedWithAMessageNamingIt() {
    JsonNode response =
        answer(
            "shop",
            """
            {"apiVersion":"v1","kind":"Pod",
             "metadata":{"name":"typo","annotations":{"meshwork.dev/proxy-memory":"lots"}},
             "spec":{"containers":[{"name":"app","image":"a:1"}]}}
            """);
    assertThat(response.path("allowed").asBoolean()).isFalse();
    assertThat(response.path("status").path("code").asInt()).isEqualTo(400);
    assertThat(response.path("status").path("message").asString())
        .contains("meshwork.dev/proxy-memory")
        .contains("lots");
    assertThat(response.has("patch")).isFalse();
  }

  @Test
  void nonPodObjectIsAllowedUnchangedWithAWarning() {
    var tree =
        Reviews.podCreateTree(
            "uid-1",
            "shop",
            """
            {"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d"},"spec":{}}
            """);
    var req = (tools.jackson.databind.node.ObjectNode) tree.path("request");
    req.putObject("kind").put("group", "apps").put("version", "v1").put("kind", "Deployment");
    HttpAnswer answer = service.handle(Reviews.JSON.writeValueAsBytes(tree));
    JsonNode response = Reviews.response(answer);
    assertThat(response.path("allowed").asBoolean()).isTrue();
    assertThat(response.has("patch")).isFalse();
    assertThat(response.path("warnings").get(0).asString())
        .contains("Pods only")
        .contains("Deployment");
  }
}
