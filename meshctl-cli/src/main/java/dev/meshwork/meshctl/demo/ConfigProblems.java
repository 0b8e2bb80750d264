package dev.meshwork.meshctl.demo;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Tells the user when an edit of the config folder was refused. The control plane logs every file
 * it cannot parse and every route it rejects (keeping the last good version in force) at WARN or
 * ERROR; this follows its log and turns those lines into demo events.
 *
 * <p>Confined to the demo thread.
 */
final class ConfigProblems {
  // "12:00:00.000 WARN  [thread] Logger - message" (the control plane's log pattern).
  private static final Pattern PROBLEM =
      Pattern.compile("^\\S+\\s+(WARN|ERROR)\\s+\\[[^]]*]\\s+(\\S+)\\s+-\\s+(.*)$");

  private final Path log;
  private long offset;

  ConfigProblems(Path log) {
    this.log = log;
  }

  /** Problems logged since the last call, as one-line messages. */
  List<String> poll() {
    List<String> out = new ArrayList<>();
    try (RandomAccessFile f = new RandomAccessFile(log.toFile(), "r")) {
      if (f.length() < offset) {
        offset = 0; // the log was replaced
      }
      f.seek(offset);
      byte[] rest = new byte[(int) Math.min(f.length() - offset, 1 << 20)];
      f.readFully(rest);
      String text = new String(rest, StandardCharsets.UTF_8);
      int lastNewline = text.lastIndexOf('\n');
      if (lastNewline < 0) {
        return out; // no complete line yet
      }
      offset += text.substring(0, lastNewline + 1).getBytes(StandardCharsets.UTF_8).length;
      for (String line : text.substring(0, lastNewline).split("\n")) {
        problem(line).ifPresent(out::add);
      }
    } catch (IOException e) {
      // No log yet: nothing to report.
    }
    return out;
  }

  static java.util.Optional<String> problem(String line) {
    Matcher m = PROBLEM.matcher(line);
    if (!m.matches()) {
      return java.util.Optional.empty();
    }
    return java.util.Optional.of(m.group(3));
  }
}
