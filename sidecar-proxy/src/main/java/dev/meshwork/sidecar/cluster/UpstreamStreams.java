package dev.meshwork.sidecar.cluster;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http2.DefaultHttp2ResetFrame;
import io.netty.handler.codec.http2.Http2ChannelDuplexHandler;
import io.netty.handler.codec.http2.Http2Connection;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2FrameStream;
import io.netty.handler.codec.http2.Http2FrameStreamEvent;
import io.netty.handler.codec.http2.Http2FrameStreamException;
import io.netty.handler.codec.http2.Http2GoAwayFrame;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2ResetFrame;
import io.netty.handler.codec.http2.Http2Stream;
import io.netty.handler.codec.http2.Http2StreamFrame;
import io.netty.util.ReferenceCountUtil;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The streams of one upstream connection, right after its {@link Http2FrameCodec}: creates them
 * ({@link #open}) and hands each stream's inbound frames and events to the {@link UpstreamStream}
 * that owns it, found by its {@link Http2FrameStream}. This replaces Netty's multiplex handler and
 * its channel per stream: a stream here is one small object.
 *
 * <ul>
 *   <li>HEADERS, DATA and RST_STREAM go to the stream's owner;
 *   <li>the codec's "stream closed" state event, a stream error, or the connection going inactive
 *       close the stream (once);
 *   <li>a GOAWAY marks the streams above its last stream id, and those not created yet, as refused
 *       (never processed: safe to retry), before it goes on to the connection's own handlers.
 * </ul>
 *
 * <p>Server push needs nothing here: SETTINGS_ENABLE_PUSH=0 makes a PUSH_PROMISE a connection error
 * the codec answers itself.
 *
 * <p>Threading: confined to the connection's event loop.
 */
final class UpstreamStreams extends Http2ChannelDuplexHandler {
  private static final Logger log = LoggerFactory.getLogger(UpstreamStreams.class);

  private final Http2FrameCodec codec;
  // Keyed by the codec's stream object (identity): it exists before the stream has an id.
  private final Map<Http2FrameStream, UpstreamStream> streams = new IdentityHashMap<>();
  private ChannelHandlerContext ctx;
  private ChannelPromise quietVoid;

  UpstreamStreams(Http2FrameCodec codec) {
    this.codec = codec;
  }

  @Override
  protected void handlerAdded0(ChannelHandlerContext ctx) {
    this.ctx = ctx;
    // Stream writes nobody waits for: a failure must not reach the pipeline as an exception (that
    // would close the whole connection); the stream's own events tell its owner what happened.
    this.quietVoid = StreamWindows.quietVoid(ctx.channel());
  }

  /** A new stream owned by {@code listener}; created on the server by its first HEADERS. */
  UpstreamStream open(UpstreamConnection conn, UpstreamStream.Listener listener) {
    Http2FrameStream s = newStream();
    UpstreamStream us = new UpstreamStream(this, conn, s, listener);
    streams.put(s, us);
    return us;
  }

  ChannelHandlerContext ctx() {
    return ctx;
  }

  ChannelPromise quietVoidPromise() {
    return quietVoid;
  }

  Http2Connection connection() {
    return codec.connection();
  }

  void remove(UpstreamStream s) {
    streams.remove(s.frameStream());
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (msg instanceof Http2StreamFrame f && f.stream() != null) {
      UpstreamStream s = streams.get(f.stream());
      if (s != null
          && (msg instanceof Http2HeadersFrame
              || msg instanceof Http2DataFrame
              || msg instanceof Http2ResetFrame)) {
        s.onFrame(f);
      } else {
        // WINDOW_UPDATE (the codec acts on it already), unknown frames, or a stream nobody owns.
        if (s == null && msg instanceof Http2DataFrame d) {
          StreamWindows.give(ctx, d.stream(), d.initialFlowControlledBytes(), quietVoid);
        }
        ReferenceCountUtil.release(msg);
      }
      return;
    }
    if (msg instanceof Http2GoAwayFrame g) {
      onGoAway(g.lastStreamId());
    }
    ctx.fireChannelRead(msg);
  }

  private void onGoAway(int lastStreamId) {
    if (lastStreamId == Integer.MAX_VALUE) {
      return;
    }
    for (UpstreamStream s : new ArrayList<>(streams.values())) {
      int id = s.id();
      if (id < 0 || id > lastStreamId) {
        s.onRefused();
      }
    }
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
    if (evt instanceof Http2FrameStreamEvent e) {
      if (e.type() == Http2FrameStreamEvent.Type.State
          && e.stream().state() == Http2Stream.State.CLOSED) {
        UpstreamStream s = streams.get(e.stream());
        if (s != null) {
          s.onStreamClosed();
        }
      }
      return;
    }
    ctx.fireUserEventTriggered(evt);
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    if (cause instanceof Http2FrameStreamException e) {
      // A stream error the codec did not answer itself: end that stream only, as closing its child
      // channel did (RST_STREAM(CANCEL)).
      UpstreamStream s = streams.get(e.stream());
      log.debug("upstream.stream.error stream={} cause={}", e.stream().id(), String.valueOf(e));
      if (s != null) {
        s.cancel();
      } else if (e.stream().state() != Http2Stream.State.CLOSED
          && e.stream().state() != Http2Stream.State.IDLE) {
        ctx.writeAndFlush(
            new DefaultHttp2ResetFrame(Http2Error.CANCEL).stream(e.stream()), quietVoid);
      }
      return;
    }
    ctx.fireExceptionCaught(cause);
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    // The codec closed its active streams already; this ends the rest (not created yet, or waiting
    // for their first write's outcome).
    for (UpstreamStream s : new ArrayList<>(streams.values())) {
      s.closed();
    }
    ctx.fireChannelInactive();
  }
}
