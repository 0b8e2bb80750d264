package dev.meshwork.controlplane.webhook;

import static org.assertj.core.api.Assertions.assertThat;

import dev.meshwork.api.MeshConstants;
import dev.meshwork.ca.grpc.CaMetrics;
import dev.meshwork.controlplane.ca.EmbeddedCa;
import dev.meshwork.injector.admission.ReviewListener;
import dev.meshwork.injector.template.InjectorConfig;
import io.fabric8.kubernetes.api.model.admission.v1.AdmissionRequest;
import io.fabric8.zjsonpatch.JsonPatch;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * The control plane's injector, as the API server calls it: HTTPS with a certificate from the
 * control plane's own CA, verified against the CA's trust bundle alone (what the webhook
 * configuration's caBundle holds) and the Service's DNS name, answering an AdmissionReview with a
 * JSON Patch that adds the sidecar.
 */
class HostedWebhookTest {
  private static final JsonMapper JSON = JsonMapper.builder().build();
  private static final String SERVICE_NAME =
      "meshwork-control-plane." + MeshConstants.SYSTEM_NAMESPACE + ".svc";

  @TempDir Path dir;
  private EmbeddedCa ca;
  private HostedWebhook webhook;
  private final List<AdmissionRequest> seen = new CopyOnWriteArrayList<>();

  @BeforeEach
  void start() throws Exception {
    Path tokens = dir.resolve("tokens.properties");
    Files.writeString(tokens, "tok=demo/caller\n");
    ca = EmbeddedCa.local(dir.resolve("ca"), tokens, "example.org", CaMetrics.NOOP);
    ReviewListener record = (request, response) -> seen.add(request);
    webhook =
        HostedWebhook.start(
            new HostedWebhook.Settings(
                new InetSocketAddress("127.0.0.1", 0),
                InjectorConfig.defaults().withTrustDomain("example.org")),
            ca::servingCredentials,
            record);
  }

  @AfterEach
  void stop() {
    if (webhook != null) {
      webhook.close();
    }
  }

  @Test
  void answersAnAdmissionReviewOverHttpsWithTheCasCertificate() throws Exception {
    String pod =
        """
        {"apiVersion":"v1","kind":"Pod",
         "metadata":{"name":"greeter","namespace":"demo","labels":{"app":"greeter"}},
         "spec":{"containers":[{"name":"app","image":"greeter:1"}]}}
        """;
    HttpResponse<String> answer = post(trustingOnlyTheMeshRoots(), review("uid-1", "demo", pod));

    assertThat(answer.statusCode()).isEqualTo(200);
    JsonNode response = JSON.readTree(answer.body()).path("response");
    assertThat(response.path("uid").asString()).isEqualTo("uid-1");
    assertThat(response.path("allowed").asBoolean()).isTrue();
    assertThat(response.path("patchType").asString()).isEqualTo("JSONPatch");
    JsonNode patch = JSON.readTree(Base64.getDecoder().decode(response.path("patch").asString()));
    JsonNode injected = JsonPatch.apply(patch, JSON.readTree(pod));
    JsonNode inits = injected.path("spec").path("initContainers");
    assertThat(inits.get(0).path("name").asString()).isEqualTo(MeshConstants.INIT_CONTAINER_NAME);
    assertThat(inits.get(1).path("name").asString())
        .isEqualTo(MeshConstants.SIDECAR_CONTAINER_NAME);
    assertThat(inits.get(1).path("restartPolicy").asString()).isEqualTo("Always");
    // The control plane's trust domain reaches the sidecar.
    assertThat(inits.get(1).path("env").toString()).contains("example.org");
    assertThat(seen).singleElement().satisfies(r -> assertThat(r.getNamespace()).isEqualTo("demo"));
  }

  @Test
  void theCertificateIsValidForTheServiceNameTheApiServerDials() throws Exception {
    SSLContext ssl = trustingOnlyTheMeshRoots();
    try (Socket tcp = new Socket("127.0.0.1", webhook.address().getPort());
        SSLSocket tls =
            (SSLSocket)
                ssl.getSocketFactory()
                    .createSocket(tcp, SERVICE_NAME, webhook.address().getPort(), true)) {
      SSLParameters params = tls.getSSLParameters();
      params.setEndpointIdentificationAlgorithm("HTTPS"); // check the name, as the API server does
      tls.setSSLParameters(params);
      tls.startHandshake();
      assertThat(tls.getSession().getPeerCertificates()).hasSizeGreaterThan(1);
    }
  }

  @Test
  void aClientThatDoesNotTrustTheMeshRootIsRefused() throws Exception {
    SSLContext systemDefault = SSLContext.getDefault();
    try {
      post(systemDefault, review("uid-2", "demo", "{}"));
      throw new AssertionError("the handshake should have failed");
    } catch (SSLHandshakeException expected) {
      assertThat(seen).isEmpty();
    }
  }

  private SSLContext trustingOnlyTheMeshRoots() throws Exception {
    Path bundle = dir.resolve("roots.pem");
    ca.writeTrustBundle(bundle);
    KeyStore roots = KeyStore.getInstance(KeyStore.getDefaultType());
    roots.load(null, null);
    try (InputStream in = Files.newInputStream(bundle)) {
      int i = 0;
      for (Certificate c : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
        roots.setCertificateEntry("root-" + i++, c);
      }
    }
    TrustManagerFactory tmf =
        TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(roots);
    SSLContext ssl = SSLContext.getInstance("TLS");
    ssl.init(null, tmf.getTrustManagers(), null);
    return ssl;
  }

  /** Posts to the webhook as localhost (a name on the CA's serving certificate, too). */
  private HttpResponse<String> post(SSLContext ssl, byte[] body) throws Exception {
    try (HttpClient client =
        HttpClient.newBuilder().sslContext(ssl).connectTimeout(Duration.ofSeconds(5)).build()) {
      HttpRequest request =
          HttpRequest.newBuilder(
                  URI.create(
                      "https://localhost:" + webhook.address().getPort() + "/inject?timeout=10s"))
              .timeout(Duration.ofSeconds(10))
              .header("Content-Type", "application/json")
              .POST(HttpRequest.BodyPublishers.ofByteArray(body))
              .build();
      return client.send(request, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
    }
  }

  private static byte[] review(String uid, String namespace, String podJson) {
    ObjectNode root = JSON.createObjectNode();
    root.put("apiVersion", "admission.k8s.io/v1");
    root.put("kind", "AdmissionReview");
    ObjectNode req = root.putObject("request");
    req.put("uid", uid);
    req.putObject("kind").put("group", "").put("version", "v1").put("kind", "Pod");
    req.putObject("resource").put("group", "").put("version", "v1").put("resource", "pods");
    req.put("namespace", namespace);
    req.put("operation", "CREATE");
    req.putObject("userInfo").put("username", "system:admin");
    req.set("object", JSON.readTree(podJson));
    return JSON.writeValueAsBytes(root);
  }
}
