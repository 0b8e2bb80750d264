package dev.meshwork.sidecar.cluster;

import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http2.DefaultHttp2ResetFrame;
import io.netty.handler.codec.http2.Http2Connection;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2FrameStream;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2Stream;
import io.netty.handler.codec.http2.Http2StreamFrame;
import io.netty.util.ReferenceCountUtil;
import java.nio.channels.ClosedChannelException;

/**
 * One HTTP/2 stream of a call on a pooled upstream connection. It has no channel of its own: its
 * frames are written to the connection with {@link Http2StreamFrame#stream} set to this stream, and
 * the connection's {@link UpstreamStreams} hands this stream's inbound frames and events to its
 * {@link Listener}.
 *
 * <p>The stream is created on the server when its first HEADERS is written. The pool counts it
 * against the connection's SETTINGS_MAX_CONCURRENT_STREAMS from {@link UpstreamPool#openStream}
 * until it closes: both ends done, reset, its first HEADERS failed, or the connection died. The
 * listener hears of that once, in {@link Listener#onClosed}, after the outcome of the first HEADERS
 * write is known (so that {@link #createFailed()} is meaningful there).
 *
 * <p>Flow control: inbound DATA is not acknowledged by the codec; the owner returns its bytes with
 * {@link #returnWindow} once it has passed them on (or dropped them).
 *
 * <p>Threading: confined to the connection's event loop.
 */
public final class UpstreamStream {

  /** The owner of a stream: one call attempt, or one mirror copy. */
  public interface Listener {
    /**
     * An inbound HEADERS, DATA or RST_STREAM frame of this stream; the listener owns it (releases
     * it, and returns a DATA frame's window with {@link #returnWindow}).
     */
    void onFrame(UpstreamStream stream, Http2StreamFrame frame);

    /** A GOAWAY said the server never processed this stream: it is safe to retry elsewhere. */
    void onRefused(UpstreamStream stream);

    /** The stream is over, for whatever reason. Called once; nothing is read or written after. */
    void onClosed(UpstreamStream stream);
  }

  private final UpstreamStreams streams;
  private final UpstreamConnection conn;
  private final Http2FrameStream stream;
  private final Listener listener;
  private boolean firstWriteStarted;
  private boolean firstWriteDone;
  private boolean createFailed;
  private boolean closePending;
  private boolean resetSent;
  private long pendingReset = -1;
  private boolean closed;

  UpstreamStream(
      UpstreamStreams streams, UpstreamConnection conn, Http2FrameStream stream, Listener l) {
    this.streams = streams;
    this.conn = conn;
    this.stream = stream;
    this.listener = l;
  }

  /** The stream's id, or -1 before its first HEADERS was written. */
  public int id() {
    return stream.id();
  }

  /** True while frames may still be written: not closed, not reset by us. */
  public boolean isOpen() {
    return !closed && !resetSent && stream.state() != Http2Stream.State.CLOSED;
  }

  /** True when the first HEADERS write failed: the server never saw this stream. */
  public boolean createFailed() {
    return createFailed;
  }

  /**
   * True when the stream's HTTP/2 window has room for more than what is already queued on it (and
   * the connection is writable), per the connection's remote flow controller.
   */
  public boolean isWritable() {
    if (!isOpen()) {
      return false;
    }
    Http2Connection c = streams.connection();
    Http2Stream s = stream.id() > 0 ? c.stream(stream.id()) : null;
    return s == null || c.remote().flowController().isWritable(s);
  }

  /** Writes one frame of this stream; the future completes when the frame left (or failed). */
  public ChannelFuture write(Http2StreamFrame frame) {
    ChannelPromise p = streams.ctx().newPromise();
    write(frame, p);
    return p;
  }

  /** Writes one frame of this stream with no one waiting for the outcome. */
  public void writeVoid(Http2StreamFrame frame) {
    write(frame, streams.quietVoidPromise());
  }

  private void write(Http2StreamFrame frame, ChannelPromise promise) {
    if (!isOpen()) {
      ReferenceCountUtil.release(frame);
      promise.tryFailure(new ClosedChannelException());
      return;
    }
    if (!firstWriteStarted && frame instanceof Http2HeadersFrame) {
      firstWriteStarted = true;
      promise = promise.unvoid();
      promise.addListener(f -> firstWriteDone(f.isSuccess()));
    }
    streams.ctx().write(frame.stream(stream), promise);
  }

  public void flush() {
    streams.ctx().flush();
  }

  /**
   * Gives the server back {@code bytes} of this stream's window (DATA the owner has passed on or
   * dropped). Nothing is sent for a stream that is closed: the codec already returned its bytes to
   * the connection window and rejects updates for it.
   */
  public void returnWindow(int bytes) {
    if (!closed) {
      StreamWindows.give(streams.ctx(), stream, bytes, streams.quietVoidPromise());
    }
  }

  /**
   * Ends the stream now: RST_STREAM({@code code}) when the server may know it, else just closed
   * here. The listener hears {@link Listener#onClosed} when the codec has closed the stream.
   */
  public void reset(long code) {
    if (closed || resetSent) {
      return;
    }
    Http2Stream.State state = stream.state();
    if (state != Http2Stream.State.IDLE && state != Http2Stream.State.CLOSED) {
      resetSent = true;
      streams
          .ctx()
          .writeAndFlush(
              new DefaultHttp2ResetFrame(code).stream(stream), streams.quietVoidPromise());
      return;
    }
    if (firstWriteStarted && !firstWriteDone) {
      // The first HEADERS is still on its way: it fails, or creates the stream, reset then.
      resetSent = true;
      closePending = true;
      pendingReset = code;
      return;
    }
    closed();
  }

  /** RST_STREAM(CANCEL): what closing a child stream channel used to send. */
  public void cancel() {
    reset(Http2Error.CANCEL.code());
  }

  Http2FrameStream frameStream() {
    return stream;
  }

  // ---------------------------------------------------------------- from UpstreamStreams

  void onFrame(Http2StreamFrame frame) {
    if (closed) {
      ReferenceCountUtil.release(frame);
      return;
    }
    listener.onFrame(this, frame);
  }

  void onRefused() {
    if (!closed) {
      listener.onRefused(this);
    }
  }

  /** The codec closed the stream (state event). */
  void onStreamClosed() {
    if (firstWriteStarted && !firstWriteDone) {
      // Wait for the first write's outcome, so that the owner can tell whether the server knew it.
      closePending = true;
      return;
    }
    closed();
  }

  private void firstWriteDone(boolean ok) {
    firstWriteDone = true;
    if (!ok) {
      createFailed = true;
      closed();
    } else if (closePending) {
      if (pendingReset >= 0 && stream.state() != Http2Stream.State.CLOSED) {
        // Reset while its HEADERS was pending: the stream exists now, so reset it for real.
        long code = pendingReset;
        resetSent = false;
        closePending = false;
        pendingReset = -1;
        reset(code);
      } else {
        closed();
      }
    }
  }

  /** Closes this side once: the pool stops counting it, the owner hears of it. */
  void closed() {
    if (closed) {
      return;
    }
    closed = true;
    streams.remove(this);
    conn.streamClosed();
    listener.onClosed(this);
  }
}
