package dev.meshwork.sidecar.capture;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The capture command with real iptables, in two network namespaces joined by a veth pair on a
 * private /30 that exists only inside them: "pod" (the capture runs here, with stand-ins for the
 * sidecar's 15001 and 15006 listeners) and "peer" (a remote server, and a remote client).
 */
@Tag("netns")
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class CaptureNetnsIT {
  static final long PID = ProcessHandle.current().pid();
  static final String POD = "mwcap-pod-" + PID;
  static final String PEER = "mwcap-peer-" + PID;
  static final String POD_IP = "10.231.7.1";
  static final String PEER_IP = "10.231.7.2";

  static final List<Process> servers = new ArrayList<>();
  static final List<String> namespaces = new ArrayList<>();
  static String firstSave;

  @BeforeAll
  static void setUp() throws Exception {
    for (String ns : List.of(POD, PEER)) {
      sh("ip", "netns", "add", ns);
      namespaces.add(ns);
      sh("ip", "-n", ns, "link", "set", "lo", "up");
    }
    sh(
        "ip", "-n", POD, "link", "add", "eth0", "type", "veth", "peer", "name", "eth0", "netns",
        PEER);
    sh("ip", "-n", POD, "addr", "add", POD_IP + "/30", "dev", "eth0");
    sh("ip", "-n", PEER, "addr", "add", PEER_IP + "/30", "dev", "eth0");
    sh("ip", "-n", POD, "link", "set", "eth0", "up");
    sh("ip", "-n", PEER, "link", "set", "eth0", "up");

    startServer(PEER, "9090=remote", "5432=remote-excluded");
    // Stand-ins for the sidecar's listeners, plus the metrics port that must not be captured.
    startServer(POD, "15001=sidecar-outbound", "15006=sidecar-inbound", "15020=metrics");

    String[] args = {
      "--inbound-port=15006",
      "--outbound-port=15001",
      "--proxy-uid=1337",
      "--exclude-inbound-ports=15000,15020,15021",
      "--exclude-outbound-ports=5432"
    };
    assertThat(runCapture(args)).as("first capture run").isZero();
    firstSave = natRules();
    assertThat(runCapture(args)).as("second capture run").isZero();
  }

  @AfterAll
  static void tearDown() throws Exception {
    for (Process p : servers) {
      p.destroyForcibly();
      p.waitFor(5, TimeUnit.SECONDS);
    }
    for (String ns : namespaces) {
      new ProcessBuilder("ip", "netns", "del", ns)
          .inheritIO()
          .start()
          .waitFor(10, TimeUnit.SECONDS);
    }
  }

  @Test
  void appConnectionToARemotePortReachesTheOutboundListener() throws Exception {
    assertThat(connect(POD, null, PEER_IP, 9090)).isEqualTo("sidecar-outbound");
  }

  @Test
  void sidecarUidConnectsToTheRemoteDirectly() throws Exception {
    assertThat(connect(POD, 1337L, PEER_IP, 9090)).isEqualTo("remote");
  }

  @Test
  void otherUidsAreCapturedToo() throws Exception {
    assertThat(connect(POD, 1000L, PEER_IP, 9090)).isEqualTo("sidecar-outbound");
  }

  @Test
  void excludedOutboundPortIsNotCaptured() throws Exception {
    assertThat(connect(POD, null, PEER_IP, 5432)).isEqualTo("remote-excluded");
  }

  @Test
  void inboundConnectionToAnAppPortReachesTheInboundListener() throws Exception {
    assertThat(connect(PEER, null, POD_IP, 8080)).isEqualTo("sidecar-inbound");
  }

  @Test
  void excludedInboundPortReachesItsOwnListener() throws Exception {
    assertThat(connect(PEER, null, POD_IP, 15020)).isEqualTo("metrics");
  }

  @Test
  void rerunLeavesTheSameRules() throws Exception {
    assertThat(natRules()).isEqualTo(firstSave);
    assertThat(firstSave.lines().filter(l -> l.equals("-A OUTPUT -p tcp -j MESHWORK_OUTBOUND")))
        .hasSize(1);
    assertThat(firstSave.lines().filter(l -> l.equals("-A PREROUTING -p tcp -j MESHWORK_INBOUND")))
        .hasSize(1);
  }

  // --- helpers ---------------------------------------------------------------------------------

  static String java() {
    return ProcessHandle.current()
        .info()
        .command()
        .orElse(System.getProperty("java.home") + "/bin/java");
  }

  static List<String> javaIn(String ns, String mainClass, String... args) {
    List<String> cmd =
        new ArrayList<>(
            List.of(
                "ip",
                "netns",
                "exec",
                ns,
                java(),
                "-Xmx64m",
                "-XX:TieredStopAtLevel=1",
                "-cp",
                System.getProperty("java.class.path"),
                mainClass));
    cmd.addAll(List.of(args));
    return cmd;
  }

  static void startServer(String ns, String... tags) throws Exception {
    Process p =
        new ProcessBuilder(javaIn(ns, TagServer.class.getName(), tags))
            .redirectError(ProcessBuilder.Redirect.INHERIT)
            .start();
    servers.add(p);
    BufferedReader r =
        new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.US_ASCII));
    assertThat(r.readLine()).as("tag server in %s", ns).isEqualTo("ready");
  }

  static int runCapture(String... args) throws Exception {
    return runCaptureIn(POD, args);
  }

  static int runCaptureIn(String ns, String... args) throws Exception {
    Process p =
        new ProcessBuilder(javaIn(ns, CaptureMainForTest.class.getName(), args))
            .inheritIO()
            .start();
    if (!p.waitFor(60, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new AssertionError("capture did not finish");
    }
    return p.exitValue();
  }

  static String natRules() throws Exception {
    return run("ip", "netns", "exec", POD, "iptables-save", "-t", "nat")
        .lines()
        .filter(l -> l.startsWith("-A") || l.startsWith(":MESHWORK"))
        .reduce("", (a, b) -> a + b + "\n");
  }

  /**
   * Opens a TCP connection from {@code ns} (as {@code uid} when set) and returns the first line.
   */
  static String connect(String ns, Long uid, String ip, int port) throws Exception {
    List<String> cmd = new ArrayList<>(List.of("ip", "netns", "exec", ns));
    if (uid != null) {
      cmd.addAll(List.of("setpriv", "--reuid=" + uid, "--regid=" + uid, "--clear-groups"));
    }
    cmd.addAll(
        List.of(
            "timeout",
            "5",
            "bash",
            "-c",
            "exec 3<>/dev/tcp/" + ip + "/" + port + " && head -n 1 <&3"));
    return run(cmd.toArray(String[]::new)).strip();
  }

  static String run(String... cmd) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(20, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new AssertionError(String.join(" ", cmd) + " did not finish");
    }
    return out;
  }

  static void sh(String... cmd) throws Exception {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(20, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new AssertionError(String.join(" ", cmd) + " failed: " + out);
    }
  }
}
