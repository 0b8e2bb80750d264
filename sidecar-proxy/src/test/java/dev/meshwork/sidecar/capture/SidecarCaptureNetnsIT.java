package dev.meshwork.sidecar.capture;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
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
 * Transparent capture end to end: real iptables REDIRECT in a network namespace sends an app's
 * connections to a made-up ClusterIP to the real sidecar (its own process, as UID 1337 like in a
 * pod), which routes each call by xDS, using the connection's original destination when the call's
 * authority names no virtual host.
 *
 * <p>Namespaces: "pod" (the app, a control plane and backends: {@link CaptureWorld}; the sidecar;
 * the capture rules) and "peer" (a plain TCP server that answers with a tag line), joined by a veth
 * pair on a private /30 that exists only inside them; the pod's default route points at the peer.
 */
@Tag("netns")
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class SidecarCaptureNetnsIT {
  static final long PID = ProcessHandle.current().pid();
  static final String POD = "h2cap-pod-" + PID;
  static final String PEER = "h2cap-peer-" + PID;
  static final String POD_IP = "10.231.9.1";
  static final String PEER_IP = "10.231.9.2";
  static final int STATUS_PORT = 15020;

  static final List<String> namespaces = new ArrayList<>();
  static final List<Process> processes = new ArrayList<>();
  static PrintStream worldIn;
  static BufferedReader worldOut;

  @BeforeAll
  static void setUp() throws Exception {
    for (String ns : List.of(POD, PEER)) {
      CaptureNetnsIT.sh("ip", "netns", "add", ns);
      namespaces.add(ns);
      CaptureNetnsIT.sh("ip", "-n", ns, "link", "set", "lo", "up");
    }
    CaptureNetnsIT.sh(
        "ip", "-n", POD, "link", "add", "eth0", "type", "veth", "peer", "name", "eth0", "netns",
        PEER);
    CaptureNetnsIT.sh("ip", "-n", POD, "addr", "add", POD_IP + "/30", "dev", "eth0");
    CaptureNetnsIT.sh("ip", "-n", PEER, "addr", "add", PEER_IP + "/30", "dev", "eth0");
    CaptureNetnsIT.sh("ip", "-n", POD, "link", "set", "eth0", "up");
    CaptureNetnsIT.sh("ip", "-n", PEER, "link", "set", "eth0", "up");
    // ClusterIPs exist nowhere: like in a pod, they are routed towards the node (here: the peer).
    CaptureNetnsIT.sh("ip", "-n", POD, "route", "add", "default", "via", PEER_IP);

    Process tags =
        new ProcessBuilder(CaptureNetnsIT.javaIn(PEER, TagServer.class.getName(), "9000=remote"))
            .redirectError(ProcessBuilder.Redirect.INHERIT)
            .start();
    processes.add(tags);
    assertThat(readLine(tags)).isEqualTo("ready");

    assertThat(
            CaptureNetnsIT.runCaptureIn(
                POD,
                "--inbound-port=15006",
                "--outbound-port=15001",
                "--proxy-uid=1337",
                "--exclude-inbound-ports=15000,15020"))
        .isZero();

    Process world =
        new ProcessBuilder(
                CaptureNetnsIT.javaIn(
                    POD, CaptureWorld.class.getName(), Integer.toString(STATUS_PORT)))
            .redirectError(ProcessBuilder.Redirect.INHERIT)
            .start();
    processes.add(world);
    worldIn = new PrintStream(world.getOutputStream(), true, StandardCharsets.UTF_8);
    worldOut =
        new BufferedReader(new InputStreamReader(world.getInputStream(), StandardCharsets.UTF_8));
    String xds = worldOut.readLine();
    assertThat(xds).startsWith("xds ");

    // The sidecar as the capture rules expect it: UID 1337, whose own connections are not
    // captured. It may read the build's class path under /root (CAP_DAC_READ_SEARCH only).
    List<String> sidecar =
        new ArrayList<>(
            List.of(
                "ip",
                "netns",
                "exec",
                POD,
                "setpriv",
                "--reuid=1337",
                "--regid=1337",
                "--clear-groups",
                "--inh-caps=+dac_read_search",
                "--ambient-caps=+dac_read_search",
                CaptureNetnsIT.java(),
                "-Xmx128m",
                "-XX:TieredStopAtLevel=1",
                "--enable-native-access=ALL-UNNAMED",
                "-cp",
                System.getProperty("java.class.path"),
                "dev.meshwork.sidecar.SidecarMain",
                "run",
                "--xds",
                xds.substring(4),
                "--namespace",
                "default",
                "--pod-name",
                "app-0",
                "--outbound-port",
                "15001",
                "--inbound-port",
                "-1",
                "--admin-port",
                "-1",
                "--status-port",
                Integer.toString(STATUS_PORT),
                "--workers",
                "1",
                "--connect-timeout",
                "1000"));
    processes.add(new ProcessBuilder(sidecar).inheritIO().start());
    assertThat(ask("ready")).isEqualTo("ready");
  }

  @AfterAll
  static void tearDown() throws Exception {
    for (Process p : processes.reversed()) {
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
  void callToAClusterIpWithItsOwnAuthorityLandsOnTheRoutedBackend() throws Exception {
    assertThat(ask("call 10.96.0.10:8080 10.96.0.10:8080")).isEqualTo("ok b0:hello");
  }

  @Test
  void unknownAuthorityIsRoutedByTheOriginalDestinationIpAndPort() throws Exception {
    assertThat(ask("call 10.96.0.10:8080 made-up.example:1234")).isEqualTo("ok b0:hello");
  }

  @Test
  void unknownAuthorityIsRoutedByTheOriginalDestinationIpAlone() throws Exception {
    // beta lists only "10.96.0.11" among its domains.
    assertThat(ask("call 10.96.0.11:8080 made-up.example")).isEqualTo("ok b1:hello");
  }

  @Test
  void garbageOnTheCapturePortIsPassedThroughAsTcp() throws Exception {
    assertThat(ask("garbage " + PEER_IP + ":9000")).isEqualTo("reply remote");
    assertThat(ask("call 10.96.0.10:8080 made-up.example")).isEqualTo("ok b0:hello");
  }

  @Test
  void garbageToADestinationThatDoesNotAnswerIsClosedAndHarmsNothing() throws Exception {
    // The passthrough's connect to the unreachable ClusterIP times out: the connection is closed.
    assertThat(ask("garbage 10.96.0.10:8080")).startsWith("closed");
    assertThat(ask("call 10.96.0.11:8080 beta.default.svc.cluster.local:8080"))
        .isEqualTo("ok b1:hello");
  }

  private static String ask(String command) throws Exception {
    worldIn.println(command);
    String answer = worldOut.readLine();
    assertThat(answer).as("answer to '%s'", command).isNotNull();
    return answer;
  }

  private static String readLine(Process p) throws Exception {
    return new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.US_ASCII))
        .readLine();
  }
}
