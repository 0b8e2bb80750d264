package dev.meshwork.controlplane.model;

import static org.assertj.core.api.Assertions.assertThat;

import dev.meshwork.api.security.v1alpha1.PeerAuthentication;
import dev.meshwork.controlplane.testing.Meshes;
import java.util.List;
import org.junit.jupiter.api.Test;

class PeerAuthenticationValidatorTest {

  static PeerAuthentication policy(String namespace, String spec) {
    return (PeerAuthentication)
        Meshes.objects(
                """
                apiVersion: security.meshwork.dev/v1alpha1
                kind: PeerAuthentication
                metadata: {name: p, namespace: %s}
                spec: %s
                """
                    .formatted(namespace, spec))
            .getFirst();
  }

  static List<String> problems(String spec) {
    return PeerAuthenticationValidator.problems(policy("demo", spec));
  }

  @Test
  void whatIstioAcceptsIsValid() {
    assertThat(problems("{}")).isEmpty();
    assertThat(problems("{mtls: {mode: UNSET}}")).isEmpty();
    assertThat(problems("{mtls: {mode: STRICT}}")).isEmpty();
    // selector: {} is the same as no selector: namespace-wide.
    assertThat(problems("{selector: {}, mtls: {mode: DISABLE}}")).isEmpty();
    assertThat(
            problems(
                "{selector: {matchLabels: {app: greeter, app.kubernetes.io/part-of: demo,"
                    + " tier: \"\"}}, mtls: {mode: STRICT},"
                    + " portLevelMtls: {\"1\": {mode: DISABLE}, \"65535\": {mode: PERMISSIVE},"
                    + " \"8080\": {}}}"))
        .isEmpty();
    // A selector in meshwork-system selects that namespace's workloads: not mesh-wide, not wrong.
    assertThat(
            PeerAuthenticationValidator.problems(
                policy("meshwork-system", "{selector: {matchLabels: {app: x}}}")))
        .isEmpty();
  }

  @Test
  void aPortKeyMustBeAPortNumber() {
    assertThat(
            problems(
                "{selector: {matchLabels: {app: greeter}}, portLevelMtls: {http: {mode: STRICT},"
                    + " \"0\": {mode: STRICT}, \"65536\": {mode: STRICT}, \"-1\": {mode: STRICT},"
                    + " \"080a\": {mode: STRICT}, \"080\": {mode: STRICT}}}"))
        .containsExactly(
            "spec.portLevelMtls[\"-1\"]: the key must be a port number 1..65535, without leading"
                + " zeros",
            "spec.portLevelMtls[\"0\"]: the key must be a port number 1..65535, without leading"
                + " zeros",
            "spec.portLevelMtls[\"080\"]: the key must be a port number 1..65535, without leading"
                + " zeros",
            "spec.portLevelMtls[\"080a\"]: the key must be a port number 1..65535, without leading"
                + " zeros",
            "spec.portLevelMtls[\"65536\"]: the key must be a port number 1..65535, without"
                + " leading zeros",
            "spec.portLevelMtls[\"http\"]: the key must be a port number 1..65535, without leading"
                + " zeros");
  }

  @Test
  void portLevelMtlsNeedsASelectorWithALabel() {
    String expected =
        "spec.portLevelMtls needs a spec.selector with at least one label: ports belong to a"
            + " workload, and a namespace- or mesh-wide policy selects none";
    assertThat(problems("{portLevelMtls: {\"8080\": {mode: DISABLE}}}")).containsExactly(expected);
    assertThat(problems("{selector: {}, portLevelMtls: {\"8080\": {mode: DISABLE}}}"))
        .containsExactly(expected);
    assertThat(
            problems("{selector: {matchLabels: {}}, portLevelMtls: {\"8080\": {mode: DISABLE}}}"))
        .containsExactly(expected);
    assertThat(
            PeerAuthenticationValidator.problems(
                policy("meshwork-system", "{portLevelMtls: {\"8080\": {mode: DISABLE}}}")))
        .containsExactly(expected);
  }

  @Test
  void selectorLabelsMustBeLabelsAPodCanCarry() {
    assertThat(problems("{selector: {matchLabels: {\"bad key!\": x}}}"))
        .singleElement()
        .asString()
        .startsWith("spec.selector.matchLabels[\"bad key!\"]: not a valid label key");
    assertThat(problems("{selector: {matchLabels: {app: \"a b\"}}}"))
        .singleElement()
        .asString()
        .startsWith("spec.selector.matchLabels[\"app\"]: value \"a b\" is not a valid label value");
    assertThat(problems("{selector: {matchLabels: {app: \"*\"}}}"))
        .containsExactly(
            "spec.selector.matchLabels[\"app\"]: wildcards are not supported in a selector");
    assertThat(problems("{selector: {matchLabels: {\"Example.com/app\": x}}}"))
        .singleElement()
        .asString()
        .contains("not a valid label key");
    assertThat(problems("{selector: {matchLabels: {app: " + "v".repeat(64) + "}}}"))
        .singleElement()
        .asString()
        .contains("is not a valid label value");
  }

  @Test
  void portNumbers() {
    assertThat(PeerAuthenticationValidator.isPortNumber("1")).isTrue();
    assertThat(PeerAuthenticationValidator.isPortNumber("65535")).isTrue();
    assertThat(PeerAuthenticationValidator.isPortNumber("99999")).isFalse();
    assertThat(PeerAuthenticationValidator.isPortNumber("")).isFalse();
    assertThat(PeerAuthenticationValidator.isPortNumber("123456")).isFalse();
    assertThat(PeerAuthenticationValidator.isPortNumber("0")).isFalse();
    assertThat(PeerAuthenticationValidator.isPortNumber("08080")).isFalse();
  }
}
