package dev.meshwork.injector;

import dev.meshwork.injector.admission.AdmissionService;
import dev.meshwork.injector.server.TlsCredentials;
import dev.meshwork.injector.server.WebhookServer;
import dev.meshwork.injector.server.WebhookServerConfig;
import dev.meshwork.injector.template.InjectorConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;

/**
 * Runs the webhook alone (the control plane embeds {@link WebhookServer} instead). Flags:
 *
 * <pre>
 * --tls-cert=PATH              PEM certificate chain (required; reloaded when it changes)
 * --tls-key=PATH               PEM PKCS#8 private key (required)
 * --port=15017                 0 picks a free port; the bound port is logged
 * --bind=0.0.0.0
 * --sidecar-image=IMAGE        default: the image this build names
 * --control-plane-address=HOST:PORT
 * --max-body-bytes=8388608
 * --read-timeout-ms=10000
 * </pre>
 *
 * Exits 2 on a bad flag, 1 when it cannot start, and runs until SIGTERM otherwise.
 */
public final class WebhookMain {
  private WebhookMain() {}

  /** Parsed flags. */
  record Options(Path cert, Path key, WebhookServerConfig server, InjectorConfig injector) {}

  public static void main(String[] args) throws InterruptedException {
    Options options;
    try {
      options = parse(args);
    } catch (IllegalArgumentException e) {
      System.err.println("webhook: " + e.getMessage());
      System.err.println(
          "usage: WebhookMain --tls-cert=PATH --tls-key=PATH [--port=15017] [--bind=0.0.0.0]"
              + " [--sidecar-image=IMAGE] [--control-plane-address=HOST:PORT]"
              + " [--max-body-bytes=N] [--read-timeout-ms=N]");
      System.exit(2);
      return;
    }
    WebhookServer server;
    try {
      server =
          WebhookServer.start(
              options.server(),
              TlsCredentials.fromPemFiles(options.cert(), options.key()),
              new AdmissionService(options.injector()));
    } catch (RuntimeException e) {
      System.err.println("webhook: cannot start: " + e.getMessage());
      System.exit(1);
      return;
    }
    // Machine-readable line for harnesses that start it with --port=0.
    System.out.println("listening " + server.localAddress().getPort());
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  server.close();
                  stopped.countDown();
                },
                "webhook-shutdown"));
    stopped.await();
  }

  static Options parse(String[] args) {
    Path cert = null;
    Path key = null;
    WebhookServerConfig server = WebhookServerConfig.defaults();
    InjectorConfig injector = InjectorConfig.defaults();
    for (String arg : args) {
      int eq = arg.indexOf('=');
      if (!arg.startsWith("--") || eq < 0) {
        throw new IllegalArgumentException("expected --flag=value, got '" + arg + "'");
      }
      String name = arg.substring(2, eq);
      String value = arg.substring(eq + 1);
      switch (name) {
        case "tls-cert" -> cert = Path.of(value);
        case "tls-key" -> key = Path.of(value);
        case "port" -> server = server.withPort(integer(name, value));
        case "bind" -> server = server.withBindHost(value);
        case "max-body-bytes" -> server = server.withMaxBodyBytes(integer(name, value));
        case "read-timeout-ms" ->
            server = server.withReadTimeout(Duration.ofMillis(integer(name, value)));
        case "sidecar-image" -> injector = injector.withSidecarImage(value);
        case "control-plane-address" -> injector = injector.withControlPlaneAddress(value);
        default -> throw new IllegalArgumentException("unknown flag --" + name);
      }
    }
    if (cert == null || key == null) {
      throw new IllegalArgumentException("--tls-cert and --tls-key are required");
    }
    return new Options(cert, key, server, injector);
  }

  private static int integer(String name, String value) {
    try {
      return Integer.parseInt(value);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("--" + name + " needs a number, got '" + value + "'");
    }
  }
}
