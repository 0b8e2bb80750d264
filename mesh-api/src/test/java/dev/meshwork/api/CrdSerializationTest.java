package dev.meshwork.api;

import static org.assertj.core.api.Assertions.assertThat;

import dev.meshwork.api.networking.v1alpha1.TrafficPolicy;
import dev.meshwork.api.networking.v1alpha1.TrafficPolicySpec;
import dev.meshwork.api.security.v1alpha1.AuthorizationPolicy;
import dev.meshwork.api.security.v1alpha1.AuthorizationPolicySpec;
import dev.meshwork.api.security.v1alpha1.PeerAuthentication;
import dev.meshwork.api.security.v1alpha1.PeerAuthenticationSpec.Mode;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The CRD classes read the YAML users write, as documented in manifests/crds. */
class CrdSerializationTest {

  @Test
  void peerAuthenticationWithPortOverride() {
    PeerAuthentication pa =
        Serialization.unmarshal(
            """
            apiVersion: security.meshwork.dev/v1alpha1
            kind: PeerAuthentication
            metadata: {name: strict, namespace: shop}
            spec:
              selector: {matchLabels: {app: greeter}}
              mtls: {mode: STRICT}
              portLevelMtls:
                "9090": {mode: DISABLE}
            """,
            PeerAuthentication.class);
    assertThat(pa.getMetadata().getNamespace()).isEqualTo("shop");
    assertThat(pa.getSpec().mtls().mode()).isEqualTo(Mode.STRICT);
    assertThat(pa.getSpec().portLevelMtls().get("9090").mode()).isEqualTo(Mode.DISABLE);
    assertThat(pa.getSpec().selector().matches(Map.of("app", "greeter", "v", "1"))).isTrue();
    assertThat(pa.getSpec().selector().matches(Map.of("app", "caller"))).isFalse();
  }

  @Test
  void authorizationPolicyRules() {
    AuthorizationPolicy ap =
        Serialization.unmarshal(
            """
            apiVersion: security.meshwork.dev/v1alpha1
            kind: AuthorizationPolicy
            metadata: {name: callers-only, namespace: shop}
            spec:
              action: DENY
              rules:
              - from: [{principals: ["spiffe://cluster.local/ns/other/sa/*"]}]
                to: [{services: [helloworld.Greeter], methods: [SayHello]}]
                when: [{header: x-debug, values: ["1"]}]
            """,
            AuthorizationPolicy.class);
    AuthorizationPolicySpec.Rule rule = ap.getSpec().rules().getFirst();
    assertThat(ap.getSpec().action()).isEqualTo(AuthorizationPolicySpec.Action.DENY);
    assertThat(rule.from().getFirst().principals())
        .containsExactly("spiffe://cluster.local/ns/other/sa/*");
    assertThat(rule.to().getFirst().methods()).containsExactly("SayHello");
    assertThat(rule.when().getFirst().header()).isEqualTo("x-debug");
  }

  @Test
  void trafficPolicyRoundTrips() {
    TrafficPolicy tp =
        Serialization.unmarshal(
            """
            apiVersion: networking.meshwork.dev/v1alpha1
            kind: TrafficPolicy
            metadata: {name: greeter, namespace: shop}
            spec:
              targetRefs: [{group: "", kind: Service, name: greeter}]
              loadBalancer: {algorithm: LEAST_REQUEST}
              retries: {attempts: 2, perTryTimeout: 500ms, retryOn: [unavailable], budget: {percent: 20}}
            """,
            TrafficPolicy.class);
    assertThat(tp.getSpec().loadBalancer().algorithm())
        .isEqualTo(TrafficPolicySpec.Algorithm.LEAST_REQUEST);
    TrafficPolicy back = Serialization.unmarshal(Serialization.asYaml(tp), TrafficPolicy.class);
    assertThat(back.getSpec()).isEqualTo(tp.getSpec());
  }
}
