package dev.meshwork.injector.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.meshwork.injector.admission.AdmissionService;
import dev.meshwork.injector.template.InjectorConfig;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** The HTTPS server over loopback, with a JDK client: answers, limits, timeouts, load. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class WebhookServerTest {
  /** The webhook configuration's timeoutSeconds: every answer must come within it. */
  static final Duration WEBHOOK_TIMEOUT = Duration.ofSeconds(10);

  static final JsonMapper JSON = JsonMapper.builder().build();

  @TempDir static Path dir;
  static TestCerts.Issued cert;
  static WebhookServer server;
  static HttpClient client;
  static URI inject;

  @BeforeAll
  static void start() throws Exception {
    cert = TestCerts.selfSigned(dir, 1);
    server =
        WebhookServer.start(
            WebhookServerConfig.defaults()
                .withBindHost("127.0.0.1")
                .withPort(0)
                .withMaxBodyBytes(64 * 1024)
                .withReadTimeout(Duration.ofSeconds(1)),
            TlsCredentials.fromPemFiles(cert.certFile(), cert.keyFile()),
            new AdmissionService(InjectorConfig.defaults()));
    client =
        HttpClient.newBuilder()
            .sslContext(TestCerts.trusting(cert.certificate()))
            .version(HttpClient.Version.HTTP_1_1)
            // The API server bounds the whole call (connect and TLS handshake included) by the
            // webhook's timeoutSeconds, and so does this client; 200 handshakes at once on a busy
            // 2-core machine can take longer than a separate, tighter connect bound.
            .connectTimeout(WEBHOOK_TIMEOUT)
            .build();
    inject =
        URI.create("https://127.0.0.1:" + server.localAddress().getPort() + "/inject?timeout=10s");
  }

  @AfterAll
  static void stop() {
    if (client != null) {
      client.close();
    }
    if (server != null) {
      server.close();
    }
  }

  static String review(String uid) {
    return """
        {"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview",
         "request":{"uid":"%s","kind":{"group":"","version":"v1","kind":"Pod"},
          "resource":{"group":"","version":"v1","resource":"pods"},
          "namespace":"shop","operation":"CREATE",
          "object":{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p-%s"},
                    "spec":{"containers":[{"name":"app","image":"a:1"}]}}}}
        """
        .formatted(uid, uid);
  }

  static HttpRequest post(String body) {
    return HttpRequest.newBuilder(inject)
        .timeout(WEBHOOK_TIMEOUT)
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(body))
        .build();
  }

  @Test
  void answersAnAdmissionReviewWithAPatch() throws Exception {
    HttpResponse<String> r = client.send(post(review("u-1")), HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.headers().firstValue("content-type")).hasValue("application/json");
    JsonNode response = JSON.readTree(r.body()).path("response");
    assertThat(response.path("uid").asString()).isEqualTo("u-1");
    assertThat(response.path("allowed").asBoolean()).isTrue();
    assertThat(response.path("patchType").asString()).isEqualTo("JSONPatch");
  }

  @Test
  void answersTwoHundredConcurrentRequestsCorrectlyWithinTheWebhookTimeout() {
    int n = 200;
    List<CompletableFuture<HttpResponse<String>>> calls = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      calls.add(
          client
              .sendAsync(post(review("c-" + i)), HttpResponse.BodyHandlers.ofString())
              .orTimeout(WEBHOOK_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS));
    }
    for (int i = 0; i < n; i++) {
      HttpResponse<String> r = calls.get(i).join(); // a timeout fails the test here
      assertThat(r.statusCode()).as("request %d", i).isEqualTo(200);
      JsonNode response = JSON.readTree(r.body()).path("response");
      assertThat(response.path("uid").asString()).as("its own answer").isEqualTo("c-" + i);
      assertThat(response.path("allowed").asBoolean()).isTrue();
      assertThat(response.hasNonNull("patch")).isTrue();
    }
  }

  @Test
  void malformedJsonWithoutUidIsHttp400WithAStatusMessage() throws Exception {
    HttpResponse<String> r = client.send(post("{not json"), HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).isEqualTo(400);
    JsonNode status = JSON.readTree(r.body());
    assertThat(status.path("kind").asString()).isEqualTo("Status");
    assertThat(status.path("message").asString()).startsWith("malformed AdmissionReview JSON");
    assertThat(r.body()).doesNotContain("at dev.meshwork").doesNotContain("Exception");
  }

  @Test
  void truncatedReviewWithReadableUidIsDeniedInAnAdmissionReview() throws Exception {
    String full = review("t-1");
    HttpResponse<String> r =
        client.send(
            post(full.substring(0, full.length() / 2)), HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).isEqualTo(200);
    JsonNode response = JSON.readTree(r.body()).path("response");
    assertThat(response.path("uid").asString()).isEqualTo("t-1");
    assertThat(response.path("allowed").asBoolean()).isFalse();
    assertThat(response.path("status").path("message").asString()).contains("malformed");
  }

  @Test
  void bodyOverTheLimitIsRefusedWith413() throws Exception {
    String huge = review("h-1").replace("\"a:1\"", "\"" + "x".repeat(100 * 1024) + "\"");
    HttpResponse<String> r = client.send(post(huge), HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).isEqualTo(413);
    assertThat(JSON.readTree(r.body()).path("message").asString()).contains("65536 bytes");
  }

  @Test
  void wrongMethodAndPathGetClearAnswers() throws Exception {
    HttpResponse<String> get =
        client.send(
            HttpRequest.newBuilder(inject).GET().build(), HttpResponse.BodyHandlers.ofString());
    assertThat(get.statusCode()).isEqualTo(405);
    HttpResponse<String> other =
        client.send(
            HttpRequest.newBuilder(inject.resolve("/mutate"))
                .POST(HttpRequest.BodyPublishers.ofString("{}"))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(other.statusCode()).isEqualTo(404);
    HttpResponse<String> health =
        client.send(
            HttpRequest.newBuilder(inject.resolve("/healthz")).GET().build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(health.statusCode()).isEqualTo(200);
  }

  @Test
  void stalledRequestIsClosedAfterTheReadTimeout() throws Exception {
    SSLContext ctx = TestCerts.trusting(cert.certificate());
    try (SSLSocket s =
        (SSLSocket)
            ctx.getSocketFactory().createSocket("127.0.0.1", server.localAddress().getPort())) {
      s.setSoTimeout(8000);
      OutputStream out = s.getOutputStream();
      out.write(
          ("POST /inject HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                  + "Content-Length: 1000\r\n\r\n{\"apiVersion\":")
              .getBytes(StandardCharsets.US_ASCII));
      out.flush();
      long start = System.nanoTime();
      // The body never completes: the server must hang up, not wait forever.
      int read;
      try {
        read = s.getInputStream().read();
      } catch (SocketException e) {
        read = -1;
      }
      assertThat(read).isEqualTo(-1);
      assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(5));
    }
  }

  @Test
  void plaintextClientIsDisconnected() throws Exception {
    try (Socket s = new Socket("127.0.0.1", server.localAddress().getPort())) {
      s.setSoTimeout(8000);
      s.getOutputStream()
          .write("POST /inject HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      InputStream in = s.getInputStream();
      int read;
      try {
        while ((read = in.read()) != -1) {
          // drain an alert if one is sent
        }
      } catch (SocketException e) {
        read = -1;
      }
      assertThat(read).isEqualTo(-1);
    }
  }

  @Test
  void rotatedCertificateFilesAreServedToNewConnections(@TempDir Path rotDir) throws Exception {
    TestCerts.Issued first = TestCerts.selfSigned(rotDir, 100);
    try (WebhookServer s =
        WebhookServer.start(
            WebhookServerConfig.defaults().withBindHost("127.0.0.1").withPort(0),
            TlsCredentials.fromPemFiles(first.certFile(), first.keyFile()),
            new AdmissionService(InjectorConfig.defaults()))) {
      int port = s.localAddress().getPort();
      assertThat(servedSerial(port, first.certificate())).isEqualTo(100);

      Path next = Files.createDirectory(rotDir.resolve("next"));
      TestCerts.Issued second = TestCerts.selfSigned(next, 200);
      Files.copy(
          second.certFile(), first.certFile(), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
      Files.copy(
          second.keyFile(), first.keyFile(), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
      FileTime later = FileTime.fromMillis(System.currentTimeMillis() + 5000);
      Files.setLastModifiedTime(first.certFile(), later);
      Files.setLastModifiedTime(first.keyFile(), later);

      assertThat(servedSerial(port, first.certificate(), second.certificate())).isEqualTo(200);
    }
  }

  private static long servedSerial(int port, X509Certificate... trusted) throws Exception {
    SSLContext ctx = TestCerts.trusting(trusted);
    try (SSLSocket s = (SSLSocket) ctx.getSocketFactory().createSocket("127.0.0.1", port)) {
      s.setSoTimeout(5000);
      s.startHandshake();
      return ((X509Certificate) s.getSession().getPeerCertificates()[0])
          .getSerialNumber()
          .longValue();
    }
  }
}
