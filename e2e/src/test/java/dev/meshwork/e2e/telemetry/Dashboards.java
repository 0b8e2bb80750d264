package dev.meshwork.e2e.telemetry;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/** The Grafana dashboards of {@code manifests/grafana/}, read as JSON: variables and queries. */
final class Dashboards {
  private static final ObjectMapper JSON = new ObjectMapper();

  private Dashboards() {}

  /** {@code manifests/grafana} of this checkout (tests run in the module folder). */
  static Path folder() {
    for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
      Path f = p.resolve("manifests/grafana");
      if (Files.isDirectory(f)) {
        return f;
      }
    }
    throw new IllegalStateException(
        "manifests/grafana not found above " + Path.of("").toAbsolutePath());
  }

  /** One query of one panel. */
  record Query(String dashboard, String panel, String refId, String expr, String legend) {
    /** The expression with Grafana's variables replaced by {@code values} (name without $). */
    String substituted(Map<String, String> values) {
      String e = expr;
      for (var v : values.entrySet()) {
        e =
            e.replace("${" + v.getKey() + "}", v.getValue())
                .replace("$" + v.getKey(), v.getValue());
      }
      return e;
    }
  }

  /** A template variable: name, type and (for query variables) its query. */
  record Variable(String dashboard, String name, String type, String query) {}

  static List<Path> files() {
    try (Stream<Path> s = Files.list(folder())) {
      return s.filter(p -> p.toString().endsWith(".json")).sorted().toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static JsonNode read(Path file) {
    try {
      return JSON.readTree(file.toFile());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Every panel (rows' nested panels included). */
  static List<JsonNode> panels(JsonNode dashboard) {
    List<JsonNode> out = new ArrayList<>();
    for (JsonNode p : dashboard.path("panels")) {
      out.add(p);
      p.path("panels").forEach(out::add);
    }
    return out;
  }

  static List<Query> queries() {
    List<Query> out = new ArrayList<>();
    for (Path f : files()) {
      JsonNode d = read(f);
      String title = d.path("title").asText(f.getFileName().toString());
      for (JsonNode p : panels(d)) {
        for (JsonNode t : p.path("targets")) {
          out.add(
              new Query(
                  title,
                  p.path("title").asText(),
                  t.path("refId").asText(),
                  t.path("expr").asText(),
                  t.path("legendFormat").asText("")));
        }
      }
    }
    return out;
  }

  static List<Variable> variables() {
    List<Variable> out = new ArrayList<>();
    for (Path f : files()) {
      JsonNode d = read(f);
      for (JsonNode v : d.path("templating").path("list")) {
        JsonNode q = v.path("query");
        out.add(
            new Variable(
                d.path("title").asText(),
                v.path("name").asText(),
                v.path("type").asText(),
                q.isObject() ? q.path("query").asText() : q.asText()));
      }
    }
    return out;
  }
}
