package dev.meshwork.sidecar;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** When the CA's calls ride on the xDS channel (one TLS handshake at start) and when not. */
class CaChannelSharingTest {

  private static SidecarConfig config(String... args) {
    return SidecarConfig.parse(args, k -> null);
  }

  @Test
  void theInjectedSetUpSharesOneChannel() {
    // What the injector passes: the control plane for both, the mounted trust bundle for both.
    assertThat(
            Sidecar.caSharesXdsChannel(
                config(
                    "--xds", "cp.mesh.svc:15012",
                    "--xds-ca", "/var/run/meshwork/roots.pem",
                    "--ca", "cp.mesh.svc:15012",
                    "--ca-roots", "/var/run/meshwork/./roots.pem")))
        .isTrue();
  }

  @Test
  void anotherCaAddressOrOtherRootsOrPlaintextXdsKeepTheirOwnChannel() {
    assertThat(
            Sidecar.caSharesXdsChannel(
                config(
                    "--xds", "cp.mesh.svc:15012",
                    "--xds-ca", "/roots.pem",
                    "--ca", "ca.mesh.svc:15012",
                    "--ca-roots", "/roots.pem")))
        .isFalse();
    assertThat(
            Sidecar.caSharesXdsChannel(
                config(
                    "--xds", "cp.mesh.svc:15012",
                    "--xds-ca", "/xds-roots.pem",
                    "--ca", "cp.mesh.svc:15012",
                    "--ca-roots", "/ca-roots.pem")))
        .isFalse();
    assertThat(
            Sidecar.caSharesXdsChannel(
                config(
                    "--xds", "cp.mesh.svc:15012",
                    "--ca", "cp.mesh.svc:15012",
                    "--ca-roots", "/roots.pem")))
        .isFalse();
    assertThat(Sidecar.caSharesXdsChannel(config("--xds", "cp.mesh.svc:15012"))).isFalse();
  }
}
