package dev.meshwork.bench.controlplane;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

/**
 * Puts this scenario's figures next to the others' without touching them: its row in the results
 * JSON, its section in {@code docs/benchmarks.md} (between its own markers).
 */
final class ResultsFile {
  private ResultsFile() {}

  static final String BEGIN = "<!-- controlplane:begin (written by ControlPlaneBench) -->";
  static final String END = "<!-- controlplane:end -->";

  /**
   * Replaces the {@code controlplane} row of the same xDS variant in {@code results} (or adds it);
   * keeps every other row. Returns every controlplane row now in the file.
   */
  static List<Map<String, Object>> mergeRow(Path json, Map<String, Object> row, Path home)
      throws IOException {
    ObjectMapper mapper = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    ObjectNode doc =
        Files.exists(json)
            ? (ObjectNode) mapper.readTree(json.toFile())
            : mapper.createObjectNode();
    if (!doc.has("machine")) {
      ObjectNode m = doc.putObject("machine");
      m.put("cores", Runtime.getRuntime().availableProcessors());
      m.put("kernel", System.getProperty("os.name") + " " + System.getProperty("os.version"));
      m.put("jdk", Runtime.version().toString());
    }
    if (!doc.has("commit")) {
      doc.put("commit", commit(home));
    }
    ArrayNode kept = mapper.createArrayNode();
    if (doc.has("results")) {
      doc.get("results")
          .forEach(
              r -> {
                if (!"controlplane".equals(r.path("scenario").asText())
                    || !row.get("xds").equals(r.path("xds").asText("sotw"))) {
                  kept.add(r);
                }
              });
    }
    kept.add(mapper.valueToTree(row));
    doc.set("results", kept);
    Files.createDirectories(json.getParent());
    mapper.writeValue(json.toFile(), doc);
    List<Map<String, Object>> rows = new ArrayList<>();
    for (JsonNode r : kept) {
      if ("controlplane".equals(r.path("scenario").asText())) {
        rows.add(mapper.convertValue(r, new TypeReference<Map<String, Object>>() {}));
      }
    }
    rows.sort(Comparator.comparing(r -> String.valueOf(r.get("xds")), Comparator.reverseOrder()));
    return rows;
  }

  /** Replaces the text between this scenario's markers, or appends the section. */
  static void mergeSection(Path markdown, String section) throws IOException {
    Files.createDirectories(markdown.getParent());
    String page = Files.exists(markdown) ? Files.readString(markdown) : "# Benchmarks\n";
    Files.writeString(markdown, merge(page, section));
  }

  static String merge(String page, String section) {
    String block = BEGIN + "\n" + section.strip() + "\n" + END;
    int b = page.indexOf(BEGIN);
    int e = page.indexOf(END);
    if (b >= 0 && e > b) {
      return page.substring(0, b) + block + page.substring(e + END.length());
    }
    return page.stripTrailing() + "\n\n" + block + "\n";
  }

  private static String commit(Path home) {
    try {
      Process p =
          new ProcessBuilder("git", "-C", home.toString(), "rev-parse", "--short", "HEAD").start();
      String out = new String(p.getInputStream().readAllBytes()).trim();
      return p.waitFor() == 0 ? out : "unknown";
    } catch (IOException | InterruptedException e) {
      return "unknown";
    }
  }
}
