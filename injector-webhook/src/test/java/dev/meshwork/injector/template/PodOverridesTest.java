package dev.meshwork.injector.template;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.junit.jupiter.api.Test;

class PodOverridesTest {
  private static PodOverrides parse(Map<String, String> a) throws InvalidAnnotationException {
    return PodOverrides.parse(a, Resources.PROXY_DEFAULT);
  }

  @Test
  void noAnnotationsMeansDefaults() throws Exception {
    PodOverrides o = parse(Map.of());
    assertThat(o.proxyResources()).isEqualTo(Resources.PROXY_DEFAULT);
    assertThat(o.excludeInboundPorts()).isEmpty();
    assertThat(o.excludeOutboundPorts()).isEmpty();
    assertThat(o.excludeOutboundCidrs()).isEmpty();
  }

  @Test
  void listsAreTrimmedAndDeduplicated() throws Exception {
    PodOverrides o =
        parse(
            Map.of(
                InjectionAnnotations.EXCLUDE_OUTBOUND_PORTS, " 5432,5432 , 6379,",
                InjectionAnnotations.EXCLUDE_OUTBOUND_CIDRS, "10.0.0.0/8, 0.0.0.0/0"));
    assertThat(o.excludeOutboundPorts()).containsExactly(5432, 6379);
    assertThat(o.excludeOutboundCidrs()).containsExactly("10.0.0.0/8", "0.0.0.0/0");
  }

  @Test
  void badPortIsRejectedNamingTheAnnotation() {
    for (String bad : new String[] {"0", "65536", "http", "80-90"}) {
      assertThatThrownBy(() -> parse(Map.of(InjectionAnnotations.EXCLUDE_INBOUND_PORTS, bad)))
          .isInstanceOf(InvalidAnnotationException.class)
          .hasMessageContaining(InjectionAnnotations.EXCLUDE_INBOUND_PORTS)
          .hasMessageContaining(bad);
    }
  }

  @Test
  void badCidrIsRejected() {
    for (String bad : new String[] {"10.0.0.0", "10.0.0.256/8", "10.0.0.0/33", "fd00::/8"}) {
      assertThatThrownBy(() -> parse(Map.of(InjectionAnnotations.EXCLUDE_OUTBOUND_CIDRS, bad)))
          .isInstanceOf(InvalidAnnotationException.class)
          .hasMessageContaining("IPv4 CIDR");
    }
  }

  @Test
  void quantitiesFollowTheKubernetesGrammar() throws Exception {
    assertThat(parse(Map.of(InjectionAnnotations.PROXY_CPU, "0.5")).proxyResources().cpuRequest())
        .isEqualTo("0.5");
    for (String bad : new String[] {"1 Gi", "1GB", "-1", "lots", ""}) {
      assertThatThrownBy(() -> parse(Map.of(InjectionAnnotations.PROXY_MEMORY_LIMIT, bad)))
          .isInstanceOf(InvalidAnnotationException.class)
          .hasMessageContaining(InjectionAnnotations.PROXY_MEMORY_LIMIT);
    }
  }
}
