package dev.meshwork.sidecar.listener;

import static org.assertj.core.api.Assertions.assertThat;

import dev.meshwork.sidecar.testing.EchoService;
import dev.meshwork.sidecar.testing.Mesh;
import dev.meshwork.sidecar.testing.RawH2;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Request-side flow control end to end: the caller's stream window is given back only as the
 * request is passed on upstream, so an upstream that reads nothing holds the caller to about one
 * window, never an unbounded buffer in the sidecar.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class StalledUpstreamIT {
  static final String CLIENT_STREAM = "/" + EchoService.SERVICE + "/ClientStream";

  @Test
  void anUpstreamThatNeverReadsHoldsTheCallerToItsWindow() throws Exception {
    List<Socket> held = new CopyOnWriteArrayList<>();
    try (Mesh mesh = new Mesh(1, Cluster.LbPolicy.ROUND_ROBIN);
        ServerSocket blackHole = new ServerSocket()) {
      blackHole.bind(new InetSocketAddress("127.0.0.1", 0));
      Thread.ofVirtual()
          .start(
              () -> {
                try {
                  while (true) {
                    held.add(blackHole.accept()); // accepts, never reads, never answers
                  }
                } catch (java.io.IOException e) {
                  // closed at the end of the test
                }
              });
      mesh.publish(Cluster.LbPolicy.ROUND_ROBIN, new int[] {blackHole.getLocalPort()});
      Awaitility.await()
          .atMost(Duration.ofSeconds(10))
          .until(
              () ->
                  mesh.sidecar.snapshots().get().clusters().endpointsOf(Mesh.CLUSTER).stream()
                      .anyMatch(e -> e.port() == blackHole.getLocalPort()));
      try (RawH2 raw = new RawH2(mesh.sidecar.address("outbound"))) {
        raw.preface().headers(1, RawH2.grpcRequest(Mesh.AUTHORITY, CLIENT_STREAM), false);
        // The sidecar's stream window for the caller (ProxyLimits default: 1 MiB).
        long window = 1024 * 1024;
        long sent = 0;
        long returned = 0;
        byte[] chunk = new byte[16 * 1024 - 5];
        long quietSince = System.nanoTime();
        // Send whatever the window allows; count what the sidecar gives back on stream 1, until
        // it has been quiet for 2 s.
        while (System.nanoTime() - quietSince < TimeUnit.SECONDS.toNanos(2)
            && sent < 64L * 1024 * 1024) {
          while (window - (sent - returned) >= chunk.length + 5) {
            raw.grpcMessage(1, chunk, false);
            sent += chunk.length + 5;
          }
          try {
            RawH2.Frame f =
                raw.await(
                    x -> x.type() == RawH2.WINDOW_UPDATE && x.stream() == 1,
                    Duration.ofMillis(200));
            if (f == null) {
              break;
            }
            returned += ByteBuffer.wrap(f.payload()).getInt() & 0x7fffffff;
            quietSince = System.nanoTime();
          } catch (SocketTimeoutException quiet) {
            // nothing came back in this slice
          }
        }
        // What went upstream (one upstream stream window, 64 KiB before the silent server's
        // SETTINGS) is all that may come back: far below what the caller tried to send.
        assertThat(sent).isGreaterThanOrEqualTo(window - 16 * 1024);
        assertThat(returned).isLessThan(512L * 1024);
        assertThat(held).isNotEmpty();
      }
    } finally {
      for (Socket s : held) {
        s.close();
      }
    }
  }
}
