package dev.meshwork.sidecar.listener;

import dev.meshwork.sidecar.cluster.Endpoint;
import dev.meshwork.sidecar.cluster.StreamWindows;
import dev.meshwork.sidecar.cluster.UpstreamConnection;
import dev.meshwork.sidecar.cluster.UpstreamPool;
import dev.meshwork.sidecar.cluster.UpstreamPools;
import dev.meshwork.sidecar.cluster.UpstreamStream;
import dev.meshwork.sidecar.config.ProxyLimits;
import dev.meshwork.sidecar.config.SnapshotHolder;
import dev.meshwork.sidecar.error.GrpcStatusMapper;
import dev.meshwork.sidecar.error.ProxyException;
import dev.meshwork.sidecar.lb.EndpointLoad;
import dev.meshwork.sidecar.lb.LoadRegistry;
import dev.meshwork.sidecar.route.HeaderMutations;
import dev.meshwork.sidecar.telemetry.CallRecord.ResponseFlag;
import dev.meshwork.sidecar.telemetry.ObservedCall;
import dev.meshwork.sidecar.telemetry.TrafficObserver;
import dev.meshwork.sidecar.tls.MeshTls;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.DefaultHttp2ResetFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2FrameStream;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2ResetFrame;
import io.netty.handler.codec.http2.Http2Stream;
import io.netty.handler.codec.http2.Http2StreamFrame;
import io.netty.handler.ssl.SslContext;
import io.netty.util.AsciiString;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Proxies one downstream HTTP/2 stream (one gRPC call) to one upstream stream on a pooled
 * connection to an endpoint picked for this call.
 *
 * <p>Where it goes: a plain object per downstream stream, not a channel handler. {@link
 * DownstreamStreams} (after the connection's {@code Http2FrameCodec}) creates it on the stream's
 * first HEADERS and hands it the stream's frames and its close; it writes its frames to the
 * connection with the stream set. The upstream side is an {@link UpstreamStream} on a connection
 * owned by the same event loop, so both halves run on one thread.
 *
 * <p>Flow control end to end: the codec returns no stream window by itself. The window of a DATA
 * frame read on one side (its {@link Http2DataFrame#initialFlowControlledBytes()}, padding
 * included) is returned to its sender only once the frame was written on the other side, that is,
 * once the other side's HTTP/2 flow controller let it out. A slow reader therefore stops the writer
 * at one window per hop, never an unbounded buffer. DATA dropped (call over, nowhere to go) has its
 * window returned at once, so the connection window is never starved.
 *
 * <p>Buffer ownership: a DATA frame's content read from one side is handed to the frame written on
 * the other side (no copy). While no response has arrived, a retained duplicate of each request
 * frame is kept (up to {@link ProxyLimits#retryBufferBytes()}) so that a call the upstream never
 * processed (connect failure, refused stream, beyond GOAWAY's last stream id) can be replayed on
 * another endpoint.
 */
public final class ProxyCall {
  private static final Logger log = LoggerFactory.getLogger(ProxyCall.class);
  private static final long EJECT_NANOS = TimeUnit.SECONDS.toNanos(5);
  private static final AsciiString GRPC_TIMEOUT = AsciiString.cached("grpc-timeout");
  private static final Set<AsciiString> HOP_BY_HOP =
      Set.of(
          AsciiString.cached("connection"),
          AsciiString.cached("keep-alive"),
          AsciiString.cached("proxy-connection"),
          AsciiString.cached("transfer-encoding"),
          AsciiString.cached("upgrade"));

  /**
   * A request frame as the proxy keeps it: headers, or data it owns one reference of, with the
   * downstream window bytes to return once it was written upstream (0 for replayed copies).
   */
  private record Frame(Http2Headers headers, ByteBuf data, boolean endStream, int window) {
    Http2StreamFrame toNetty() {
      return headers != null
          ? new DefaultHttp2HeadersFrame(headers, endStream)
          : new DefaultHttp2DataFrame(data, endStream);
    }

    Frame dup() {
      return new Frame(headers, data == null ? null : data.retainedDuplicate(), endStream, 0);
    }

    int size() {
      return data == null ? 256 : data.readableBytes();
    }
  }

  private final SnapshotHolder snapshots;
  private final CallRouter router;
  private final UpstreamPools pools;
  private final LoadRegistry loads;
  private final ProxyLimits limits;
  private final Supplier<SslContext> clientTls;
  private final java.util.function.Function<io.netty.channel.Channel, String> forwardedClientCert;
  private final TrafficObserver observer;

  // The downstream side: the connection's DownstreamStreams context and this call's stream on it.
  private final ChannelHandlerContext ctx;
  private final Http2FrameStream stream;
  private final ChannelPromise quietVoid;
  private boolean downReset;
  // Telemetry of this call (metrics, span, access log): told when it is routed, each attempt, the
  // response headers, and its end.
  private ObservedCall call = ObservedCall.NONE;
  private CallTarget target;
  private UpstreamPool pool;
  // Endpoints this call tried: one immutable element for the usual single attempt, a copy per
  // retry.
  private Set<String> tried = Set.of();
  private int attempts;
  private Attempt current;
  private final ArrayDeque<Frame> queue = new ArrayDeque<>();
  private List<Frame> replay = new ArrayList<>();
  // Fire-and-forget copies of this call (request_mirror_policies); empty for most calls.
  private List<RequestMirror> mirrors = List.of();
  private int replayBytes;
  private boolean started;
  private boolean requestEnded;
  private boolean responseStarted;
  private boolean responseEnded;
  private boolean closed;
  private ScheduledFuture<?> deadline;
  private long deadlineNanos = -1;
  private String lastFailure = "";
  // A response frame the caller's stream did not take: end the stream (RST_STREAM(CANCEL), then
  // teardown), as a failed write on a child channel did. The codec fails such a write without
  // resetting the stream itself.
  private final ChannelFutureListener downWriteDone =
      w -> {
        if (!w.isSuccess()) {
          onStreamError(w.cause());
        }
      };

  /**
   * @param ctx the context of the connection's {@link DownstreamStreams}, where this call writes
   * @param stream this call's downstream stream
   * @param quietVoid a void promise of the connection that does not fire write failures into the
   *     pipeline (the stream's own events end the call)
   * @param clientTls the client TLS context for mTLS clusters, or null when mTLS is unavailable
   * @param forwardedClientCert inbound: the {@code x-forwarded-client-cert} value for the call's
   *     connection; null on outbound
   * @param observer the listener's telemetry hook
   */
  ProxyCall(
      ChannelHandlerContext ctx,
      Http2FrameStream stream,
      ChannelPromise quietVoid,
      SnapshotHolder snapshots,
      CallRouter router,
      UpstreamPools pools,
      LoadRegistry loads,
      ProxyLimits limits,
      Supplier<SslContext> clientTls,
      java.util.function.Function<io.netty.channel.Channel, String> forwardedClientCert,
      TrafficObserver observer) {
    this.ctx = ctx;
    this.stream = stream;
    this.quietVoid = quietVoid;
    this.snapshots = snapshots;
    this.router = router;
    this.pools = pools;
    this.loads = loads;
    this.limits = limits;
    this.clientTls = clientTls;
    this.forwardedClientCert = forwardedClientCert;
    this.observer = observer;
  }

  // ---------------------------------------------------------------- downstream events

  /** A frame of this call's downstream stream; the call owns it from here. */
  void onFrame(Http2StreamFrame msg) {
    if (msg instanceof Http2ResetFrame r) {
      onDownstreamReset(r.errorCode());
      return;
    }
    if (closed) {
      drop(msg);
      return;
    }
    if (msg instanceof Http2HeadersFrame h && !started) {
      started = true;
      onRequestHeaders(h);
      return;
    }
    Frame f;
    if (msg instanceof Http2HeadersFrame h) {
      f = new Frame(withoutHopByHop(h.headers()), null, h.isEndStream(), 0);
    } else if (msg instanceof Http2DataFrame d) {
      f = new Frame(null, d.content(), d.isEndStream(), d.initialFlowControlledBytes());
    } else {
      ReferenceCountUtil.release(msg);
      return;
    }
    requestEnded |= f.endStream();
    for (RequestMirror m : mirrors) {
      if (msg instanceof Http2DataFrame d) {
        m.sendData(d);
      } else {
        m.send(new DefaultHttp2HeadersFrame(f.headers(), f.endStream()));
      }
    }
    enqueue(f);
  }

  /**
   * The downstream stream is gone: completed, reset, failed, or its connection died. Called once,
   * by {@link DownstreamStreams}.
   */
  void onStreamClosed() {
    Attempt a = current;
    // Teardown first: the upstream stream reset below must not read as an upstream failure.
    teardown();
    if (a != null && !a.ended && a.up != null && a.up.isOpen()) {
      // The server sees the cancellation (closing the child stream used to send the same).
      a.up.cancel();
    }
  }

  /** A stream error on the downstream side the codec left to us: end this stream. */
  void onStreamError(Throwable cause) {
    log.debug("downstream.stream.error cause={}", String.valueOf(cause));
    resetDown(Http2Error.CANCEL.code());
  }

  private void onRequestHeaders(Http2HeadersFrame h) {
    requestEnded = h.isEndStream();
    Channel conn = ctx.channel();
    call = observer.call(h.headers(), conn);
    try {
      target = router.route(snapshots.get(), h.headers(), conn);
    } catch (ProxyException e) {
      respondError(e);
      return;
    }
    pool = pools.forLoop(conn.eventLoop());
    // Before the route's header changes, which may touch grpc-timeout: the caller's deadline holds.
    scheduleDeadline(h.headers());
    Http2Headers up = withoutHopByHop(h.headers());
    applyRequestMutations(up, target.mutations());
    if (forwardedClientCert != null) {
      // Only the sidecar that verified the caller may say who it is: drop any claim the caller
      // sent itself, then state what the TLS handshake proved.
      up.remove(MeshTls.FORWARDED_CLIENT_CERT);
      String xfcc = forwardedClientCert.apply(conn);
      if (xfcc != null) {
        up.set(MeshTls.FORWARDED_CLIENT_CERT, xfcc);
      }
    }
    call.routed(target.cluster(), target.tls(), up);
    // Request DATA waits in the queue until an upstream stream is ready to take it; its window is
    // returned only once written there, so the caller can send at most one window meanwhile.
    enqueue(new Frame(up, null, h.isEndStream(), 0));
    startMirrors(up, h.isEndStream());
    startAttempt();
  }

  private void startMirrors(Http2Headers up, boolean endStream) {
    if (target.mirrors().isEmpty()) {
      return;
    }
    mirrors = new ArrayList<>(target.mirrors().size());
    for (CallTarget.Mirror m : target.mirrors()) {
      mirrors.add(RequestMirror.start(pool, m, up, endStream, clientTls));
    }
  }

  private void onDownstreamReset(long code) {
    Attempt a = current;
    closed = true;
    call.end(ResponseFlag.DOWNSTREAM_CANCELLED);
    for (RequestMirror m : mirrors) {
      m.abandon("the caller cancelled");
    }
    if (a != null && a.up != null && a.up.isOpen() && !a.ended) {
      // Forward the caller's cancellation with its own error code.
      a.up.reset(code);
    }
    teardown();
  }

  private void enqueue(Frame f) {
    if (replay != null) {
      replayBytes += f.size();
      if (replayBytes > limits.retryBufferBytes()) {
        dropReplay();
      } else {
        replay.add(f.dup());
      }
    }
    Attempt a = current;
    if (started && target != null && (a == null || !a.ended || (a.up != null && a.up.isOpen()))) {
      queue.add(f);
      drain();
    } else {
      release(f);
    }
  }

  /** Writes queued request frames to the ready upstream stream. */
  private void drain() {
    Attempt a = current;
    if (a == null || !a.ready) {
      return;
    }
    boolean wrote = false;
    // A failed write may end this attempt (and start the next) right here: stop then.
    while (!queue.isEmpty() && current == a) {
      Frame f = queue.poll();
      a.up
          .write(f.toNetty())
          .addListener(
              w -> {
                a.writeDone(w.isSuccess(), w.cause());
                // Written (or failed): the caller may send these bytes again.
                returnDownWindow(f.window());
              });
      wrote = true;
    }
    if (wrote) {
      a.up.flush();
    }
  }

  // ---------------------------------------------------------------- upstream attempts

  private void startAttempt() {
    if (closed) {
      return;
    }
    Endpoint ep = target.lb().pick(target.endpoints(), tried);
    if (ep == null) {
      respondError(
          tried.isEmpty()
              ? new ProxyException.NoHealthyUpstream(target.cluster())
              : new ProxyException.UpstreamUnavailable(
                  target.cluster(), String.join(",", tried), lastFailure));
      return;
    }
    if (target.tls() && (clientTls == null || clientTls.get() == null)) {
      // The cluster asks for mTLS and there is no certificate yet: fail closed, never fall back
      // to plaintext.
      respondError(
          new ProxyException.UpstreamUnavailable(
              target.cluster(), ep.address(), "no workload certificate for mutual TLS yet"));
      return;
    }
    tried = tried.isEmpty() ? Set.of(ep.address()) : withOneMore(tried, ep.address());
    attempts++;
    call.attempt(ep.metadata());
    Attempt a = new Attempt(ep, loads.of(ep.address()));
    current = a;
    pool.acquire(ep, target.connectTimeoutMillis(), target.tls() ? clientTls : null)
        .addListener(
            f -> {
              if (current != a || closed) {
                return;
              }
              if (!f.isSuccess()) {
                a.load.connectFailed(EJECT_NANOS);
                retryOrFail(a, "connect failed: " + f.cause(), true);
                return;
              }
              a.load.connectSucceeded();
              a.conn = (UpstreamConnection) f.getNow();
              a.up = pool.openStream(a.conn, a);
              if (a.up == null) {
                retryOrFail(a, "stream open failed: connection closed", true);
                return;
              }
              a.ready = true;
              a.began = true;
              a.startNanos = System.nanoTime();
              a.load.begin();
              drain();
            });
  }

  /** An attempt failed before its response started: retry it if safe and allowed, else fail. */
  private void retryOrFail(Attempt a, String why, boolean safe) {
    if (current != a || closed) {
      return;
    }
    a.finish();
    lastFailure = why;
    log.debug("upstream.attempt.failed endpoint={} safe={} why={}", a.ep.address(), safe, why);
    if (safe && replay != null && !responseStarted && attempts < limits.maxAttempts()) {
      releaseQueue();
      for (Frame f : replay) {
        queue.add(f.dup());
      }
      current = null;
      startAttempt();
      return;
    }
    current = null;
    if (!responseStarted) {
      respondError(new ProxyException.UpstreamUnavailable(target.cluster(), a.ep.address(), why));
    } else {
      resetDownstream(Http2Error.CANCEL.code());
    }
  }

  private void onUpstreamFrame(Attempt a, Http2StreamFrame msg) {
    if (a != current || closed || responseEnded) {
      dropUpstream(a, msg);
      return;
    }
    if (msg instanceof Http2HeadersFrame h) {
      call.response(h.headers());
      Http2Headers out = withoutHopByHop(h.headers());
      if (!responseStarted) {
        responseStarted = true;
        dropReplay();
        applyResponseMutations(out, target.mutations());
      }
      if (h.isEndStream()) {
        // Before the write: the write may close the downstream stream at once, which must find
        // the call complete.
        onResponseEnded(a);
      }
      writeDown(new DefaultHttp2HeadersFrame(out, h.isEndStream()), a, 0);
    } else if (msg instanceof Http2DataFrame d) {
      if (!responseStarted) {
        // DATA before HEADERS is a protocol error by the upstream.
        d.release();
        a.up.cancel();
        return;
      }
      if (d.isEndStream()) {
        onResponseEnded(a);
      }
      writeDown(
          new DefaultHttp2DataFrame(d.content(), d.isEndStream()),
          a,
          d.initialFlowControlledBytes());
    } else if (msg instanceof Http2ResetFrame r) {
      a.ended = true;
      if (!responseStarted && r.errorCode() == Http2Error.REFUSED_STREAM.code()) {
        retryOrFail(a, "stream refused", true);
      } else {
        a.finish();
        resetDownstream(r.errorCode());
      }
    } else {
      ReferenceCountUtil.release(msg);
    }
  }

  /**
   * Writes a response frame downstream. The upstream window of a DATA frame ({@code window} bytes)
   * is returned once the frame left, so a slow caller holds the server to one window.
   */
  private void writeDown(Http2StreamFrame frame, Attempt a, int window) {
    if (!downOpen()) {
      ReferenceCountUtil.release(frame);
      a.up.returnWindow(window);
      return;
    }
    frame.stream(stream);
    if (window == 0) {
      ctx.writeAndFlush(frame).addListener(downWriteDone);
      return;
    }
    UpstreamStream up = a.up;
    ctx.writeAndFlush(frame)
        .addListener(
            w -> {
              up.returnWindow(window);
              downWriteDone.operationComplete((ChannelFuture) w);
            });
  }

  private void onResponseEnded(Attempt a) {
    responseEnded = true;
    call.end(null);
    a.ended = true;
    a.finish();
    cancelDeadline();
    // A gRPC server may end the call before the client ended its request: stop forwarding.
    releaseQueue();
  }

  /** The upstream stream closed: fine after a complete response, else a failure to handle. */
  private void onUpstreamClosed(Attempt a) {
    if (a != current || closed || responseEnded) {
      return;
    }
    boolean safe =
        a.refused || a.up.createFailed() || (a.conn != null && a.conn.refused(a.up.id()));
    retryOrFail(a, a.refused ? "beyond GOAWAY last stream id" : "upstream stream closed", safe);
  }

  // ---------------------------------------------------------------- answers to the caller

  /** Answers with a gRPC status: trailers-only before a response started, trailers after. */
  private void respondError(ProxyException e) {
    if (responseEnded || !started) {
      return;
    }
    responseEnded = true;
    cancelDeadline();
    int code = GrpcStatusMapper.code(e);
    log.debug("call.error status={} message={}", code, e.getMessage());
    call.localReply(code, ResponseFlag.of(e));
    call.end(null);
    Http2Headers h = new DefaultHttp2Headers();
    if (!responseStarted) {
      h.status("200");
      h.set("content-type", "application/grpc");
    }
    responseStarted = true;
    h.set("grpc-status", Integer.toString(code));
    h.set(
        "grpc-message",
        URLEncoder.encode(e.getMessage(), StandardCharsets.UTF_8).replace("+", "%20"));
    Attempt a = current;
    if (a != null && a.up != null && a.up.isOpen()) {
      a.up.cancel();
    }
    releaseQueue();
    dropReplay();
    if (!downOpen()) {
      return;
    }
    boolean reqEnded = requestEnded;
    ctx.writeAndFlush(new DefaultHttp2HeadersFrame(h, true).stream(stream))
        .addListener(
            f -> {
              if (!reqEnded) {
                // The caller is still sending: reset our half so it stops.
                resetDown(Http2Error.CANCEL.code());
              }
            });
  }

  private void resetDownstream(long code) {
    responseEnded = true;
    call.end(ResponseFlag.UPSTREAM_RESET);
    cancelDeadline();
    resetDown(code);
    teardown();
  }

  private void scheduleDeadline(Http2Headers headers) {
    long nanos = GrpcTimeout.parseNanos(headers.get(GRPC_TIMEOUT));
    if (target.timeout() != null) {
      long routeNanos = target.timeout().toNanos();
      nanos = nanos < 0 ? routeNanos : Math.min(nanos, routeNanos);
    }
    if (nanos < 0) {
      return;
    }
    deadlineNanos = nanos;
    deadline =
        ctx.executor()
            .schedule(
                () -> {
                  if (!responseEnded && !closed) {
                    respondError(
                        new ProxyException.DeadlineExceeded(
                            TimeUnit.NANOSECONDS.toMillis(deadlineNanos)));
                  }
                },
                nanos,
                TimeUnit.NANOSECONDS);
  }

  private void cancelDeadline() {
    if (deadline != null) {
      deadline.cancel(false);
      deadline = null;
    }
  }

  private void teardown() {
    closed = true;
    // The downstream stream is gone: a call not over by now was abandoned by its caller.
    call.end(responseEnded ? null : ResponseFlag.DOWNSTREAM_CANCELLED);
    cancelDeadline();
    Attempt a = current;
    if (a != null) {
      a.finish();
    }
    releaseQueue();
    dropReplay();
  }

  // ---------------------------------------------------------------- the downstream stream

  /** True while frames may be written downstream: the stream is open and we did not reset it. */
  private boolean downOpen() {
    return !downReset && stream.state() != Http2Stream.State.CLOSED && ctx.channel().isActive();
  }

  /** RST_STREAM({@code code}) downstream, once, if the stream is still open. */
  private void resetDown(long code) {
    if (downOpen()) {
      downReset = true;
      ctx.writeAndFlush(new DefaultHttp2ResetFrame(code).stream(stream), quietVoid);
    }
  }

  /**
   * Returns {@code bytes} of the downstream stream's window to the caller. Nothing for a closed
   * stream: the codec returned its unconsumed bytes to the connection already, and rejects it.
   */
  private void returnDownWindow(int bytes) {
    StreamWindows.give(ctx, stream, bytes, quietVoid);
  }

  /** A downstream frame nobody takes: released, its window returned. */
  private void drop(Http2StreamFrame msg) {
    if (msg instanceof Http2DataFrame d) {
      returnDownWindow(d.initialFlowControlledBytes());
    }
    ReferenceCountUtil.release(msg);
  }

  private static void dropUpstream(Attempt a, Http2StreamFrame msg) {
    if (msg instanceof Http2DataFrame d && a.up != null) {
      a.up.returnWindow(d.initialFlowControlledBytes());
    }
    ReferenceCountUtil.release(msg);
  }

  private static Set<String> withOneMore(Set<String> set, String element) {
    Set<String> more = new HashSet<>(set);
    more.add(element);
    return more;
  }

  private void release(Frame f) {
    if (f.data() != null) {
      f.data().release();
    }
    returnDownWindow(f.window());
  }

  private void releaseQueue() {
    Frame f;
    while ((f = queue.poll()) != null) {
      release(f);
    }
  }

  private void dropReplay() {
    if (replay != null) {
      replay.forEach(this::release);
      replay = null;
    }
  }

  // ---------------------------------------------------------------- headers

  /**
   * The headers the codec decoded for this call, edited in place: they belong to this call alone
   * (telemetry and routing read what they need first), so copying them again would only cost an
   * allocation per header, per direction, per call. HTTP/2 forbids connection headers and Netty's
   * decoder rejects them; removing them is a second line of defence.
   */
  static Http2Headers withoutHopByHop(Http2Headers h) {
    for (AsciiString name : HOP_BY_HOP) {
      h.remove(name);
    }
    return h;
  }

  /** A copy without hop-by-hop headers, for a second stream of the same request (a mirror). */
  static Http2Headers copyHeaders(Http2Headers in) {
    DefaultHttp2Headers out = new DefaultHttp2Headers(false, in.size());
    for (Map.Entry<CharSequence, CharSequence> e : in) {
      CharSequence name = e.getKey();
      if (HOP_BY_HOP.contains(AsciiString.of(name))) {
        continue;
      }
      out.add(name, e.getValue());
    }
    return out;
  }

  private static void applyRequestMutations(Http2Headers h, HeaderMutations m) {
    for (String name : m.requestRemove()) {
      h.remove(name);
    }
    for (HeaderMutations.Header add : m.requestAdd()) {
      if (add.append()) {
        h.add(add.name(), add.value());
      } else {
        h.set(add.name(), add.value());
      }
    }
  }

  private static void applyResponseMutations(Http2Headers h, HeaderMutations m) {
    for (String name : m.responseRemove()) {
      h.remove(name);
    }
    for (HeaderMutations.Header add : m.responseAdd()) {
      if (add.append()) {
        h.add(add.name(), add.value());
      } else {
        h.set(add.name(), add.value());
      }
    }
  }

  // ---------------------------------------------------------------- one upstream attempt

  /** One try on one endpoint: the owner of its upstream stream; events go to the outer call. */
  private final class Attempt implements UpstreamStream.Listener {
    final Endpoint ep;
    final EndpointLoad load;
    UpstreamConnection conn;
    UpstreamStream up;
    boolean ready;
    boolean began;
    boolean ended;
    boolean refused;
    long startNanos;

    Attempt(Endpoint ep, EndpointLoad load) {
      this.ep = ep;
      this.load = load;
    }

    void writeDone(boolean ok, Throwable cause) {
      if (!ok) {
        log.debug(
            "upstream.write.failed endpoint={} cause={}", ep.address(), String.valueOf(cause));
      }
    }

    void finish() {
      if (began) {
        began = false;
        load.end(System.nanoTime() - startNanos);
      }
    }

    @Override
    public void onFrame(UpstreamStream s, Http2StreamFrame frame) {
      onUpstreamFrame(this, frame);
    }

    @Override
    public void onRefused(UpstreamStream s) {
      // Above the GOAWAY's last stream id (or not created yet): the server never processed it.
      refused = true;
    }

    @Override
    public void onClosed(UpstreamStream s) {
      onUpstreamClosed(this);
    }
  }
}
