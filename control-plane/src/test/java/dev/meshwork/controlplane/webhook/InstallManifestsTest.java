package dev.meshwork.controlplane.webhook;

import static org.assertj.core.api.Assertions.assertThat;

import dev.meshwork.api.MeshConstants;
import dev.meshwork.injector.template.InjectorConfig;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.LabelSelectorRequirement;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.MutatingWebhook;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.MutatingWebhookConfiguration;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBinding;
import io.fabric8.kubernetes.api.model.rbac.PolicyRule;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

/**
 * What ships in {@code manifests/install} and {@code manifests/webhook} parses as Kubernetes
 * objects and says what the injector and the control plane rely on: the webhook's safety settings,
 * the Service and ports the API server calls, least-privilege RBAC, and image names equal to the
 * ones Jib builds (root pom properties). The real API server's behaviour with these files is proven
 * in e2e ({@code WebhookInjectionIT}).
 */
class InstallManifestsTest {
  private static final Path REPO = Path.of("").toAbsolutePath().getParent();
  private static final Path WEBHOOK_YAML = REPO.resolve("manifests/webhook/mutating-webhook.yaml");
  private static final String CP = "meshwork-control-plane";
  private static final String NS = MeshConstants.SYSTEM_NAMESPACE;

  private static List<HasMetadata> install;
  private static MutatingWebhookConfiguration webhookConfig;

  @BeforeAll
  static void load() throws IOException {
    install = new ArrayList<>();
    try (Stream<Path> files = Files.list(REPO.resolve("manifests/install"))) {
      for (Path f : files.filter(p -> p.toString().endsWith(".yaml")).sorted().toList()) {
        install.addAll(parse(f));
      }
    }
    List<HasMetadata> webhook = parse(WEBHOOK_YAML);
    assertThat(webhook).hasSize(1);
    webhookConfig = (MutatingWebhookConfiguration) webhook.getFirst();
  }

  private static List<HasMetadata> parse(Path file) throws IOException {
    try (InputStream in = Files.newInputStream(file)) {
      Object parsed = new KubernetesSerialization().unmarshal(in);
      List<HasMetadata> out = new ArrayList<>();
      if (parsed instanceof List<?> list) {
        list.forEach(o -> out.add((HasMetadata) o));
      } else {
        out.add((HasMetadata) parsed);
      }
      return out;
    }
  }

  private static <T extends HasMetadata> T one(Class<T> type) {
    List<T> found = install.stream().filter(type::isInstance).map(type::cast).toList();
    assertThat(found).as("exactly one %s in manifests/install", type.getSimpleName()).hasSize(1);
    return found.getFirst();
  }

  // --- the webhook ------------------------------------------------------------------------------

  @Test
  void everyWebhookEntryIsSafeAndCallsTheControlPlane() {
    assertThat(webhookConfig.getMetadata().getName()).isEqualTo("meshwork-sidecar-injector");
    assertThat(webhookConfig.getWebhooks()).hasSize(2);
    for (MutatingWebhook w : webhookConfig.getWebhooks()) {
      assertThat(w.getSideEffects()).as(w.getName()).isEqualTo("None");
      assertThat(w.getFailurePolicy()).as(w.getName()).isEqualTo("Fail");
      assertThat(w.getTimeoutSeconds()).as(w.getName()).isBetween(1, 15);
      assertThat(w.getReinvocationPolicy()).as(w.getName()).isEqualTo("IfNeeded");
      assertThat(w.getAdmissionReviewVersions()).as(w.getName()).containsExactly("v1");
      // Patched at run time by the control plane from its CA; never shipped.
      assertThat(w.getClientConfig().getCaBundle()).as(w.getName()).isNullOrEmpty();
      assertThat(w.getClientConfig().getUrl()).isNull();
      var svc = w.getClientConfig().getService();
      assertThat(svc.getName()).isEqualTo(CP);
      assertThat(svc.getNamespace()).isEqualTo(NS);
      assertThat(svc.getPath()).isEqualTo("/inject");
      assertThat(svc.getPort()).isEqualTo(MeshConstants.CONTROL_PLANE_WEBHOOK_PORT);
      assertThat(w.getRules())
          .singleElement()
          .satisfies(
              r -> {
                assertThat(r.getOperations()).containsExactly("CREATE");
                assertThat(r.getApiGroups()).containsExactly("");
                assertThat(r.getResources()).containsExactly("pods");
              });
      // The mesh's own namespace (and kube-system) never depend on the webhook.
      assertThat(w.getNamespaceSelector().getMatchExpressions())
          .anySatisfy(
              e -> {
                assertThat(e.getKey()).isEqualTo("kubernetes.io/metadata.name");
                assertThat(e.getOperator()).isEqualTo("NotIn");
                assertThat(e.getValues()).contains(NS, "kube-system");
              });
      // Opted-out pods (label) are never sent.
      assertThat(w.getObjectSelector().getMatchExpressions())
          .contains(requirement(MeshConstants.INJECT_LABEL, "NotIn", "false"));
      assertThat(w.getMatchConditions())
          .anySatisfy(c -> assertThat(c.getExpression()).contains("hostNetwork"));
    }
  }

  @Test
  void labelledNamespacesGoToTheFirstEntryAndOptedInPodsElsewhereToTheSecond() {
    MutatingWebhook byNamespace = webhookConfig.getWebhooks().get(0);
    MutatingWebhook byPod = webhookConfig.getWebhooks().get(1);
    assertThat(byNamespace.getNamespaceSelector().getMatchExpressions())
        .contains(
            requirement(MeshConstants.INJECT_LABEL, "In", MeshConstants.INJECT_LABEL_ENABLED));
    assertThat(byNamespace.getMatchConditions())
        .anySatisfy(
            c ->
                assertThat(c.getExpression())
                    .contains("annotations['" + MeshConstants.INJECT_ANNOTATION + "'] == 'false'"));
    // Disjoint from the first entry, so no pod is sent twice; "disabled" namespaces never.
    assertThat(byPod.getNamespaceSelector().getMatchExpressions())
        .contains(
            requirement(
                MeshConstants.INJECT_LABEL,
                "NotIn",
                MeshConstants.INJECT_LABEL_ENABLED,
                "disabled"));
    assertThat(byPod.getMatchConditions())
        .anySatisfy(
            c ->
                assertThat(c.getExpression())
                    .contains("labels['" + MeshConstants.INJECT_LABEL + "'] == 'true'")
                    .contains("annotations['" + MeshConstants.INJECT_ANNOTATION + "'] == 'true'"));
  }

  @Test
  void theFailurePolicyIsExplainedInTheFile() throws IOException {
    String text = Files.readString(WEBHOOK_YAML);
    assertThat(text).contains("failurePolicy: Fail (strict default)").contains("caBundle");
  }

  private static LabelSelectorRequirement requirement(String key, String op, String... values) {
    return new LabelSelectorRequirement(key, op, List.of(values));
  }

  // --- the install set --------------------------------------------------------------------------

  @Test
  void theControlPlaneRunsInItsNamespaceWithItsPortsProbesAndResources() throws Exception {
    assertThat(one(Namespace.class).getMetadata().getName()).isEqualTo(NS);
    assertThat(one(ServiceAccount.class).getMetadata().getNamespace()).isEqualTo(NS);
    Deployment d = one(Deployment.class);
    assertThat(d.getMetadata().getName()).isEqualTo(CP);
    assertThat(d.getMetadata().getNamespace()).isEqualTo(NS);
    var pod = d.getSpec().getTemplate().getSpec();
    assertThat(pod.getServiceAccountName())
        .isEqualTo(one(ServiceAccount.class).getMetadata().getName());
    Container c = pod.getContainers().getFirst();
    assertThat(c.getPorts())
        .extracting(ContainerPort::getContainerPort)
        .containsExactlyInAnyOrder(
            MeshConstants.CONTROL_PLANE_GRPC_PORT,
            MeshConstants.CONTROL_PLANE_HTTP_PORT,
            MeshConstants.CONTROL_PLANE_WEBHOOK_PORT);
    assertThat(c.getReadinessProbe().getHttpGet().getPath()).isEqualTo("/healthz");
    assertThat(c.getStartupProbe()).isNotNull();
    assertThat(c.getLivenessProbe()).isNotNull();
    assertThat(c.getResources().getRequests()).containsKeys("cpu", "memory");
    assertThat(c.getResources().getLimits()).containsKey("memory");
    assertThat(c.getImage()).isEqualTo(imageProperty("control-plane.image"));
    assertThat(c.getImage()).isEqualTo(jibImage("control-plane"));
  }

  @Test
  void theServiceExposesTheDeploymentsPortsUnderTheNameTheWebhookCalls() {
    Service s = one(Service.class);
    Deployment d = one(Deployment.class);
    assertThat(s.getMetadata().getName()).isEqualTo(CP);
    assertThat(s.getMetadata().getNamespace()).isEqualTo(NS);
    assertThat(d.getSpec().getTemplate().getMetadata().getLabels())
        .containsAllEntriesOf(s.getSpec().getSelector());
    List<String> containerPortNames =
        d.getSpec().getTemplate().getSpec().getContainers().getFirst().getPorts().stream()
            .map(ContainerPort::getName)
            .toList();
    assertThat(s.getSpec().getPorts())
        .allSatisfy(p -> assertThat(containerPortNames).contains(p.getTargetPort().getStrVal()));
    assertThat(s.getSpec().getPorts())
        .anySatisfy(
            p -> {
              assertThat(p.getPort()).isEqualTo(MeshConstants.CONTROL_PLANE_WEBHOOK_PORT);
              assertThat(p.getTargetPort().getStrVal()).isEqualTo("https-webhook");
            });
  }

  @Test
  void rbacGrantsWhatTheControlPlaneNeedsAndNoWildcards() {
    ClusterRole cluster = one(ClusterRole.class);
    Role local = one(Role.class);
    assertThat(local.getMetadata().getNamespace()).isEqualTo(NS);
    List<PolicyRule> all = new ArrayList<>(cluster.getRules());
    all.addAll(local.getRules());
    for (PolicyRule r : all) {
      assertThat(r.getVerbs()).doesNotContain("*");
      assertThat(r.getResources()).doesNotContain("*");
      assertThat(r.getApiGroups()).doesNotContain("*");
    }
    var rules = cluster.getRules();
    for (String res : List.of("services", "pods", "namespaces")) {
      assertThat(allows(rules, "", res, "watch", null)).as(res).isTrue();
    }
    assertThat(allows(rules, "discovery.k8s.io", "endpointslices", "watch", null)).isTrue();
    for (String res : List.of("grpcroutes", "httproutes")) {
      assertThat(allows(rules, "gateway.networking.k8s.io", res, "watch", null)).isTrue();
      assertThat(allows(rules, "gateway.networking.k8s.io", res + "/status", "update", null))
          .isTrue();
    }
    for (String res : List.of("peerauthentications", "authorizationpolicies")) {
      assertThat(allows(rules, "security.meshwork.dev", res, "watch", null)).isTrue();
      assertThat(allows(rules, "security.meshwork.dev", res + "/status", "update", null)).isTrue();
    }
    assertThat(allows(rules, "networking.meshwork.dev", "trafficpolicies", "watch", null)).isTrue();
    assertThat(allows(rules, "authentication.k8s.io", "tokenreviews", "create", null)).isTrue();
    assertThat(allows(rules, "", "configmaps", "update", MeshConstants.TRUST_BUNDLE_CONFIG_MAP))
        .isTrue();
    assertThat(allows(rules, "", "configmaps", "update", "someone-elses")).isFalse();
    assertThat(
            allows(
                rules,
                "admissionregistration.k8s.io",
                "mutatingwebhookconfigurations",
                "patch",
                "meshwork-sidecar-injector"))
        .isTrue();
    assertThat(
            allows(
                rules,
                "admissionregistration.k8s.io",
                "mutatingwebhookconfigurations",
                "patch",
                "another-webhook"))
        .isFalse();
    // Secrets: only the CA's, only in meshwork-system.
    assertThat(rules).noneSatisfy(r -> assertThat(r.getResources()).contains("secrets"));
    assertThat(allows(local.getRules(), "", "secrets", "get", "meshwork-ca")).isTrue();
    assertThat(allows(local.getRules(), "", "secrets", "get", "other")).isFalse();
    assertThat(allows(local.getRules(), "", "secrets", "list", null)).isFalse();
    assertThat(allows(local.getRules(), "coordination.k8s.io", "leases", "update", CP)).isTrue();

    ClusterRoleBinding cb = one(ClusterRoleBinding.class);
    RoleBinding rb = one(RoleBinding.class);
    assertThat(cb.getRoleRef().getName()).isEqualTo(cluster.getMetadata().getName());
    assertThat(rb.getRoleRef().getName()).isEqualTo(local.getMetadata().getName());
    for (var subject : List.of(cb.getSubjects().getFirst(), rb.getSubjects().getFirst())) {
      assertThat(subject.getName()).isEqualTo(one(ServiceAccount.class).getMetadata().getName());
      assertThat(subject.getNamespace()).isEqualTo(NS);
    }
  }

  /** RBAC's rule matching, as far as these manifests use it (no wildcards, as checked above). */
  private static boolean allows(
      List<PolicyRule> rules, String group, String resource, String verb, String name) {
    return rules.stream()
        .anyMatch(
            r ->
                r.getApiGroups().contains(group)
                    && r.getResources().contains(resource)
                    && r.getVerbs().contains(verb)
                    && (r.getResourceNames() == null
                        || r.getResourceNames().isEmpty()
                        || (name != null && r.getResourceNames().contains(name))));
  }

  // --- images -----------------------------------------------------------------------------------

  @Test
  void theInjectorNamesTheSidecarImageJibBuilds() throws Exception {
    assertThat(InjectorConfig.bundledSidecarImage()).isEqualTo(jibImage("sidecar-proxy"));
  }

  private static String imageProperty(String key) throws IOException {
    Properties p = new Properties();
    try (InputStream in =
        InjectorConfig.class.getResourceAsStream(InjectorConfig.IMAGES_RESOURCE)) {
      p.load(in);
    }
    return p.getProperty(key);
  }

  /** The {@code <to><image>} of a module's jib-maven-plugin, with root pom properties resolved. */
  private static String jibImage(String module) throws Exception {
    Document pom = xml(REPO.resolve(module).resolve("pom.xml"));
    String image = null;
    NodeList plugins = pom.getElementsByTagName("plugin");
    for (int i = 0; i < plugins.getLength(); i++) {
      Element plugin = (Element) plugins.item(i);
      if ("jib-maven-plugin".equals(text(plugin, "artifactId"))) {
        Element to = (Element) plugin.getElementsByTagName("to").item(0);
        image = text(to, "image");
      }
    }
    assertThat(image).as("jib <to><image> in %s/pom.xml", module).isNotNull();
    return resolve(image, rootProperties());
  }

  private static Map<String, String> rootProperties() throws Exception {
    Document root = xml(REPO.resolve("pom.xml"));
    Map<String, String> props = new java.util.HashMap<>();
    Element properties = (Element) root.getElementsByTagName("properties").item(0);
    NodeList children = properties.getChildNodes();
    for (int i = 0; i < children.getLength(); i++) {
      if (children.item(i) instanceof Element e) {
        props.put(e.getTagName(), e.getTextContent().strip());
      }
    }
    Element project = root.getDocumentElement();
    props.put("project.version", directChild(project, "version"));
    return props;
  }

  private static String resolve(String value, Map<String, String> props) {
    Pattern ref = Pattern.compile("\\$\\{([^}]+)}");
    String v = value;
    for (int round = 0; round < 5 && v.contains("${"); round++) {
      Matcher m = ref.matcher(v);
      StringBuilder out = new StringBuilder();
      while (m.find()) {
        String r = props.get(m.group(1));
        assertThat(r).as("property %s", m.group(1)).isNotNull();
        m.appendReplacement(out, Matcher.quoteReplacement(r));
      }
      m.appendTail(out);
      v = out.toString();
    }
    return v;
  }

  private static Document xml(Path file) throws Exception {
    return DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(file.toFile());
  }

  private static String text(Element parent, String tag) {
    NodeList n = parent.getElementsByTagName(tag);
    return n.getLength() == 0 ? null : n.item(0).getTextContent().strip();
  }

  private static String directChild(Element parent, String tag) {
    NodeList n = parent.getChildNodes();
    for (int i = 0; i < n.getLength(); i++) {
      if (n.item(i) instanceof Element e && e.getTagName().equals(tag)) {
        return e.getTextContent().strip();
      }
    }
    return null;
  }
}
