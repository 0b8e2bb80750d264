package dev.meshwork.meshctl.demo;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Option;

/**
 * {@code meshctl demo}: the whole mesh on this machine with no cluster. The control plane reads a
 * folder of YAML (Services, a GRPCRoute canary, PeerAuthentication STRICT) and hosts the CA; each
 * sample service runs behind its own sidecar on loopback; the caller drives traffic; the view shows
 * per-call balancing, the canary split, mTLS identities and latency. Editing the folder changes
 * routing live.
 */
@Command(
    name = "demo",
    mixinStandardHelpOptions = true,
    description = {
      "Run the whole mesh on this machine, with no cluster.",
      "Edit the YAML in the config folder while it runs to change routing live."
    })
public final class DemoCommand implements Callable<Integer> {

  @Option(
      names = "--duration",
      description = "Stop after this long (e.g. 30s, 2m) and make one live edit halfway.",
      converter = DurationConverter.class)
  Duration duration;

  @Option(names = "--no-tui", description = "Print progress lines instead of a live screen.")
  boolean noTui;

  @Option(
      names = {"-o", "--output"},
      description =
          "Summary format: text or json (json: one object on stdout, progress on stderr).",
      defaultValue = "text")
  String output;

  @Option(
      names = "--config-dir",
      description = "Folder of mesh YAML to use (samples are copied there when it is empty).")
  Path configDir;

  @Option(
      names = "--rate",
      description = "Calls per second the caller makes.",
      defaultValue = "100")
  int rate;

  @Override
  public Integer call() throws Exception {
    if (!output.equals("text") && !output.equals("json")) {
      System.err.println("meshctl demo: -o must be text or json, not '" + output + "'");
      return 2;
    }
    boolean json = output.equals("json");
    boolean tui = !noTui && !json && System.console() != null;
    PrintStream progress = json ? System.err : System.out;
    Path home = Path.of(System.getProperty("meshwork.home", ".")).toAbsolutePath().normalize();
    Path work = Files.createTempDirectory("meshwork-demo-");
    Path config = configDir != null ? configDir.toAbsolutePath() : work.resolve("config");
    copySamplesIfEmpty(config);

    TrafficStats stats = new TrafficStats(Duration.ofSeconds(2).toNanos());
    java.util.concurrent.CompletableFuture<DemoSummary.Warmup> warmup =
        new java.util.concurrent.CompletableFuture<>();
    LiveEdit edit = new LiveEdit(config.resolve("20-greeter-route.yaml"));
    List<String> events = Collections.synchronizedList(new ArrayList<>());
    long launched = System.nanoTime();
    DemoSummary[] finalSummary = new DemoSummary[1];

    try (ProcessSupervisor supervisor = new ProcessSupervisor()) {
      DemoTopology topology = DemoTopology.plan(home, work, config, rate);
      progress.println("Meshwork demo: logs in " + work + ", config in " + config);
      for (DemoTopology.Component c : topology.components()) {
        progress.printf("  starting %-24s ", c.name());
        progress.flush();
        long t0 = System.nanoTime();
        ProcessSupervisor.Child child =
            c.statsStream()
                ? supervisor.startReading(
                    c.name(),
                    c.command(),
                    work.resolve(c.name() + ".log"),
                    line -> {
                      DemoSummary.Warmup.parse(line).ifPresent(warmup::complete);
                      TrafficStats.Interval i = stats.accept(line, System.nanoTime());
                      if (i != null) {
                        edit.observe(i);
                      }
                    })
                : supervisor.start(c.name(), c.command(), work.resolve(c.name() + ".log"));
        if (c.readyUrl() != null) {
          supervisor.awaitHttpOk(child, c.readyUrl(), Duration.ofSeconds(60));
        }
        progress.printf("ready in %4d ms%n", (System.nanoTime() - t0) / 1_000_000);
      }
      progress.printf(
          "All components ready in %.1fs; warming up (calls one at a time)...%n",
          (System.nanoTime() - launched) / 1e9);
      DemoSummary.Warmup w;
      try {
        w = warmup.get(90, java.util.concurrent.TimeUnit.SECONDS);
      } catch (java.util.concurrent.TimeoutException e) {
        throw new DemoException("the caller did not finish warming up within 90s; see " + work);
      }
      if (!w.succeeded()) {
        throw new DemoException(
            "calls through the mesh kept failing while warming up ("
                + w.lastError()
                + "); see "
                + work);
      }
      progress.printf(
          "Warm-up: %d calls in %.1fs (%d failed while the JVMs started); traffic is flowing.%n",
          w.calls(), w.seconds(), w.errors());
      // --duration counts traffic time, so a scripted run gets the same amount of it however long
      // the start-up took on this machine.
      long start = System.nanoTime();

      ConfigProblems problems = new ConfigProblems(work.resolve("control-plane.log"));
      problems.poll(); // start-up messages are not edits
      List<String> refused = new ArrayList<>();
      long end = duration == null ? Long.MAX_VALUE : start + duration.toNanos();
      long editAt = duration == null ? Long.MAX_VALUE : start + duration.toNanos() / 2;
      long nextLine = System.nanoTime();
      while (System.nanoTime() < end) {
        Thread.sleep(tui ? 1000 : 250);
        long now = System.nanoTime();
        double elapsed = (now - start) / 1e9;
        if (now >= editAt && !edit.started()) {
          edit.apply(now);
          events.add(
              String.format("%.0fs: live edit: greeter-canary weights 90/10 -> 50/50", elapsed));
        }
        for (String problem : problems.poll()) {
          // A refused edit: the control plane kept the last good config; say so where users look.
          String event =
              String.format(
                  "%.0fs: config problem (last good routing stays): %s", elapsed, problem);
          events.add(event);
          refused.add(problem);
          if (!tui) {
            progress.println(event);
          }
        }
        if (supervisor.closing()) {
          // Ctrl-C or SIGTERM: the shutdown hook is stopping every component; say so and stop.
          progress.println("Stopping: every component of the demo is being shut down.");
          return 130;
        }
        for (ProcessSupervisor.Child dead : supervisor.dead()) {
          throw new DemoException(
              dead.name()
                  + " stopped unexpectedly (exit "
                  + dead.process().exitValue()
                  + "); see "
                  + dead.log());
        }
        TrafficStats.Snapshot s = stats.snapshot();
        if (tui) {
          System.out.print(
              LiveView.screen(s, elapsed, config.toString(), topology.adminUrls(), events));
          System.out.flush();
        } else if (now >= nextLine) {
          progress.println(LiveView.line(s, elapsed));
          nextLine = now + Duration.ofSeconds(5).toNanos();
        }
      }
      finalSummary[0] =
          DemoSummary.of(
              stats.snapshot(),
              edit.result(),
              (System.nanoTime() - start) / 1e9,
              config.toString(),
              topology.adminUrls(),
              warmup.getNow(null),
              List.copyOf(refused));
    } catch (DemoException e) {
      System.err.println("meshctl demo failed: " + e.getMessage());
      return 1;
    }
    DemoSummary summary = finalSummary[0];
    if (json) {
      System.out.println(
          new ObjectMapper()
              .enable(SerializationFeature.INDENT_OUTPUT)
              .writeValueAsString(summary));
    } else {
      System.out.print(LiveView.summary(summary));
    }
    return 0;
  }

  /** Copies the shipped sample YAML into {@code dir} unless the user brought their own. */
  static void copySamplesIfEmpty(Path dir) throws IOException {
    Files.createDirectories(dir);
    try (var existing = Files.list(dir)) {
      if (existing.findAny().isPresent()) {
        return;
      }
    }
    for (String name : DemoTopology.SAMPLE_FILES) {
      try (InputStream in = DemoCommand.class.getResourceAsStream("/demo/config/" + name)) {
        if (in == null) {
          throw new IOException("sample " + name + " is missing from the meshctl jar");
        }
        Files.writeString(dir.resolve(name), new String(in.readAllBytes(), StandardCharsets.UTF_8));
      }
    }
  }

  /** Accepts {@code 500ms}, {@code 30s}, {@code 2m}, {@code 1h}, or ISO-8601 {@code PT30S}. */
  static final class DurationConverter implements ITypeConverter<Duration> {
    @Override
    public Duration convert(String value) {
      var m = java.util.regex.Pattern.compile("(\\d+)(ms|s|m|h)").matcher(value.trim());
      if (m.matches()) {
        long n = Long.parseLong(m.group(1));
        return switch (m.group(2)) {
          case "ms" -> Duration.ofMillis(n);
          case "s" -> Duration.ofSeconds(n);
          case "m" -> Duration.ofMinutes(n);
          default -> Duration.ofHours(n);
        };
      }
      try {
        return Duration.parse(value);
      } catch (java.time.format.DateTimeParseException e) {
        throw new IllegalArgumentException("not a duration: '" + value + "' (try 30s, 2m, 500ms)");
      }
    }
  }
}
