package dev.meshwork.sidecar.listener;

import dev.meshwork.sidecar.cluster.Endpoint;
import dev.meshwork.sidecar.cluster.UpstreamConnection;
import dev.meshwork.sidecar.cluster.UpstreamPool;
import dev.meshwork.sidecar.cluster.UpstreamStream;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2StreamFrame;
import io.netty.handler.ssl.SslContext;
import io.netty.util.ReferenceCountUtil;
import java.util.ArrayDeque;
import java.util.Set;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A fire-and-forget copy of one call to a mirror cluster (xDS {@code request_mirror_policies}): the
 * request frames are duplicated to a stream of their own, the response is read and dropped (its
 * window returned at once, so the mirror's server is never held up by us).
 *
 * <p>It never slows or fails the main call: the copy is abandoned (its stream reset) as soon as it
 * would need buffering beyond {@link #MAX_PENDING_BYTES} while it connects, or its stream is not
 * writable (its HTTP/2 window is full); connect failures only end the copy. The copies hold none of
 * the caller's window. Its authority gets the {@code -shadow} suffix, as Envoy does, so the
 * mirror's server can tell copies from real calls.
 *
 * <p>Threading: confined to the main call's event loop (the same loop owns the upstream pool).
 * Buffer ownership: {@link #send} takes one reference of the frame's content and releases it.
 */
final class RequestMirror implements UpstreamStream.Listener {
  private static final Logger log = LoggerFactory.getLogger(RequestMirror.class);
  static final int MAX_PENDING_BYTES = 64 * 1024;

  private final String cluster;
  private final ArrayDeque<Http2StreamFrame> pending = new ArrayDeque<>();
  private int pendingBytes;
  private UpstreamStream up;
  private boolean abandoned;

  private RequestMirror(String cluster) {
    this.cluster = cluster;
  }

  /**
   * Starts the copy with the main call's upstream request headers (copied here).
   *
   * @param clientTls the client TLS context for mTLS clusters, or null when unavailable
   */
  static RequestMirror start(
      UpstreamPool pool,
      CallTarget.Mirror m,
      Http2Headers requestHeaders,
      boolean endStream,
      Supplier<SslContext> clientTls) {
    RequestMirror r = new RequestMirror(m.cluster());
    Endpoint ep = m.lb().pick(m.endpoints(), Set.of());
    if (ep == null || (m.tls() && (clientTls == null || clientTls.get() == null))) {
      r.abandoned = true;
      return r;
    }
    Http2Headers h = ProxyCall.copyHeaders(requestHeaders);
    if (h.authority() != null) {
      h.authority(h.authority() + "-shadow");
    }
    r.pending.add(new DefaultHttp2HeadersFrame(h, endStream));
    pool.acquire(ep, m.connectTimeoutMillis(), m.tls() ? clientTls : null)
        .addListener(
            f -> {
              if (!f.isSuccess() || r.abandoned) {
                r.abandon("connect failed: " + f.cause());
                return;
              }
              UpstreamStream s = pool.openStream((UpstreamConnection) f.getNow(), r);
              if (s == null) {
                r.abandon("stream open failed: connection closed");
                return;
              }
              r.up = s;
              Http2StreamFrame frame;
              while ((frame = r.pending.poll()) != null) {
                s.writeVoid(frame);
              }
              r.pendingBytes = 0;
              s.flush();
            });
    return r;
  }

  /** Copies one more request frame (DATA, or trailers); takes ownership of the frame. */
  void send(Http2StreamFrame frame) {
    if (abandoned) {
      ReferenceCountUtil.release(frame);
      return;
    }
    int size = frame instanceof Http2DataFrame d ? d.content().readableBytes() : 256;
    if (up == null) {
      if (pendingBytes + size > MAX_PENDING_BYTES) {
        ReferenceCountUtil.release(frame);
        abandon("more than " + MAX_PENDING_BYTES + " bytes before its stream opened");
        return;
      }
      pendingBytes += size;
      pending.add(frame);
      return;
    }
    if (!up.isWritable()) {
      ReferenceCountUtil.release(frame);
      abandon("mirror stream not writable");
      return;
    }
    up.writeVoid(frame);
    up.flush();
  }

  /** Copies a DATA frame's content (a retained duplicate: the main call keeps its own). */
  void sendData(Http2DataFrame d) {
    if (abandoned) {
      return;
    }
    send(new DefaultHttp2DataFrame(d.content().retainedDuplicate(), d.isEndStream()));
  }

  /** Ends the copy now: pending frames released, an open stream reset (CANCEL). */
  void abandon(String why) {
    if (!abandoned) {
      log.debug("mirror.abandoned cluster={} why={}", cluster, why);
    }
    abandoned = true;
    Http2StreamFrame f;
    while ((f = pending.poll()) != null) {
      ReferenceCountUtil.release(f);
    }
    if (up != null && up.isOpen()) {
      up.cancel();
    }
  }

  @Override
  public void onFrame(UpstreamStream s, Http2StreamFrame frame) {
    // The mirror's answer is dropped; its window goes back at once.
    if (frame instanceof Http2DataFrame d) {
      s.returnWindow(d.initialFlowControlledBytes());
    }
    ReferenceCountUtil.release(frame);
  }

  @Override
  public void onRefused(UpstreamStream s) {
    // A copy is never retried.
  }

  @Override
  public void onClosed(UpstreamStream s) {
    // Nothing to do: later frames find the stream closed and abandon the copy.
  }
}
