package dev.meshwork.sidecar.cluster;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.channel.VoidChannelPromise;
import io.netty.handler.codec.http2.DefaultHttp2WindowUpdateFrame;
import io.netty.handler.codec.http2.Http2FrameStream;
import io.netty.handler.codec.http2.Http2Stream;

/**
 * The data path's one rule for giving an HTTP/2 stream's receive window back, on the downstream and
 * the upstream side alike: {@code Http2FrameCodec} leaves it to us, and we return a DATA frame's
 * bytes once they were passed on (or dropped), so a slow reader holds its writer to one window.
 */
public final class StreamWindows {
  private StreamWindows() {}

  /**
   * A void promise of {@code ch} that does not fire failures into the pipeline: for stream writes
   * nobody waits for (window updates, resets), whose failure (stream or connection already gone)
   * must not close the whole connection and its other streams.
   */
  public static ChannelPromise quietVoid(Channel ch) {
    return new VoidChannelPromise(ch, false);
  }

  /**
   * Gives {@code bytes} of {@code stream}'s window back to its sender. Nothing for a stream not
   * created yet, or closed: the codec returned a closed stream's unconsumed bytes to the connection
   * window already and rejects updates for it.
   */
  public static void give(
      ChannelHandlerContext ctx, Http2FrameStream stream, int bytes, ChannelPromise quietVoid) {
    if (bytes > 0 && stream.id() > 0 && stream.state() != Http2Stream.State.CLOSED) {
      ctx.write(new DefaultHttp2WindowUpdateFrame(bytes).stream(stream), quietVoid);
      ctx.flush();
    }
  }
}
