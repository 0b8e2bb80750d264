package dev.meshwork.e2e.mesh;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.meshwork.api.MeshConstants;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.ServiceAccountBuilder;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The scenarios' workloads, the same on every cluster: namespaces, Services, ServiceAccounts and
 * pods, created through the API server (the webhook injects the meshed ones), and the caller's
 * control port. Subclasses say where pods run and how the caller is reached.
 */
abstract class MeshWorkloads implements Testbed {
  private static final Logger log = LoggerFactory.getLogger(MeshWorkloads.class);

  static final String GREETER_IMAGE = "e2e.meshwork.dev/greeter:test";
  static final String GREETER_MAIN = "dev.meshwork.meshctl.demo.apps.GreeterApp";
  static final String CALLER_IMAGE = "e2e.meshwork.dev/caller:test";
  static final String CALLER_MAIN = "dev.meshwork.e2e.mesh.CallerMain";
  static final int CALLER_PORT = 8080;

  /** Greeter pod name to its version label: two v1 replicas and one v2. */
  static final Map<String, String> GREETERS =
      Map.of("greeter-a", "v1", "greeter-b", "v1", "greeter-c", "v2");

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final HttpClient HTTP =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  private final KubernetesClient client;
  private final String run;
  private final String nodeName;
  private final String meshNs;
  private final String plainNs;

  /**
   * @param nodeName the node pods are bound to (no scheduler), or null where a scheduler runs
   */
  MeshWorkloads(KubernetesClient client, String run, String nodeName) {
    this.client = client;
    this.run = run;
    this.nodeName = nodeName;
    this.meshNs = "mesh-" + run;
    this.plainNs = "plain-" + run;
  }

  /** Where the test reaches a caller pod's control port, e.g. {@code http://10.213.4.7:8080}. */
  protected abstract String callerBaseUrl(Pod caller);

  /** Waits until the mesh serves a newly labelled namespace (e.g. its trust bundle is there). */
  protected abstract void awaitMeshReady(String namespace) throws InterruptedException;

  /** Logs of a pod's containers, for failure messages. */
  protected abstract String diagnostics(String namespace, String pod);

  @Override
  public KubernetesClient client() {
    return client;
  }

  @Override
  public String meshNamespace() {
    return meshNs;
  }

  @Override
  public String plainNamespace() {
    return plainNs;
  }

  @Override
  public List<String> greeterPods() {
    return GREETERS.keySet().stream().sorted().toList();
  }

  /** Creates everything and waits until every pod is Ready. */
  void deploy() throws InterruptedException {
    client
        .namespaces()
        .resource(
            new NamespaceBuilder()
                .withNewMetadata()
                .withName(meshNs)
                .addToLabels(MeshConstants.INJECT_LABEL, MeshConstants.INJECT_LABEL_ENABLED)
                .endMetadata()
                .build())
        .create();
    client
        .namespaces()
        .resource(new NamespaceBuilder().withNewMetadata().withName(plainNs).endMetadata().build())
        .create();
    for (String ns : List.of(meshNs, plainNs)) {
      awaitDefaultServiceAccount(ns);
    }
    awaitMeshReady(meshNs);
    for (String sa : List.of("greeter", "caller")) {
      client
          .serviceAccounts()
          .inNamespace(meshNs)
          .resource(
              new ServiceAccountBuilder().withNewMetadata().withName(sa).endMetadata().build())
          .create();
    }
    client.services().inNamespace(meshNs).resource(service("greeter", null)).create();
    client.services().inNamespace(meshNs).resource(service("greeter-v1", "v1")).create();
    client.services().inNamespace(meshNs).resource(service("greeter-v2", "v2")).create();
    GREETERS.forEach(
        (pod, version) ->
            client.pods().inNamespace(meshNs).resource(greeter(pod, version)).create());
    client.pods().inNamespace(meshNs).resource(caller("caller", meshNs)).create();
    client.pods().inNamespace(plainNs).resource(caller("plain-caller", plainNs)).create();

    List<String[]> all =
        new java.util.ArrayList<>(
            GREETERS.keySet().stream().map(p -> new String[] {meshNs, p}).toList());
    all.add(new String[] {meshNs, "caller"});
    all.add(new String[] {plainNs, "plain-caller"});
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(150);
    for (String[] p : all) {
      while (!ready(client.pods().inNamespace(p[0]).withName(p[1]).get())) {
        if (System.nanoTime() > deadline) {
          throw new AssertionError(
              "pod " + p[0] + "/" + p[1] + " not Ready within 150 s" + diagnostics(p[0], p[1]));
        }
        Thread.sleep(250);
      }
    }
    log.info("mesh workloads Ready in {} and {}", meshNs, plainNs);
  }

  void deleteNamespaces() {
    for (String ns : List.of(meshNs, plainNs)) {
      try {
        client.namespaces().withName(ns).delete();
      } catch (KubernetesClientException e) {
        log.debug("delete namespace {}: {}", ns, e.toString());
      }
    }
  }

  private void awaitDefaultServiceAccount(String ns) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (client.serviceAccounts().inNamespace(ns).withName("default").get() == null) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("ServiceAccount " + ns + "/default not created in 30 s");
      }
      Thread.sleep(100);
    }
  }

  static boolean ready(Pod p) {
    return p != null
        && p.getStatus() != null
        && p.getStatus().getConditions().stream()
            .anyMatch(c -> c.getType().equals("Ready") && c.getStatus().equals("True"));
  }

  private io.fabric8.kubernetes.api.model.Service service(String name, String version) {
    var spec =
        new ServiceBuilder()
            .withNewMetadata()
            .withName(name)
            .endMetadata()
            .withNewSpec()
            .addToSelector("app", "greeter")
            .addNewPort()
            .withName("grpc")
            .withPort(GREETER_PORT)
            .withTargetPort(new IntOrString(GREETER_PORT))
            .withAppProtocol("kubernetes.io/h2c")
            .endPort()
            .endSpec();
    if (version != null) {
      spec.editSpec().addToSelector("version", version).endSpec();
    }
    return spec.build();
  }

  private Pod greeter(String name, String version) {
    return new PodBuilder()
        .withNewMetadata()
        .withName(name)
        .addToLabels("app", "greeter")
        .addToLabels("version", version)
        .endMetadata()
        .withNewSpec()
        .withNodeName(nodeName)
        .withServiceAccountName("greeter")
        .withTerminationGracePeriodSeconds(2L)
        .addNewContainer()
        .withName("app")
        .withImage(GREETER_IMAGE)
        .withArgs(
            "--bind",
            "0.0.0.0",
            "--port",
            "" + GREETER_PORT,
            "--instance",
            "$(POD_NAME)",
            "--version",
            version)
        .addNewEnv()
        .withName("POD_NAME")
        .withNewValueFrom()
        .withNewFieldRef()
        .withFieldPath("metadata.name")
        .endFieldRef()
        .endValueFrom()
        .endEnv()
        .addNewPort()
        .withName("grpc")
        .withContainerPort(GREETER_PORT)
        .endPort()
        .withNewReadinessProbe()
        .withNewTcpSocket()
        .withPort(new IntOrString(GREETER_PORT))
        .endTcpSocket()
        .withPeriodSeconds(1)
        .endReadinessProbe()
        .endContainer()
        .endSpec()
        .build();
  }

  private Pod caller(String name, String namespace) {
    return new PodBuilder()
        .withNewMetadata()
        .withName(name)
        .withNamespace(namespace)
        .addToLabels("app", "caller")
        // The test drives the caller over HTTP/1.1 on this port: not for the sidecar.
        .addToAnnotations("meshwork.dev/exclude-inbound-ports", "" + CALLER_PORT)
        .endMetadata()
        .withNewSpec()
        .withNodeName(nodeName)
        .withServiceAccountName(namespace.equals(meshNs) ? "caller" : "default")
        .withTerminationGracePeriodSeconds(2L)
        .addNewContainer()
        .withName("app")
        .withImage(CALLER_IMAGE)
        .withArgs("--port", "" + CALLER_PORT)
        .addNewPort()
        .withName("control")
        .withContainerPort(CALLER_PORT)
        .endPort()
        .withNewReadinessProbe()
        .withNewTcpSocket()
        .withPort(new IntOrString(CALLER_PORT))
        .endTcpSocket()
        .withPeriodSeconds(1)
        .endReadinessProbe()
        .endContainer()
        .endSpec()
        .build();
  }

  @Override
  public String serviceAddress(String service) {
    return client.services().inNamespace(meshNs).withName(service).get().getSpec().getClusterIP()
        + ":"
        + GREETER_PORT;
  }

  @Override
  public String podAddress(String pod) {
    return client.pods().inNamespace(meshNs).withName(pod).get().getStatus().getPodIP()
        + ":"
        + GREETER_PORT;
  }

  @Override
  public void apply(String yaml) {
    for (HasMetadata item : load(yaml)) {
      client.resource(item).fieldManager("meshwork-e2e").forceConflicts().serverSideApply();
    }
  }

  @Override
  public void delete(String yaml) {
    for (HasMetadata item : load(yaml)) {
      client.resource(item).delete();
    }
  }

  private List<HasMetadata> load(String yaml) {
    return client.load(new ByteArrayInputStream(yaml.getBytes(StandardCharsets.UTF_8))).items();
  }

  @Override
  public Calls call(Caller from, String target, int calls, String header, boolean fresh) {
    return call(from, target, null, calls, header, fresh);
  }

  @Override
  public Calls callWithAuthority(Caller from, String target, String authority, int calls) {
    return call(from, target, authority, calls, null, false);
  }

  private Calls call(
      Caller from, String target, String authority, int calls, String header, boolean fresh) {
    String ns = from == Caller.MESHED ? meshNs : plainNs;
    String name = from == Caller.MESHED ? "caller" : "plain-caller";
    Pod pod = client.pods().inNamespace(ns).withName(name).get();
    StringBuilder q = new StringBuilder("/call?target=").append(enc(target));
    q.append("&calls=").append(calls).append("&fresh=").append(fresh);
    if (header != null) {
      q.append("&header=").append(enc(header));
    }
    if (authority != null) {
      q.append("&authority=").append(enc(authority));
    }
    try {
      HttpResponse<String> r =
          HTTP.send(
              HttpRequest.newBuilder(URI.create(callerBaseUrl(pod) + q))
                  .timeout(Duration.ofSeconds(30 + calls / 20))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      if (r.statusCode() != 200) {
        throw new IllegalStateException("caller answered " + r.statusCode() + ": " + r.body());
      }
      return JSON.readValue(r.body(), Calls.class);
    } catch (IOException e) {
      throw new IllegalStateException("caller " + ns + "/" + name + " unreachable: " + e, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  @Override
  public String diagnostics() {
    StringBuilder sb = new StringBuilder();
    sb.append(diagnostics(meshNs, "caller"));
    for (String g : greeterPods()) {
      sb.append(diagnostics(meshNs, g));
    }
    return sb.toString();
  }

  private static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }

  static String tail(Path file, int lines) {
    try {
      List<String> all = Files.readAllLines(file);
      return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
    } catch (IOException e) {
      return "(cannot read " + file + ": " + e + ")";
    }
  }
}
