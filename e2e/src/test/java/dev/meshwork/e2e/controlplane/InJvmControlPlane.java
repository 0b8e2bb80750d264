package dev.meshwork.e2e.controlplane;

import dev.meshwork.controlplane.ControlPlane;
import dev.meshwork.controlplane.source.KubernetesConfigSource;
import dev.meshwork.controlplane.status.StatusWriter;
import dev.meshwork.e2e.kube.KubeCluster;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.grpc.InsecureServerCredentials;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.time.Duration;
import java.util.List;

/**
 * The control plane in the test JVM with its own client of the real API server: informers, the
 * translator, ADS and debug on loopback ports of its own (plaintext), and status written as the
 * leader. Closing it stops the control plane, then its client.
 */
record InJvmControlPlane(KubernetesClient client, ControlPlane controlPlane)
    implements AutoCloseable {

  static InJvmControlPlane start(KubeCluster cluster) throws Exception {
    KubernetesClient client = cluster.newClient();
    InetAddress lo = InetAddress.getLoopbackAddress();
    try {
      ControlPlane controlPlane =
          ControlPlane.start(
              new KubernetesConfigSource(client, Duration.ofMillis(100), Duration.ofSeconds(30)),
              new ControlPlane.Options(
                  new InetSocketAddress(lo, 0),
                  new InetSocketAddress(lo, 0),
                  InsecureServerCredentials.create(),
                  List.of(),
                  Duration.ofMillis(100),
                  "cluster.local"),
              new StatusWriter(client, () -> true, Clock.systemUTC()));
      return new InJvmControlPlane(client, controlPlane);
    } catch (Exception | Error e) {
      client.close();
      throw e;
    }
  }

  @Override
  public void close() {
    try {
      controlPlane.close();
    } finally {
      client.close();
    }
  }
}
