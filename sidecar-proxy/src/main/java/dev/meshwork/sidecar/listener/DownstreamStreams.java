package dev.meshwork.sidecar.listener;

import dev.meshwork.sidecar.cluster.StreamWindows;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http2.DefaultHttp2ResetFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2FrameStream;
import io.netty.handler.codec.http2.Http2FrameStreamEvent;
import io.netty.handler.codec.http2.Http2FrameStreamException;
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
 * The calls of one downstream HTTP/2 connection, right after its {@code Http2FrameCodec}: one
 * {@link ProxyCall} per stream, created on the stream's first HEADERS and found again by the
 * codec's {@link Http2FrameStream} object. This replaces Netty's multiplex handler and its child
 * channel (pipeline, promises, attributes) per stream.
 *
 * <ul>
 *   <li>HEADERS, DATA and RST_STREAM frames go to the stream's call;
 *   <li>the codec's "stream closed" state event ends the call and forgets it;
 *   <li>a stream error the codec left to the application resets that stream (RST_STREAM(CANCEL),
 *       what closing its child channel sent);
 *   <li>the connection going inactive ends every call still here.
 * </ul>
 *
 * Frames that belong to no stream (SETTINGS, PING, GOAWAY) go on down the pipeline.
 *
 * <p>Threading: confined to the connection's event loop, as are its calls.
 */
final class DownstreamStreams extends ChannelInboundHandlerAdapter {
  private static final Logger log = LoggerFactory.getLogger(DownstreamStreams.class);

  private final ProxyContext proxy;
  private final Map<Http2FrameStream, ProxyCall> calls = new IdentityHashMap<>();
  private ChannelPromise quietVoid;

  DownstreamStreams(ProxyContext proxy) {
    this.proxy = proxy;
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    // Stream writes nobody waits for: a failure (stream or connection already gone) must not reach
    // the pipeline as an exception, which would close the whole connection and its other calls.
    quietVoid = StreamWindows.quietVoid(ctx.channel());
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (!(msg instanceof Http2StreamFrame f) || f.stream() == null) {
      ctx.fireChannelRead(msg);
      return;
    }
    Http2FrameStream s = f.stream();
    ProxyCall c = calls.get(s);
    if (c != null) {
      if (msg instanceof Http2HeadersFrame
          || msg instanceof Http2DataFrame
          || msg instanceof Http2ResetFrame) {
        c.onFrame(f);
      } else {
        ReferenceCountUtil.release(msg); // WINDOW_UPDATE (the codec acted on it), unknown frames
      }
      return;
    }
    if (msg instanceof Http2HeadersFrame && s.state() != Http2Stream.State.CLOSED) {
      c = proxy.newCall(ctx, s, quietVoid);
      calls.put(s, c);
      c.onFrame(f);
      return;
    }
    if (msg instanceof Http2DataFrame d) {
      StreamWindows.give(ctx, d.stream(), d.initialFlowControlledBytes(), quietVoid);
    }
    ReferenceCountUtil.release(msg);
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
    if (evt instanceof Http2FrameStreamEvent e) {
      if (e.type() == Http2FrameStreamEvent.Type.State
          && e.stream().state() == Http2Stream.State.CLOSED) {
        ProxyCall c = calls.remove(e.stream());
        if (c != null) {
          c.onStreamClosed();
        }
      }
      return;
    }
    ctx.fireUserEventTriggered(evt);
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    if (cause instanceof Http2FrameStreamException e) {
      ProxyCall c = calls.get(e.stream());
      if (c != null) {
        c.onStreamError(e.getCause());
      } else if (e.stream().state() != Http2Stream.State.CLOSED) {
        log.debug("downstream.stream.error cause={}", String.valueOf(e.getCause()));
        ctx.writeAndFlush(
            new DefaultHttp2ResetFrame(Http2Error.CANCEL).stream(e.stream()), quietVoid);
      }
      return;
    }
    ctx.fireExceptionCaught(cause);
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    // The codec closes its active streams as the connection goes (each call heard of it); this
    // ends any call left, so that none is left behind holding load, buffers or a deadline.
    if (!calls.isEmpty()) {
      for (ProxyCall c : new ArrayList<>(calls.values())) {
        c.onStreamClosed();
      }
      calls.clear();
    }
    ctx.fireChannelInactive();
  }
}
