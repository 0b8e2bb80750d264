package dev.meshwork.sidecar.listener;

import dev.meshwork.sidecar.cluster.Endpoint;
import dev.meshwork.sidecar.cluster.UpstreamConnection;
import dev.meshwork.sidecar.cluster.UpstreamPool;
import dev.meshwork.sidecar.cluster.UpstreamPools;
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
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.DefaultHttp2ResetFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2GoAwayFrame;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2ResetFrame;
import io.netty.handler.codec.http2.Http2StreamChannel;
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
 * <p>Where it goes: the child-channel pipeline of {@code Http2MultiplexHandler}, one instance per
 * downstream stream. The upstream stream is a child channel of a connection owned by the same event
 * loop, so both halves run on one thread.
 *
 * <p>Flow control end to end: each side reads only while the other side's stream is writable (its
 * HTTP/2 window has room). Netty returns a stream's flow-control window only when a DATA frame is
 * read by the child pipeline, so a slow reader stops the writer at one window per hop, never an
 * unbounded buffer.
 *
 * <p>Buffer ownership: a DATA frame's content read from one side is handed to the frame written on
 * the other side (no copy). While no response has arrived, a retained duplicate of each request
 * frame is kept (up to {@link ProxyLimits#retryBufferBytes()}) so that a call the upstream never
 * processed (connect failure, refused stream, beyond GOAWAY's last stream id) can be replayed on
 * another endpoint.
 */
public final class ProxyStreamHandler extends ChannelInboundHandlerAdapter {
  private static final Logger log = LoggerFactory.getLogger(ProxyStreamHandler.class);
  private static final long EJECT_NANOS = TimeUnit.SECONDS.toNanos(5);
  private static final AsciiString GRPC_TIMEOUT = AsciiString.cached("grpc-timeout");
  private static final Set<AsciiString> HOP_BY_HOP =
      Set.of(
          AsciiString.cached("connection"),
          AsciiString.cached("keep-alive"),
          AsciiString.cached("proxy-connection"),
          AsciiString.cached("transfer-encoding"),
          AsciiString.cached("upgrade"));

  /** A request frame as the proxy keeps it: headers, or data it owns one reference of. */
  private record Frame(Http2Headers headers, ByteBuf data, boolean endStream) {
    Http2StreamFrame toNetty() {
      return headers != null
          ? new DefaultHttp2HeadersFrame(headers, endStream)
          : new DefaultHttp2DataFrame(data, endStream);
    }

    Frame dup() {
      return new Frame(headers, data == null ? null : data.retainedDuplicate(), endStream);
    }

    int size() {
      return data == null ? 256 : data.readableBytes();
    }

    void release() {
      if (data != null) {
        data.release();
      }
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

  private Channel down;
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

  /**
   * @param clientTls the client TLS context for mTLS clusters, or null when mTLS is unavailable
   * @param forwardedClientCert inbound: the {@code x-forwarded-client-cert} value for the call's
   *     connection; null on outbound
   * @param observer the listener's telemetry hook
   */
  public ProxyStreamHandler(
      SnapshotHolder snapshots,
      CallRouter router,
      UpstreamPools pools,
      LoadRegistry loads,
      ProxyLimits limits,
      Supplier<SslContext> clientTls,
      java.util.function.Function<io.netty.channel.Channel, String> forwardedClientCert,
      TrafficObserver observer) {
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

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (msg instanceof Http2ResetFrame r) {
      onDownstreamReset(r.errorCode());
      return;
    }
    if (!(msg instanceof Http2StreamFrame) || closed) {
      ReferenceCountUtil.release(msg);
      return;
    }
    if (msg instanceof Http2HeadersFrame h && !started) {
      started = true;
      down = ctx.channel();
      onRequestHeaders(h);
      return;
    }
    Frame f;
    if (msg instanceof Http2HeadersFrame h) {
      f = new Frame(copyHeaders(h.headers()), null, h.isEndStream());
    } else if (msg instanceof Http2DataFrame d) {
      f = new Frame(null, d.content(), d.isEndStream());
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

  @Override
  public void channelWritabilityChanged(ChannelHandlerContext ctx) {
    Attempt a = current;
    if (ctx.channel().isWritable() && a != null && a.ch != null) {
      a.ch.config().setAutoRead(true);
    }
    ctx.fireChannelWritabilityChanged();
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    // The downstream stream is gone (completed, reset, or its connection died).
    Attempt a = current;
    if (a != null && !a.ended && a.ch != null && a.ch.isActive()) {
      // Closing an open child stream sends RST_STREAM(CANCEL): the server sees the cancellation.
      a.ch.close();
    }
    teardown();
    ctx.fireChannelInactive();
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    log.debug("downstream.stream.error cause={}", cause.toString());
    ctx.close();
  }

  private void onRequestHeaders(Http2HeadersFrame h) {
    requestEnded = h.isEndStream();
    call = observer.call(h.headers(), down.parent());
    try {
      target = router.route(snapshots.get(), h.headers(), down.parent());
    } catch (ProxyException e) {
      respondError(e);
      return;
    }
    pool = pools.forLoop(down.eventLoop());
    Http2Headers up = copyHeaders(h.headers());
    applyRequestMutations(up, target.mutations());
    if (forwardedClientCert != null) {
      // Only the sidecar that verified the caller may say who it is: drop any claim the caller
      // sent itself, then state what the TLS handshake proved.
      up.remove(MeshTls.FORWARDED_CLIENT_CERT);
      String xfcc = forwardedClientCert.apply(down.parent());
      if (xfcc != null) {
        up.set(MeshTls.FORWARDED_CLIENT_CERT, xfcc);
      }
    }
    call.routed(target.cluster(), target.tls(), up);
    scheduleDeadline(h.headers());
    // Read nothing more until an upstream stream is ready to take it.
    down.config().setAutoRead(false);
    enqueue(new Frame(up, null, h.isEndStream()));
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
    if (a != null && a.ch != null && a.ch.isActive() && !a.ended) {
      // Forward the caller's cancellation with its own error code.
      a.ch.writeAndFlush(new DefaultHttp2ResetFrame(code));
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
    if (started && target != null && (a == null || !a.ended || (a.ch != null && a.ch.isActive()))) {
      queue.add(f);
      drain();
    } else {
      f.release();
    }
  }

  /** Writes queued request frames to the ready upstream stream, then adjusts reading. */
  private void drain() {
    Attempt a = current;
    if (a == null || !a.ready) {
      return;
    }
    boolean wrote = false;
    while (!queue.isEmpty()) {
      Frame f = queue.poll();
      a.ch.write(f.toNetty()).addListener(w -> a.writeDone(w.isSuccess(), w.cause()));
      wrote = true;
    }
    if (wrote) {
      a.ch.flush();
    }
    down.config().setAutoRead(a.ch.isWritable());
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
              pool.openStream(a.conn, a)
                  .addListener(
                      sf -> {
                        if (!sf.isSuccess()) {
                          if (current == a) {
                            retryOrFail(a, "stream open failed: " + sf.cause(), true);
                          }
                          return;
                        }
                        a.ch = (Http2StreamChannel) sf.getNow();
                        if (current != a || closed) {
                          a.ch.close();
                          return;
                        }
                        a.ready = true;
                        a.began = true;
                        a.startNanos = System.nanoTime();
                        a.load.begin();
                        drain();
                      });
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
      down.config().setAutoRead(false);
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

  private void onUpstreamFrame(Attempt a, Object msg) {
    if (a != current || closed || responseEnded) {
      ReferenceCountUtil.release(msg);
      return;
    }
    if (msg instanceof Http2HeadersFrame h) {
      call.response(h.headers());
      Http2Headers out = copyHeaders(h.headers());
      if (!responseStarted) {
        responseStarted = true;
        dropReplay();
        applyResponseMutations(out, target.mutations());
      }
      writeDown(new DefaultHttp2HeadersFrame(out, h.isEndStream()), a);
      if (h.isEndStream()) {
        onResponseEnded(a);
      }
    } else if (msg instanceof Http2DataFrame d) {
      if (!responseStarted) {
        // DATA before HEADERS is a protocol error by the upstream.
        d.release();
        a.ch.close();
        return;
      }
      writeDown(new DefaultHttp2DataFrame(d.content(), d.isEndStream()), a);
      if (d.isEndStream()) {
        onResponseEnded(a);
      }
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

  private void writeDown(Http2StreamFrame frame, Attempt a) {
    // No promise per frame: a failed write reaches exceptionCaught, which ends this stream.
    down.writeAndFlush(frame, down.voidPromise());
    if (!down.isWritable() && a.ch != null) {
      a.ch.config().setAutoRead(false);
    }
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
        a.refused
            || a.headersFailed
            || (a.conn != null && a.ch != null && a.conn.refused(a.ch.stream().id()));
    retryOrFail(a, a.refused ? "beyond GOAWAY last stream id" : "upstream stream closed", safe);
  }

  // ---------------------------------------------------------------- answers to the caller

  /** Answers with a gRPC status: trailers-only before a response started, trailers after. */
  private void respondError(ProxyException e) {
    if (responseEnded || down == null) {
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
    if (a != null && a.ch != null && a.ch.isActive()) {
      a.ch.close();
    }
    releaseQueue();
    dropReplay();
    boolean reqEnded = requestEnded;
    down.writeAndFlush(new DefaultHttp2HeadersFrame(h, true))
        .addListener(
            f -> {
              if (!reqEnded) {
                // The caller is still sending: reset our half so it stops.
                down.close();
              }
            });
  }

  private void resetDownstream(long code) {
    responseEnded = true;
    call.end(ResponseFlag.UPSTREAM_RESET);
    cancelDeadline();
    if (down.isActive()) {
      down.writeAndFlush(new DefaultHttp2ResetFrame(code));
    }
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
        down.eventLoop()
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

  private static Set<String> withOneMore(Set<String> set, String element) {
    Set<String> more = new HashSet<>(set);
    more.add(element);
    return more;
  }

  private void releaseQueue() {
    Frame f;
    while ((f = queue.poll()) != null) {
      f.release();
    }
  }

  private void dropReplay() {
    if (replay != null) {
      replay.forEach(Frame::release);
      replay = null;
    }
  }

  // ---------------------------------------------------------------- headers

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

  /** The upstream child-stream handler of one attempt; events are passed to the outer call. */
  private final class Attempt extends ChannelInboundHandlerAdapter {
    final Endpoint ep;
    final EndpointLoad load;
    UpstreamConnection conn;
    Http2StreamChannel ch;
    boolean ready;
    boolean began;
    boolean ended;
    boolean refused;
    boolean headersFailed;
    boolean firstWriteSeen;
    long startNanos;

    Attempt(Endpoint ep, EndpointLoad load) {
      this.ep = ep;
      this.load = load;
    }

    void writeDone(boolean ok, Throwable cause) {
      if (!firstWriteSeen) {
        firstWriteSeen = true;
        // A failed first HEADERS write means no stream was created upstream: safe to retry.
        headersFailed = !ok;
      }
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
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      onUpstreamFrame(this, msg);
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
      if (evt instanceof Http2GoAwayFrame g) {
        // Fired on streams above the GOAWAY's last stream id: the server never processed them.
        refused = true;
        g.release();
        return;
      }
      ReferenceCountUtil.release(evt);
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
      if (this == current && ready && ctx.channel().isWritable() && down != null && !closed) {
        down.config().setAutoRead(true);
      }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      onUpstreamClosed(this);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      log.debug("upstream.stream.error endpoint={} cause={}", ep.address(), cause.toString());
      ctx.close();
    }
  }
}
