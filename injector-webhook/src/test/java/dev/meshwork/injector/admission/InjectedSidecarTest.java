package dev.meshwork.injector.admission;

import static org.assertj.core.api.Assertions.assertThat;

import dev.meshwork.api.MeshConstants;
import dev.meshwork.injector.template.InjectorConfig;
import dev.meshwork.injector.template.SidecarTemplate;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/**
 * What the sidecar gets, read from the pod the JSON Patch produces: the trust bundle and token for
 * the CA, the CA flags, the startup probe, scrape annotations, and the per-pod overrides of
 * resources, JVM flags and access logging.
 */
class InjectedSidecarTest {
  private final AdmissionService service = new AdmissionService(InjectorConfig.defaults());

  private static String pod(String annotationsJson) {
    return """
        {"apiVersion":"v1","kind":"Pod",
         "metadata":{"name":"greeter","labels":{"app":"greeter"},"annotations":%s},
         "spec":{"containers":[{"name":"app","image":"greeter:1"}]}}
        """
        .formatted(annotationsJson);
  }

  private JsonNode answer(String podJson) {
    return Reviews.response(service.handle(Reviews.podCreate("uid-s", "shop", podJson)));
  }

  private Pod injected(String podJson) {
    JsonNode patch = Reviews.patch(answer(podJson));
    assertThat(patch).as("a patch").isNotNull();
    return Reviews.pod(Reviews.applyToRaw(patch, podJson));
  }

  private static Container sidecar(Pod pod) {
    return pod.getSpec().getInitContainers().stream()
        .filter(c -> MeshConstants.SIDECAR_CONTAINER_NAME.equals(c.getName()))
        .findFirst()
        .orElseThrow();
  }

  private static String env(Container c, String name) {
    return c.getEnv().stream()
        .filter(e -> name.equals(e.getName()))
        .map(EnvVar::getValue)
        .findFirst()
        .orElse(null);
  }

  @Test
  void theSidecarGetsTheTrustBundleTheTokenAndTheCaFlags() {
    Pod pod = injected(pod("{}"));
    Container proxy = sidecar(pod);
    String trustDir =
        MeshConstants.TRUST_BUNDLE_PATH.substring(
            0, MeshConstants.TRUST_BUNDLE_PATH.lastIndexOf('/'));
    assertThat(proxy.getVolumeMounts()).extracting(VolumeMount::getMountPath).contains(trustDir);
    Volume trust =
        pod.getSpec().getVolumes().stream()
            .filter(v -> v.getConfigMap() != null)
            .findFirst()
            .orElseThrow();
    assertThat(trust.getConfigMap().getName()).isEqualTo(MeshConstants.TRUST_BUNDLE_CONFIG_MAP);
    assertThat(trust.getConfigMap().getItems().getFirst().getKey())
        .isEqualTo(MeshConstants.TRUST_BUNDLE_KEY);
    assertThat(pod.getSpec().getVolumes())
        .anySatisfy(
            v ->
                assertThat(
                        v.getProjected()
                            .getSources()
                            .getFirst()
                            .getServiceAccountToken()
                            .getAudience())
                    .isEqualTo(MeshConstants.CA_TOKEN_AUDIENCE));
    String cp = InjectorConfig.DEFAULT_CONTROL_PLANE_ADDRESS;
    assertThat(proxy.getArgs())
        .contains(
            "--ca=" + cp,
            "--ca-roots=" + MeshConstants.TRUST_BUNDLE_PATH,
            "--ca-token=" + MeshConstants.CA_TOKEN_PATH,
            "--xds=" + cp,
            "--xds-ca=" + MeshConstants.TRUST_BUNDLE_PATH)
        .doesNotContain("--access-log=true");
  }

  @Test
  void theSidecarHasAStartupProbeOnItsReadinessEndpointAndScrapeAnnotations() {
    Pod pod = injected(pod("{}"));
    Container proxy = sidecar(pod);
    assertThat(proxy.getStartupProbe().getHttpGet().getPort().getIntVal())
        .isEqualTo(MeshConstants.SIDECAR_METRICS_PORT);
    assertThat(proxy.getStartupProbe().getHttpGet().getPath())
        .isEqualTo(SidecarTemplate.READY_PATH);
    assertThat(pod.getMetadata().getAnnotations())
        .containsEntry("prometheus.io/scrape", "true")
        .containsEntry("prometheus.io/port", "15020")
        .containsEntry("prometheus.io/path", "/metrics");
  }

  @Test
  void sidecarLogsAreJsonLinesInACluster() {
    assertThat(env(sidecar(injected(pod("{}"))), SidecarTemplate.LOG_FORMAT_ENV)).isEqualTo("json");
  }

  @Test
  void jvmFlagsComeFromTheBuildUnlessThePodReplacesThem() {
    String bundled = InjectorConfig.bundledSidecarJvmFlags();
    assertThat(bundled).isNotBlank().doesNotContain("${");
    assertThat(env(sidecar(injected(pod("{}"))), SidecarTemplate.JVM_OPTIONS_ENV))
        .isEqualTo(bundled);

    Pod custom = injected(pod("{\"meshwork.dev/proxy-jvm-flags\":\"-Xmx256m -XX:+UseSerialGC\"}"));
    assertThat(env(sidecar(custom), SidecarTemplate.JVM_OPTIONS_ENV))
        .isEqualTo("-Xmx256m -XX:+UseSerialGC");
  }

  @Test
  void resourcesFollowTheAnnotations() {
    Container proxy =
        sidecar(
            injected(
                pod(
                    "{\"meshwork.dev/proxy-cpu\":\"300m\",\"meshwork.dev/proxy-memory-limit\":"
                        + "\"1Gi\"}")));
    assertThat(proxy.getResources().getRequests().get("cpu").toString()).isEqualTo("300m");
    assertThat(proxy.getResources().getLimits().get("memory").toString()).isEqualTo("1Gi");
  }

  @Test
  void theAccessLogAnnotationTurnsOnTheSidecarsAccessLog() {
    Container proxy = sidecar(injected(pod("{\"meshwork.dev/access-log\":\"true\"}")));
    assertThat(proxy.getArgs()).contains("--access-log=true");
  }

  @Test
  void aBadAccessLogValueIsDeniedNamingTheAnnotation() {
    JsonNode response = answer(pod("{\"meshwork.dev/access-log\":\"yes\"}"));
    assertThat(response.path("allowed").asBoolean()).isFalse();
    assertThat(response.path("status").path("message").asString())
        .contains("meshwork.dev/access-log")
        .contains("\"true\" or \"false\"");
  }

  @Test
  void aPodOptedInByAnnotationIsInjected() {
    Pod pod = injected(pod("{\"meshwork.dev/inject\":\"true\"}"));
    assertThat(pod.getSpec().getInitContainers()).hasSize(2);
  }
}
