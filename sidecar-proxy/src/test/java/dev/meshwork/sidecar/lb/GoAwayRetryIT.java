package dev.meshwork.sidecar.lb;

import static org.assertj.core.api.Assertions.assertThat;

import dev.meshwork.sidecar.testing.EchoService;
import dev.meshwork.sidecar.testing.Mesh;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.stub.ClientCalls;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A server that answers a stream with GOAWAY(last stream id 0) never processed it: the sidecar
 * retries the call on another endpoint, and the caller never sees the refusal.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class GoAwayRetryIT {

  @Test
  void streamsAboveTheGoAwayLastStreamIdAreRetriedOnAnotherEndpoint() throws Exception {
    try (Mesh mesh = new Mesh(1, Cluster.LbPolicy.ROUND_ROBIN);
        GoAwayServer refusing = new GoAwayServer()) {
      mesh.publish(
          Cluster.LbPolicy.ROUND_ROBIN,
          new int[] {mesh.backends.getFirst().port(), refusing.port()});
      Awaitility.await()
          .atMost(Duration.ofSeconds(10))
          .until(
              () ->
                  mesh.sidecar.snapshots().get().clusters().endpointsOf(Mesh.CLUSTER).size() == 2);
      ManagedChannel ch = mesh.client();
      for (int i = 0; i < 10; i++) {
        byte[] r =
            ClientCalls.blockingUnaryCall(
                ch,
                EchoService.UNARY,
                CallOptions.DEFAULT.withDeadlineAfter(10, TimeUnit.SECONDS),
                ("x" + i).getBytes(StandardCharsets.UTF_8));
        assertThat(new String(r, StandardCharsets.UTF_8)).isEqualTo("b0:x" + i);
      }
      assertThat(refusing.streams.get()).isPositive();
    }
  }

  /** Speaks just enough HTTP/2 to answer every HEADERS with GOAWAY(0, NO_ERROR). */
  static final class GoAwayServer implements AutoCloseable {
    final AtomicInteger streams = new AtomicInteger();
    private final ServerSocket server = new ServerSocket();
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();

    GoAwayServer() throws IOException {
      server.bind(new InetSocketAddress("127.0.0.1", 0));
      Thread.ofVirtual().start(this::accept);
    }

    int port() {
      return server.getLocalPort();
    }

    private void accept() {
      try {
        while (true) {
          Socket s = server.accept();
          sockets.add(s);
          Thread.ofVirtual().start(() -> serve(s));
        }
      } catch (IOException e) {
        // closed
      }
    }

    private void serve(Socket s) {
      try (s) {
        DataInputStream in = new DataInputStream(s.getInputStream());
        OutputStream out = s.getOutputStream();
        in.readFully(new byte[24]); // client connection preface
        frame(out, 4, 0, 0, new byte[0]); // our SETTINGS
        byte[] h = new byte[9];
        while (true) {
          in.readFully(h);
          ByteBuffer b = ByteBuffer.wrap(h);
          int len = ((b.get() & 0xff) << 16) | ((b.get() & 0xff) << 8) | (b.get() & 0xff);
          int type = b.get() & 0xff;
          int flags = b.get() & 0xff;
          in.readFully(new byte[len]);
          if (type == 4 && (flags & 1) == 0) {
            frame(out, 4, 1, 0, new byte[0]); // SETTINGS ACK
          } else if (type == 1) {
            streams.incrementAndGet();
            // last stream id 0: none of this connection's streams was processed.
            frame(out, 7, 0, 0, ByteBuffer.allocate(8).putInt(0).putInt(0).array());
          }
        }
      } catch (IOException e) {
        // the sidecar closed the connection
      }
    }

    private static void frame(OutputStream out, int type, int flags, int stream, byte[] payload)
        throws IOException {
      ByteBuffer h = ByteBuffer.allocate(9 + payload.length);
      h.put((byte) (payload.length >>> 16)).put((byte) (payload.length >>> 8));
      h.put((byte) payload.length).put((byte) type).put((byte) flags).putInt(stream).put(payload);
      out.write(h.array());
      out.flush();
    }

    @Override
    public void close() throws IOException {
      server.close();
      for (Socket s : sockets) {
        s.close();
      }
    }
  }
}
