package dev.meshwork.e2e.telemetry;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
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
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;

/**
 * A real Prometheus (Debian's {@code /usr/bin/prometheus}) started for one test on loopback,
 * scraping the given targets every second, and its HTTP query API.
 */
final class Prometheus implements AutoCloseable {
  static final Path BINARY =
      Path.of(System.getenv().getOrDefault("PROMETHEUS", "/usr/bin/prometheus"));
  private static final ObjectMapper JSON = new ObjectMapper();

  private final Process process;
  private final String base;
  private final HttpClient http = HttpClient.newHttpClient();

  /**
   * @param jobs job name to {@code host:port} targets (all scraped at /metrics)
   */
  Prometheus(Path work, Map<String, List<String>> jobs) throws Exception {
    Files.createDirectories(work);
    StringBuilder config =
        new StringBuilder("global: {scrape_interval: 1s, scrape_timeout: 1s}\nscrape_configs:\n");
    jobs.forEach(
        (job, targets) ->
            config
                .append("  - job_name: ")
                .append(job)
                .append("\n    static_configs: [{targets: [")
                .append(String.join(", ", targets.stream().map(t -> "'" + t + "'").toList()))
                .append("]}]\n"));
    Path file = work.resolve("prometheus.yml");
    Files.writeString(file, config);
    int port = TelemetryMesh.freePort();
    base = "http://127.0.0.1:" + port;
    process =
        new ProcessBuilder(
                BINARY.toString(),
                "--config.file=" + file,
                "--storage.tsdb.path=" + work.resolve("data"),
                "--web.listen-address=127.0.0.1:" + port,
                "--log.level=warn")
            .redirectErrorStream(true)
            .redirectOutput(work.resolve("prometheus.log").toFile())
            .start();
    Awaitility.await("Prometheus ready on " + base)
        .atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofMillis(200))
        .until(
            () -> {
              if (!process.isAlive()) {
                throw new IllegalStateException(
                    "prometheus exited: " + Files.readString(work.resolve("prometheus.log")));
              }
              try {
                return get("/-/ready").statusCode() == 200;
              } catch (IOException notYet) {
                return false;
              }
            });
  }

  private HttpResponse<String> get(String pathAndQuery) throws IOException, InterruptedException {
    return http.send(
        HttpRequest.newBuilder(URI.create(base + pathAndQuery))
            .timeout(Duration.ofSeconds(10))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private JsonNode api(String pathAndQuery) throws IOException, InterruptedException {
    HttpResponse<String> r = get(pathAndQuery);
    JsonNode body = JSON.readTree(r.body());
    if (r.statusCode() != 200 || !"success".equals(body.path("status").asText())) {
      throw new AssertionError(
          "Prometheus refused " + pathAndQuery + ": " + r.statusCode() + " " + r.body());
    }
    return body.path("data");
  }

  private static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }

  /** One series of an instant query: its labels and value. */
  record Sample(Map<String, String> labels, double value) {}

  /** An instant query evaluated at {@code timeSeconds} (Unix time). */
  List<Sample> query(String promql, double timeSeconds) throws IOException, InterruptedException {
    JsonNode data = api("/api/v1/query?query=" + enc(promql) + "&time=" + timeSeconds);
    if (!"vector".equals(data.path("resultType").asText())) {
      throw new AssertionError("expected a vector from " + promql + ", got " + data);
    }
    List<Sample> out = new ArrayList<>();
    for (JsonNode r : data.path("result")) {
      Map<String, String> labels = new java.util.TreeMap<>();
      r.path("metric")
          .fields()
          .forEachRemaining(e -> labels.put(e.getKey(), e.getValue().asText()));
      out.add(new Sample(labels, Double.parseDouble(r.path("value").get(1).asText())));
    }
    return out;
  }

  /** The value of a query that yields one series, or NaN when it yields none. */
  double scalar(String promql) throws IOException, InterruptedException {
    List<Sample> s = query(promql, System.currentTimeMillis() / 1000.0);
    return s.isEmpty() ? Double.NaN : s.getFirst().value();
  }

  /** What Grafana's {@code label_values(selector, label)} lists: the label's values. */
  List<String> labelValues(String label, String selector) throws IOException, InterruptedException {
    String q = "/api/v1/label/" + label + "/values";
    if (selector != null) {
      q += "?match[]=" + enc(selector);
    }
    List<String> out = new ArrayList<>();
    api(q).forEach(v -> out.add(v.asText()));
    return out;
  }

  /** Scrape health per target: {@code instance -> up}. */
  Map<String, Double> up() throws IOException, InterruptedException {
    Map<String, Double> out = new java.util.TreeMap<>();
    for (Sample s : query("up", System.currentTimeMillis() / 1000.0)) {
      out.put(s.labels().get("instance"), s.value());
    }
    return out;
  }

  @Override
  public void close() throws InterruptedException {
    process.destroy();
    if (!process.waitFor(10, TimeUnit.SECONDS)) {
      process.destroyForcibly();
    }
  }
}
