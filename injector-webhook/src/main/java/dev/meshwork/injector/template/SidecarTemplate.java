package dev.meshwork.injector.template;

import dev.meshwork.api.MeshConstants;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerBuilder;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.EnvVarBuilder;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.ProbeBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.ResourceRequirements;
import io.fabric8.kubernetes.api.model.ResourceRequirementsBuilder;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeBuilder;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.TreeSet;
import tools.jackson.databind.json.JsonMapper;

/**
 * Builds the objects the injector adds to a pod. Pure: the same config, overrides and labels give
 * the same containers.
 */
public final class SidecarTemplate {

  /** The environment variable the JVM launcher reads its extra flags from. */
  public static final String JVM_OPTIONS_ENV = "JDK_JAVA_OPTIONS";

  public static final String LOG_FORMAT_ENV = "MESHWORK_LOG_FORMAT";

  /** Name of the projected token volume. */
  public static final String TOKEN_VOLUME = "meshwork-token";

  /**
   * Name of the volume with the mesh's trust bundle (the ConfigMap the control plane keeps in every
   * meshed namespace): the sidecar verifies the control plane's TLS certificate with it.
   */
  public static final String TRUST_VOLUME = "meshwork-trust";

  /** Readiness path on the sidecar's metrics port: ready once it has config and a certificate. */
  public static final String READY_PATH = "/ready";

  public static final String METRICS_PATH = "/metrics";

  /** Port name on the sidecar container, for PodMonitors (at most 15 characters). */
  public static final String METRICS_PORT_NAME = "mesh-metrics";

  /** Ports whose inbound traffic always bypasses the sidecar: admin, metrics, health. */
  public static final List<Integer> ALWAYS_EXCLUDED_INBOUND_PORTS =
      List.of(MeshConstants.SIDECAR_ADMIN_PORT, MeshConstants.SIDECAR_METRICS_PORT, 15021);

  private static final JsonMapper JSON = JsonMapper.builder().build();

  private final InjectorConfig config;

  public SidecarTemplate(InjectorConfig config) {
    this.config = Objects.requireNonNull(config, "config");
  }

  public InjectorConfig config() {
    return config;
  }

  /**
   * The init container that installs the capture rules. It runs as root with NET_ADMIN and NET_RAW
   * only, and exits; the app never shares its privileges.
   */
  public Container initContainer(PodOverrides overrides) {
    return new ContainerBuilder()
        .withName(MeshConstants.INIT_CONTAINER_NAME)
        .withImage(config.sidecarImage())
        .withImagePullPolicy(config.imagePullPolicy())
        .withArgs(captureArgs(overrides))
        .withResources(resources(config.initResources()))
        .withNewSecurityContext()
        .withRunAsUser(0L)
        .withRunAsGroup(0L)
        .withRunAsNonRoot(false)
        .withPrivileged(false)
        .withAllowPrivilegeEscalation(false)
        .withNewCapabilities()
        .withAdd("NET_ADMIN", "NET_RAW")
        .withDrop("ALL")
        .endCapabilities()
        .endSecurityContext()
        .build();
  }

  /**
   * The arguments of {@code capture}, the sidecar image's command that writes the iptables rules.
   * This is the contract with {@code dev.meshwork.sidecar.capture.CaptureCommand}.
   */
  public List<String> captureArgs(PodOverrides overrides) {
    TreeSet<Integer> inbound = new TreeSet<>(ALWAYS_EXCLUDED_INBOUND_PORTS);
    inbound.addAll(overrides.excludeInboundPorts());
    List<String> args = new ArrayList<>();
    args.add("capture");
    args.add("--inbound-port=" + MeshConstants.SIDECAR_INBOUND_PORT);
    args.add("--outbound-port=" + MeshConstants.SIDECAR_OUTBOUND_PORT);
    args.add("--proxy-uid=" + MeshConstants.SIDECAR_UID);
    args.add("--exclude-inbound-ports=" + join(inbound));
    if (!overrides.excludeOutboundPorts().isEmpty()) {
      args.add("--exclude-outbound-ports=" + join(overrides.excludeOutboundPorts()));
    }
    if (!overrides.excludeOutboundCidrs().isEmpty()) {
      args.add("--exclude-outbound-cidrs=" + String.join(",", overrides.excludeOutboundCidrs()));
    }
    return args;
  }

  /**
   * The sidecar, as a native sidecar: an init container with {@code restartPolicy: Always}. The
   * kubelet starts it before the app's containers, waits for its startup probe, and stops it after
   * them, so Jobs finish.
   *
   * @param labels the pod's labels at admission, never null
   */
  public Container proxyContainer(PodOverrides overrides, Map<String, String> labels) {
    String tokenPath = MeshConstants.CA_TOKEN_PATH;
    String tokenDir = tokenPath.substring(0, tokenPath.lastIndexOf('/'));
    String trustPath = MeshConstants.TRUST_BUNDLE_PATH;
    return new ContainerBuilder()
        .withName(MeshConstants.SIDECAR_CONTAINER_NAME)
        .withImage(config.sidecarImage())
        .withImagePullPolicy(config.imagePullPolicy())
        .withArgs(proxyArgs(overrides))
        .withRestartPolicy("Always")
        .addNewPort()
        .withName(METRICS_PORT_NAME)
        .withContainerPort(MeshConstants.SIDECAR_METRICS_PORT)
        .withProtocol("TCP")
        .endPort()
        .withEnv(env(labels, overrides))
        .withResources(resources(overrides.proxyResources()))
        // Startup: the app waits for this, so poll often and allow a slow first certificate.
        .withStartupProbe(readyProbe(1, 1, 120))
        .withReadinessProbe(readyProbe(0, 5, 3))
        .addNewVolumeMount()
        .withName(TOKEN_VOLUME)
        .withMountPath(tokenDir)
        .withReadOnly(true)
        .endVolumeMount()
        .addNewVolumeMount()
        .withName(TRUST_VOLUME)
        .withMountPath(trustPath.substring(0, trustPath.lastIndexOf('/')))
        .withReadOnly(true)
        .endVolumeMount()
        .withNewSecurityContext()
        .withRunAsUser(MeshConstants.SIDECAR_UID)
        .withRunAsGroup(MeshConstants.SIDECAR_UID)
        .withRunAsNonRoot(true)
        .withPrivileged(false)
        .withAllowPrivilegeEscalation(false)
        .withNewCapabilities()
        .withDrop("ALL")
        .endCapabilities()
        .endSecurityContext()
        .build();
  }

  /**
   * The sidecar's arguments: the configured command, the control plane address for ADS (TLS,
   * verified with the mounted trust bundle) and for the CA (a workload certificate: mTLS).
   */
  public List<String> proxyArgs(PodOverrides overrides) {
    List<String> args = new ArrayList<>(config.proxyArgs());
    args.add("--xds=" + config.controlPlaneAddress());
    args.add("--xds-ca=" + MeshConstants.TRUST_BUNDLE_PATH);
    args.add("--ca=" + config.controlPlaneAddress());
    // Explicit, though the sidecar defaults to the same paths: the pod spec says what it uses.
    args.add("--ca-roots=" + MeshConstants.TRUST_BUNDLE_PATH);
    args.add("--ca-token=" + MeshConstants.CA_TOKEN_PATH);
    args.add("--trust-domain=" + config.trustDomain());
    if (overrides.accessLog()) {
      args.add("--access-log=true");
    }
    return args;
  }

  /** The mesh trust bundle ConfigMap, its one key at {@link MeshConstants#TRUST_BUNDLE_PATH}. */
  public Volume trustVolume() {
    String path = MeshConstants.TRUST_BUNDLE_PATH;
    return new VolumeBuilder()
        .withName(TRUST_VOLUME)
        .withNewConfigMap()
        .withName(MeshConstants.TRUST_BUNDLE_CONFIG_MAP)
        .addNewItem()
        .withKey(MeshConstants.TRUST_BUNDLE_KEY)
        .withPath(path.substring(path.lastIndexOf('/') + 1))
        .endItem()
        .endConfigMap()
        .build();
  }

  /** The projected ServiceAccount token for the CA, with the mesh's audience. */
  public Volume tokenVolume() {
    String tokenPath = MeshConstants.CA_TOKEN_PATH;
    String fileName = tokenPath.substring(tokenPath.lastIndexOf('/') + 1);
    return new VolumeBuilder()
        .withName(TOKEN_VOLUME)
        .withNewProjected()
        .addNewSource()
        .withNewServiceAccountToken()
        .withAudience(MeshConstants.CA_TOKEN_AUDIENCE)
        .withExpirationSeconds(config.tokenExpirationSeconds())
        .withPath(fileName)
        .endServiceAccountToken()
        .endSource()
        .endProjected()
        .build();
  }

  /** Annotations the injector adds, in a stable order; existing keys of the pod win. */
  public Map<String, String> annotations() {
    Map<String, String> a = new LinkedHashMap<>();
    a.put(MeshConstants.INJECTED_ANNOTATION, "true");
    a.put(InjectionAnnotations.PROMETHEUS_SCRAPE, "true");
    a.put(
        InjectionAnnotations.PROMETHEUS_PORT, Integer.toString(MeshConstants.SIDECAR_METRICS_PORT));
    a.put(InjectionAnnotations.PROMETHEUS_PATH, METRICS_PATH);
    return a;
  }

  private List<EnvVar> env(Map<String, String> labels, PodOverrides overrides) {
    List<EnvVar> env = new ArrayList<>();
    // One source of JVM flags: the root pom's meshwork.sidecar.jvmFlags, unless the pod says
    // otherwise (the image carries the same default).
    env.add(
        value(
            JVM_OPTIONS_ENV,
            overrides.proxyJvmFlags() != null
                ? overrides.proxyJvmFlags()
                : InjectorConfig.bundledSidecarJvmFlags()));
    // In a cluster logs go to a collector: one JSON object per line (mesh-api's log-json.xml).
    env.add(value(LOG_FORMAT_ENV, "json"));
    env.add(field(SidecarEnv.POD_NAME, "metadata.name"));
    env.add(field(SidecarEnv.POD_NAMESPACE, "metadata.namespace"));
    env.add(field(SidecarEnv.SERVICE_ACCOUNT, "spec.serviceAccountName"));
    env.add(field(SidecarEnv.POD_IP, "status.podIP"));
    env.add(field(SidecarEnv.INSTANCE_IPS, "status.podIPs"));
    env.add(field(SidecarEnv.NODE_NAME, "spec.nodeName"));
    env.add(value(SidecarEnv.INSTANCE_LABELS, labelsJson(labels)));
    env.add(
        value(
            SidecarEnv.POD_LABELS,
            new TreeMap<>(labels)
                .entrySet().stream()
                    .map(e -> e.getKey() + "=" + e.getValue())
                    .collect(java.util.stream.Collectors.joining(","))));
    String workload = labels.get("app");
    if (workload != null && !workload.isEmpty()) {
      env.add(value(SidecarEnv.WORKLOAD, workload));
    }
    env.add(value(SidecarEnv.CONTROL_PLANE_ADDRESS, config.controlPlaneAddress()));
    env.add(value(SidecarEnv.TRUST_DOMAIN, config.trustDomain()));
    env.add(value(SidecarEnv.CA_TOKEN_PATH, MeshConstants.CA_TOKEN_PATH));
    env.add(
        new EnvVarBuilder()
            .withName(SidecarEnv.MEMORY_LIMIT)
            .withNewValueFrom()
            .withNewResourceFieldRef()
            .withResource("limits.memory")
            .endResourceFieldRef()
            .endValueFrom()
            .build());
    return env;
  }

  private static EnvVar field(String name, String path) {
    return new EnvVarBuilder()
        .withName(name)
        .withNewValueFrom()
        .withNewFieldRef()
        .withApiVersion("v1")
        .withFieldPath(path)
        .endFieldRef()
        .endValueFrom()
        .build();
  }

  private static EnvVar value(String name, String value) {
    return new EnvVarBuilder().withName(name).withValue(value).build();
  }

  private static Probe readyProbe(int initialDelay, int period, int failures) {
    return new ProbeBuilder()
        .withNewHttpGet()
        .withPath(READY_PATH)
        .withPort(new IntOrString(MeshConstants.SIDECAR_METRICS_PORT))
        .withScheme("HTTP")
        .endHttpGet()
        .withInitialDelaySeconds(initialDelay)
        .withPeriodSeconds(period)
        .withTimeoutSeconds(1)
        .withFailureThreshold(failures)
        .build();
  }

  private static ResourceRequirements resources(Resources r) {
    return new ResourceRequirementsBuilder()
        .addToRequests("cpu", new Quantity(r.cpuRequest()))
        .addToRequests("memory", new Quantity(r.memoryRequest()))
        .addToLimits("cpu", new Quantity(r.cpuLimit()))
        .addToLimits("memory", new Quantity(r.memoryLimit()))
        .build();
  }

  private static String join(Iterable<Integer> ports) {
    List<String> out = new ArrayList<>();
    ports.forEach(p -> out.add(Integer.toString(p)));
    return String.join(",", out);
  }

  /** The labels as a JSON object sorted by key, so equal label sets give equal env values. */
  static String labelsJson(Map<String, String> labels) {
    return JSON.writeValueAsString(new TreeMap<>(labels));
  }
}
