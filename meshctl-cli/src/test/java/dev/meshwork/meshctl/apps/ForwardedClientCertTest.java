package dev.meshwork.meshctl.demo.apps;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class ForwardedClientCertTest {

  @Test
  void readsServerAndClientIdentities() {
    ForwardedClientCert x =
        ForwardedClientCert.parse(
            "By=spiffe://cluster.local/ns/demo/sa/greeter;Hash=abc;URI=spiffe://cluster.local/ns/demo/sa/caller");
    assertThat(x.isMutual()).isTrue();
    assertThat(x.hopName())
        .isEqualTo(
            "spiffe://cluster.local/ns/demo/sa/caller -> spiffe://cluster.local/ns/demo/sa/greeter");
  }

  @Test
  void usesTheLastElementWhenSeveralProxiesAppended() {
    ForwardedClientCert x =
        ForwardedClientCert.parse(
            "By=spiffe://a/ns/x/sa/y;URI=spiffe://evil,By=spiffe://td/ns/n/sa/s");
    assertThat(x.by()).isEqualTo("spiffe://td/ns/n/sa/s");
    assertThat(x.uri()).isEmpty();
    assertThat(x.isMutual()).isFalse();
  }

  @Test
  void missingHeaderIsPlaintext() {
    assertThat(ForwardedClientCert.parse("").hopName()).isEqualTo("plaintext -> plaintext");
    assertThat(ForwardedClientCert.parse(null).isMutual()).isFalse();
  }
}
