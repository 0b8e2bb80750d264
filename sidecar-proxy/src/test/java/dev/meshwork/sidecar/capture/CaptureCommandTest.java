package dev.meshwork.sidecar.capture;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class CaptureCommandTest {
  private record Run(int code, String out, String err) {}

  private static Run run(String... args) {
    var out = new ByteArrayOutputStream();
    var err = new ByteArrayOutputStream();
    int code =
        CaptureCommand.run(
            args,
            new PrintStream(out, true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8));
    return new Run(
        code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }

  @Test
  void dryRunPrintsTheRulesTheInjectorAsksFor() {
    // The exact arguments the injector writes into the init container.
    Run r =
        run(
            "--inbound-port=15006",
            "--outbound-port=15001",
            "--proxy-uid=1337",
            "--exclude-inbound-ports=15000,15020,15021",
            "--exclude-outbound-ports=5432",
            "--exclude-outbound-cidrs=10.96.0.0/12",
            "--dry-run");
    assertThat(r.code()).isZero();
    assertThat(r.out())
        .contains("iptables -t nat -N MESHWORK_INBOUND 2>/dev/null || true")
        .contains("iptables -t nat -F MESHWORK_OUTBOUND")
        .contains("iptables -t nat -A MESHWORK_OUTBOUND -m owner --uid-owner 1337 -j RETURN")
        .contains("iptables -t nat -A MESHWORK_OUTBOUND -p tcp --dport 5432 -j RETURN")
        .contains("iptables -t nat -A MESHWORK_OUTBOUND -d 10.96.0.0/12 -j RETURN")
        .contains("iptables -t nat -A MESHWORK_IN_REDIRECT -p tcp -j REDIRECT --to-ports 15006")
        .contains(
            "iptables -t nat -C OUTPUT -p tcp -j MESHWORK_OUTBOUND 2>/dev/null"
                + " || iptables -t nat -A OUTPUT -p tcp -j MESHWORK_OUTBOUND")
        .contains("'!'");
  }

  @Test
  void spaceSeparatedFlagsAndAnotherBinaryWork() {
    Run r = run("--iptables", "iptables-legacy", "--outbound-port", "16001", "--dry-run");
    assertThat(r.code()).isZero();
    assertThat(r.out())
        .contains(
            "iptables-legacy -t nat -A MESHWORK_REDIRECT -p tcp -j REDIRECT --to-ports 16001");
  }

  @Test
  void badFlagsExitTwoWithAMessage() {
    assertThat(run("--exclude-outbound-ports=http", "--dry-run"))
        .satisfies(r -> assertThat(r.code()).isEqualTo(2))
        .satisfies(
            r -> assertThat(r.err()).contains("--exclude-outbound-ports").contains("'http'"));
    assertThat(run("--exclude-outbound-cidrs=10.0.0.0/40").err()).contains("IPv4 CIDRs");
    assertThat(run("--proxy-uid=root").err()).contains("numeric UID");
    assertThat(run("--what=1").err()).contains("unknown flag --what");
    assertThat(run("--inbound-port").err()).contains("needs a value");
  }

  @Test
  void missingBinaryIsExitOneWithAClearMessage() {
    Run r = run("--iptables=/nonexistent/iptables");
    assertThat(r.code()).isEqualTo(1);
    assertThat(r.err()).contains("cannot run /nonexistent/iptables");
  }
}
