package dev.meshwork.sidecar.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import dev.meshwork.sidecar.testing.EchoService;
import dev.meshwork.sidecar.testing.Mesh;
import dev.meshwork.sidecar.testing.RawH2;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersEncoder;
import io.netty.handler.codec.http2.Http2HeadersEncoder;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The sidecar tells its upstreams SETTINGS_ENABLE_PUSH=0. A server that pushes anyway commits a
 * connection error (RFC 9113 §8.4): the sidecar answers GOAWAY(PROTOCOL_ERROR) on that connection,
 * and the caller whose request was on it gets a clean gRPC error, not a hang. The request reached
 * the server, so it is not replayed.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ServerPushRejectedIT {
  private static final int HEADERS = 1;
  private static final int PUSH_PROMISE = 5;
  private static final int SETTINGS = 4;
  private static final int GOAWAY = 7;
  private static final long PROTOCOL_ERROR = 1;

  @Test
  void aServerThatPushesGetsGoAwayAndTheCallerAnError() throws Exception {
    CompletableFuture<Long> goAwayCode = new CompletableFuture<>();
    try (Mesh mesh = new Mesh(1, Cluster.LbPolicy.ROUND_ROBIN);
        ServerSocket pusher = new ServerSocket()) {
      pusher.bind(new InetSocketAddress("127.0.0.1", 0));
      Thread.ofVirtual().start(() -> serveByPushing(pusher, goAwayCode));
      mesh.publish(Cluster.LbPolicy.ROUND_ROBIN, new int[] {pusher.getLocalPort()});
      Awaitility.await()
          .atMost(Duration.ofSeconds(10))
          .until(
              () ->
                  mesh.sidecar.snapshots().get().clusters().endpointsOf(Mesh.CLUSTER).stream()
                      .anyMatch(e -> e.port() == pusher.getLocalPort()));

      try (RawH2 caller = new RawH2(mesh.sidecar.address("outbound"))) {
        caller
            .preface()
            .headers(
                1, RawH2.grpcRequest(Mesh.AUTHORITY, "/" + EchoService.SERVICE + "/Unary"), false)
            .grpcMessage(1, new byte[] {1, 2, 3}, true);
        RawH2.Frame answer =
            caller.await(
                f -> f.stream() == 1 && (f.type() == RawH2.HEADERS || f.type() == RawH2.RST_STREAM),
                Duration.ofSeconds(15));
        assertThat(answer).as("an answer on the caller's stream").isNotNull();
        assertThat(answer.type()).isEqualTo(RawH2.HEADERS);
        assertThat(answer.headers().get("grpc-status")).hasToString("14"); // UNAVAILABLE
      }
      assertThat(goAwayCode.get(15, TimeUnit.SECONDS))
          .as("GOAWAY error code the pushing server got")
          .isEqualTo(PROTOCOL_ERROR);
    }
  }

  /**
   * One HTTP/2 server connection written by hand: SETTINGS, then a PUSH_PROMISE on the first
   * request stream; completes {@code goAwayCode} with the code of the GOAWAY it receives.
   */
  private static void serveByPushing(ServerSocket server, CompletableFuture<Long> goAwayCode) {
    try (Socket s = server.accept()) {
      DataInputStream in = new DataInputStream(s.getInputStream());
      OutputStream out = s.getOutputStream();
      in.readFully(new byte[24]); // the client preface
      frame(out, SETTINGS, 0, 0, new byte[0]);
      while (!goAwayCode.isDone()) {
        int length = (in.readUnsignedByte() << 16) | in.readUnsignedShort();
        int type = in.readUnsignedByte();
        int flags = in.readUnsignedByte();
        int stream = in.readInt() & 0x7fffffff;
        byte[] payload = new byte[length];
        in.readFully(payload);
        if (type == SETTINGS && (flags & RawH2.ACK) == 0) {
          frame(out, SETTINGS, RawH2.ACK, 0, new byte[0]);
        } else if (type == HEADERS) {
          frame(out, PUSH_PROMISE, RawH2.END_HEADERS, stream, pushPromise(stream + 1));
        } else if (type == GOAWAY) {
          goAwayCode.complete(Integer.toUnsignedLong(ByteBuffer.wrap(payload).getInt(4)));
        }
      }
    } catch (IOException e) {
      goAwayCode.completeExceptionally(e);
    }
  }

  private static byte[] pushPromise(int promisedStream) throws IOException {
    ByteBuf block = Unpooled.buffer();
    try {
      new DefaultHttp2HeadersEncoder(Http2HeadersEncoder.NEVER_SENSITIVE, true)
          .encodeHeaders(
              promisedStream,
              new DefaultHttp2Headers()
                  .method("GET")
                  .scheme("http")
                  .path("/pushed")
                  .authority(Mesh.AUTHORITY),
              block);
      byte[] payload = new byte[4 + block.readableBytes()];
      ByteBuffer.wrap(payload).putInt(promisedStream);
      block.readBytes(payload, 4, block.readableBytes());
      return payload;
    } catch (io.netty.handler.codec.http2.Http2Exception e) {
      throw new IOException(e);
    } finally {
      block.release();
    }
  }

  private static void frame(OutputStream out, int type, int flags, int stream, byte[] payload)
      throws IOException {
    ByteBuffer b = ByteBuffer.allocate(9 + payload.length);
    b.put((byte) (payload.length >>> 16)).putShort((short) payload.length);
    b.put((byte) type).put((byte) flags).putInt(stream).put(payload);
    out.write(b.array());
    out.flush();
  }
}
