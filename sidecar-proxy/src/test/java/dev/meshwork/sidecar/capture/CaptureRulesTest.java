package dev.meshwork.sidecar.capture;

import static org.assertj.core.api.Assertions.assertThat;

import dev.meshwork.sidecar.capture.IptablesCommand.Kind;
import java.util.List;
import org.junit.jupiter.api.Test;

class CaptureRulesTest {
  private static List<String> rules(List<IptablesCommand> plan, String chain) {
    return plan.stream()
        .filter(
            c -> c.args().contains("-A") && c.args().get(c.args().indexOf("-A") + 1).equals(chain))
        .map(c -> String.join(" ", c.args().subList(c.args().indexOf("-A") + 2, c.args().size())))
        .toList();
  }

  @Test
  void defaultsRedirectInboundTo15006AndOutboundTo15001SparingTheSidecarUid() {
    List<IptablesCommand> plan = CaptureRules.plan(CaptureConfig.defaults());

    assertThat(rules(plan, "MESHWORK_INBOUND"))
        .containsExactly(
            "-p tcp --dport 15000 -j RETURN",
            "-p tcp --dport 15020 -j RETURN",
            "-p tcp --dport 15021 -j RETURN",
            "-p tcp -j MESHWORK_IN_REDIRECT");
    assertThat(rules(plan, "MESHWORK_IN_REDIRECT"))
        .containsExactly("-p tcp -j REDIRECT --to-ports 15006");
    assertThat(rules(plan, "MESHWORK_REDIRECT"))
        .containsExactly("-p tcp -j REDIRECT --to-ports 15001");
    assertThat(rules(plan, "MESHWORK_OUTBOUND"))
        .containsExactly(
            "-o lo -s 127.0.0.6/32 -j RETURN",
            "-o lo ! -d 127.0.0.1/32 -m owner --uid-owner 1337 -j MESHWORK_IN_REDIRECT",
            "-o lo -m owner ! --uid-owner 1337 -j RETURN",
            "-m owner --uid-owner 1337 -j RETURN",
            "-d 127.0.0.1/32 -j RETURN",
            "-j MESHWORK_REDIRECT");
    assertThat(rules(plan, "PREROUTING")).containsExactly("-p tcp -j MESHWORK_INBOUND");
    assertThat(rules(plan, "OUTPUT")).containsExactly("-p tcp -j MESHWORK_OUTBOUND");
    assertThat(plan).allMatch(c -> c.args().subList(0, 2).equals(List.of("-t", "nat")));
  }

  @Test
  void exclusionsReturnBeforeTheRedirect() {
    List<IptablesCommand> plan =
        CaptureRules.plan(
            new CaptureConfig(
                15006, 15001, 1337, List.of(9000), List.of(5432), List.of("169.254.169.254/32")));
    List<String> out = rules(plan, "MESHWORK_OUTBOUND");
    assertThat(out.indexOf("-d 169.254.169.254/32 -j RETURN"))
        .isNotNegative()
        .isLessThan(out.indexOf("-j MESHWORK_REDIRECT"));
    assertThat(out.indexOf("-p tcp --dport 5432 -j RETURN"))
        .isNotNegative()
        .isLessThan(out.indexOf("-j MESHWORK_REDIRECT"));
    assertThat(rules(plan, "MESHWORK_INBOUND"))
        .containsExactly("-p tcp --dport 9000 -j RETURN", "-p tcp -j MESHWORK_IN_REDIRECT");
  }

  @Test
  void ownChainsAreFlushedBeforeFillingAndJumpsComeLast() {
    List<IptablesCommand> plan = CaptureRules.plan(CaptureConfig.defaults());
    int lastFlush = -1;
    int firstAppend = Integer.MAX_VALUE;
    for (int i = 0; i < plan.size(); i++) {
      if (plan.get(i).kind() == Kind.FLUSH_CHAIN) {
        lastFlush = i;
      }
      if (plan.get(i).kind() == Kind.APPEND) {
        firstAppend = Math.min(firstAppend, i);
      }
    }
    assertThat(lastFlush).isLessThan(firstAppend);
    assertThat(plan.subList(plan.size() - 2, plan.size()))
        .allMatch(c -> c.kind() == Kind.APPEND_UNLESS_PRESENT);
    assertThat(plan.stream().filter(c -> c.kind() == Kind.FLUSH_CHAIN).map(c -> c.args().getLast()))
        .containsExactlyInAnyOrderElementsOf(CaptureRules.CHAINS);
  }
}
