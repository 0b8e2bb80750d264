package dev.meshwork.sidecar;

import dev.meshwork.api.logging.LogFormat;
import dev.meshwork.sidecar.xds.DescriptorWarmUp;
import java.lang.reflect.Method;
import java.util.Arrays;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Entry point: {@code run} (default) starts the proxy; {@code capture} installs the iptables rules
 * (delegated to {@code dev.meshwork.sidecar.capture.CaptureCommand} when present).
 */
public final class SidecarMain {
  private static final Logger log = LoggerFactory.getLogger(SidecarMain.class);
  private static final String CAPTURE_CLASS = "dev.meshwork.sidecar.capture.CaptureCommand";

  private SidecarMain() {}

  public static void main(String[] args) throws Exception {
    LogFormat.requireValidEnvironment();
    String cmd = args.length > 0 && !args[0].startsWith("--") ? args[0] : "run";
    String[] rest =
        args.length > 0 && !args[0].startsWith("--")
            ? Arrays.copyOfRange(args, 1, args.length)
            : args;
    switch (cmd) {
      case "run" -> run(rest);
      case "capture" -> System.exit(capture(rest));
      case "help", "-h" -> System.out.print(SidecarConfig.USAGE);
      default -> {
        System.err.println("unknown command '" + cmd + "'\n" + SidecarConfig.USAGE);
        System.exit(2);
      }
    }
  }

  private static void run(String[] args) throws Exception {
    // While this thread starts everything else, another builds what the first xDS response needs.
    DescriptorWarmUp.start();
    SidecarConfig config;
    try {
      config = SidecarConfig.parse(args, System::getenv);
    } catch (IllegalArgumentException e) {
      System.err.println(e.getMessage());
      System.exit(2);
      return;
    }
    Sidecar sidecar = Sidecar.start(config);
    CountDownLatch stopped = new CountDownLatch(1);
    // SIGTERM runs shutdown hooks: drain (GOAWAY, finish calls in flight up to the bound), then
    // exit.
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  sidecar.drain();
                  stopped.countDown();
                },
                "meshwork-drain"));
    log.info("sidecar.started node={}/{}", config.namespace(), config.podName());
    stopped.await();
  }

  /** The capture command lives in its own package (owned separately); call it reflectively. */
  private static int capture(String[] args) throws Exception {
    Class<?> c;
    try {
      c = Class.forName(CAPTURE_CLASS);
    } catch (ClassNotFoundException e) {
      System.err.println("capture is not available in this build");
      return 2;
    }
    Method m = c.getMethod("run", String[].class);
    return (int) m.invoke(null, (Object) args);
  }
}
