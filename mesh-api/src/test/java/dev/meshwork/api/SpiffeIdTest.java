package dev.meshwork.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class SpiffeIdTest {

  @Test
  void parsesAndFormatsTheMeshShape() {
    SpiffeId id = SpiffeId.parse("spiffe://cluster.local/ns/shop/sa/greeter");
    assertThat(id).isEqualTo(new SpiffeId("cluster.local", "shop", "greeter"));
    assertThat(id.uri()).isEqualTo("spiffe://cluster.local/ns/shop/sa/greeter");
    assertThat(SpiffeId.of("shop", "greeter")).isEqualTo(id);
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "https://cluster.local/ns/a/sa/b",
        "spiffe://cluster.local/ns/a",
        "spiffe://cluster.local/ns/a/sa/b/extra",
        "spiffe://cluster.local/sa/a/ns/b",
        "spiffe://Cluster.local/ns/a/sa/b",
        "spiffe://cluster.local/ns/UPPER/sa/b",
        "spiffe://cluster.local/ns/a/sa/b?x=1",
        "spiffe:///ns/a/sa/b",
        "not a uri at all"
      })
  void rejectsAnythingElseWithAMessage(String bad) {
    assertThatThrownBy(() -> SpiffeId.parse(bad))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(bad.contains(" ") ? "URI" : "");
  }
}
