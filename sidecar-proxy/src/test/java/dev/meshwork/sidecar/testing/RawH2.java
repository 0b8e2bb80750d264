package dev.meshwork.sidecar.testing;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersDecoder;
import io.netty.handler.codec.http2.DefaultHttp2HeadersEncoder;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersEncoder;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.function.Predicate;

/**
 * A deliberately bare HTTP/2 client on a plain socket, for what well-behaved clients never send:
 * malformed frames, header blocks above the advertised limit, more streams than allowed, or nothing
 * at all. Frames are written by hand; header blocks are HPACK-encoded by Netty's encoder with the
 * size check turned off. Single-threaded: reads only when asked.
 */
public final class RawH2 implements AutoCloseable {
  public static final int DATA = 0;
  public static final int HEADERS = 1;
  public static final int RST_STREAM = 3;
  public static final int SETTINGS = 4;
  public static final int PING = 6;
  public static final int GOAWAY = 7;
  public static final int WINDOW_UPDATE = 8;
  public static final int CONTINUATION = 9;
  public static final int END_STREAM = 0x1;
  public static final int END_HEADERS = 0x4;
  public static final int ACK = 0x1;

  /** A frame as read; {@code headers} is the decoded block of HEADERS frames. */
  public record Frame(int type, int flags, int stream, byte[] payload, Http2Headers headers) {
    /** The error code of RST_STREAM and GOAWAY frames. */
    public long errorCode() {
      ByteBuffer b = ByteBuffer.wrap(payload);
      return Integer.toUnsignedLong(type == GOAWAY ? b.getInt(4) : b.getInt(0));
    }
  }

  private final Socket socket;
  private final OutputStream out;
  private final DataInputStream in;
  private final Http2HeadersEncoder encoder =
      new DefaultHttp2HeadersEncoder(Http2HeadersEncoder.NEVER_SENSITIVE, true);
  private final DefaultHttp2HeadersDecoder decoder = new DefaultHttp2HeadersDecoder(false);

  public RawH2(InetSocketAddress address) throws IOException {
    socket = new Socket();
    socket.connect(address, 5000);
    out = socket.getOutputStream();
    in = new DataInputStream(socket.getInputStream());
  }

  /** The connection preface and a SETTINGS frame of {@code id, value} pairs. */
  public RawH2 preface(int... settings) throws IOException {
    out.write("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
    ByteBuffer p = ByteBuffer.allocate(settings.length / 2 * 6);
    for (int i = 0; i < settings.length; i += 2) {
      p.putShort((short) settings[i]).putInt(settings[i + 1]);
    }
    return frame(SETTINGS, 0, 0, p.array());
  }

  public RawH2 frame(int type, int flags, int stream, byte[] payload) throws IOException {
    ByteBuffer h = ByteBuffer.allocate(9);
    h.put((byte) (payload.length >>> 16)).put((byte) (payload.length >>> 8));
    h.put((byte) payload.length).put((byte) type).put((byte) flags).putInt(stream);
    out.write(h.array());
    out.write(payload);
    out.flush();
    return this;
  }

  /** A gRPC request's headers for {@code method} ({@code /service/Method}), plus {@code extra}. */
  public static Http2Headers grpcRequest(String authority, String method) {
    return new DefaultHttp2Headers()
        .method("POST")
        .scheme("http")
        .authority(authority)
        .path(method)
        .add("content-type", "application/grpc")
        .add("te", "trailers");
  }

  /** HEADERS (with CONTINUATION frames when the block exceeds 16 KiB). */
  public RawH2 headers(int stream, Http2Headers headers, boolean endStream) throws Exception {
    ByteBuf block = Unpooled.buffer();
    encoder.encodeHeaders(stream, headers, block);
    byte[] all = new byte[block.readableBytes()];
    block.readBytes(all);
    block.release();
    int max = 16384;
    int off = 0;
    boolean first = true;
    do {
      int n = Math.min(max, all.length - off);
      byte[] part = java.util.Arrays.copyOfRange(all, off, off + n);
      off += n;
      int flags = (off == all.length ? END_HEADERS : 0) | (first && endStream ? END_STREAM : 0);
      frame(first ? HEADERS : CONTINUATION, flags, stream, part);
      first = false;
    } while (off < all.length);
    return this;
  }

  /** One gRPC message (5-byte prefix) in a DATA frame. */
  public RawH2 grpcMessage(int stream, byte[] message, boolean endStream) throws IOException {
    ByteBuffer p = ByteBuffer.allocate(5 + message.length);
    p.put((byte) 0).putInt(message.length).put(message);
    return frame(DATA, endStream ? END_STREAM : 0, stream, p.array());
  }

  public RawH2 windowUpdate(int stream, int increment) throws IOException {
    return frame(WINDOW_UPDATE, 0, stream, ByteBuffer.allocate(4).putInt(increment).array());
  }

  /**
   * Reads frames until one matches (SETTINGS and PING are acknowledged on the way); null when the
   * connection ended first.
   *
   * @throws SocketTimeoutException when none matched within {@code timeout}
   */
  public Frame await(Predicate<Frame> match, Duration timeout) throws Exception {
    long until = System.nanoTime() + timeout.toNanos();
    while (true) {
      long left = until - System.nanoTime();
      if (left <= 0) {
        throw new SocketTimeoutException("no matching frame within " + timeout);
      }
      socket.setSoTimeout((int) Math.max(1, left / 1_000_000));
      Frame f = read();
      if (f == null || match.test(f)) {
        return f;
      }
    }
  }

  /** True when the server closed the connection (EOF or reset) within {@code timeout}. */
  public boolean closedWithin(Duration timeout) throws Exception {
    try {
      return await(f -> false, timeout) == null;
    } catch (SocketTimeoutException e) {
      return false;
    }
  }

  private Frame read() throws Exception {
    byte[] h = new byte[9];
    try {
      in.readFully(h);
    } catch (EOFException | java.net.SocketException e) {
      return null;
    }
    ByteBuffer b = ByteBuffer.wrap(h);
    int len = ((b.get() & 0xff) << 16) | ((b.get() & 0xff) << 8) | (b.get() & 0xff);
    int type = b.get() & 0xff;
    int flags = b.get() & 0xff;
    int stream = b.getInt() & 0x7fffffff;
    byte[] payload = new byte[len];
    in.readFully(payload);
    Http2Headers decoded = null;
    if (type == SETTINGS && (flags & ACK) == 0) {
      frame(SETTINGS, ACK, 0, new byte[0]);
    } else if (type == PING && (flags & ACK) == 0) {
      frame(PING, ACK, 0, payload);
    } else if (type == HEADERS) {
      ByteBuf block = Unpooled.wrappedBuffer(payload);
      int padded = (flags & 0x8) != 0 ? block.readUnsignedByte() : 0;
      if ((flags & 0x20) != 0) {
        block.skipBytes(5); // priority
      }
      ByteBuf fragment = block.readSlice(block.readableBytes() - padded);
      // Server header blocks here fit one frame (no CONTINUATION from a Netty server at 16 KiB).
      decoded = decoder.decodeHeaders(stream, fragment);
    }
    return new Frame(type, flags, stream, payload, decoded);
  }

  /** Aborts the connection: SO_LINGER 0 makes close() send a TCP RST instead of a FIN. */
  public void reset() throws IOException {
    socket.setSoLinger(true, 0);
    socket.close();
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }
}
