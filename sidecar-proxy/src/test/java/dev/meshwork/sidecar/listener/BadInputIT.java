package dev.meshwork.sidecar.listener;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.meshwork.sidecar.testing.EchoService;
import dev.meshwork.sidecar.testing.Mesh;
import dev.meshwork.sidecar.testing.RawH2;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.StreamObserver;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.slf4j.LoggerFactory;

/**
 * Bad input on the downstream side, each met with the protocol's own answer, while a well-behaved
 * grpc-java client on the same sidecar carries on. The sidecar runs with small limits set by flags:
 * header list 8 KiB, 4 concurrent streams per connection, 2 s idle timeout.
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class BadInputIT {
  static final String UNARY = "/" + EchoService.SERVICE + "/Unary";
  static final String HANG = "/" + EchoService.SERVICE + "/Hang";
  static final String FLOOD = "/" + EchoService.SERVICE + "/Flood";
  static final long PROTOCOL_ERROR = 0x1;
  static final long REFUSED_STREAM = 0x7;
  static final int SETTINGS_INITIAL_WINDOW_SIZE = 0x4;

  static Mesh mesh;
  static ManagedChannel channel;
  static InetSocketAddress proxy;

  @BeforeAll
  static void start() throws Exception {
    mesh =
        new Mesh(
            1,
            Cluster.LbPolicy.ROUND_ROBIN,
            "--max-header-list-size",
            "8192",
            "--max-concurrent-streams",
            "4",
            "--idle-timeout",
            "2");
    channel = mesh.client();
    proxy = mesh.sidecar.address("outbound");
  }

  @AfterAll
  static void stop() throws Exception {
    mesh.close();
  }

  @AfterEach
  void othersAreUntouched() {
    byte[] r =
        ClientCalls.blockingUnaryCall(
            channel,
            EchoService.UNARY,
            CallOptions.DEFAULT.withDeadlineAfter(10, TimeUnit.SECONDS),
            "fine".getBytes(StandardCharsets.UTF_8));
    assertThat(new String(r, StandardCharsets.UTF_8)).isEqualTo("b0:fine");
  }

  @Test
  void aCallerThatResetsItsConnectionIsRoutineNotAnUnhandledPipelineError() throws Exception {
    Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    Logger frontend = (Logger) LoggerFactory.getLogger(Http2Frontend.class);
    Level was = frontend.getLevel();
    ListAppender<ILoggingEvent> events = new ListAppender<>();
    events.start();
    root.addAppender(events);
    frontend.setLevel(Level.DEBUG);
    try {
      try (RawH2 raw = new RawH2(proxy)) {
        // A call in flight, then the caller's kernel aborts the connection (TCP RST).
        raw.preface().headers(1, RawH2.grpcRequest(Mesh.AUTHORITY, HANG), false);
        raw.await(f -> f.type() == RawH2.SETTINGS, Duration.ofSeconds(5));
        raw.reset();
      }
      Awaitility.await("the frontend's debug line for the reset connection")
          .atMost(Duration.ofSeconds(10))
          .until(
              () ->
                  snapshot(events).stream()
                      .anyMatch(
                          e -> e.getFormattedMessage().startsWith("downstream.connection.error")));
      // The call whose caller went away is recorded as cancelled by the caller, never as an
      // upstream failure (closing its upstream stream once read as one: UNAVAILABLE).
      Awaitility.await("the reset call in the sidecar's metrics")
          .atMost(Duration.ofSeconds(10))
          .until(() -> hangSeries().anyMatch(l -> l.contains("rpc_grpc_status_code=\"1\"")));
      assertThat(hangSeries())
          .allMatch(l -> l.contains("rpc_grpc_status_code=\"1\""), "status CANCELLED (1)")
          .anyMatch(l -> l.contains("DOWNSTREAM_CANCELLED"));
      assertThat(snapshot(events))
          .as("no WARN from the pipeline or the listener for a caller going away")
          .noneMatch(
              e ->
                  e.getLevel().isGreaterOrEqual(Level.WARN)
                      && (e.getLoggerName().startsWith("io.netty")
                          || e.getLoggerName().startsWith("dev.meshwork.sidecar.listener")));
    } finally {
      root.detachAppender(events);
      frontend.setLevel(was);
    }
  }

  /** The sidecar's request-counter lines for the Hang method, as /metrics serves them. */
  private static java.util.stream.Stream<String> hangSeries() throws java.io.IOException {
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    mesh.sidecar.telemetry().scrape(out);
    return out.toString(StandardCharsets.UTF_8)
        .lines()
        .filter(l -> l.startsWith("meshwork_requests_total{") && l.contains("rpc_method=\"Hang\""));
  }

  private static List<ILoggingEvent> snapshot(ListAppender<ILoggingEvent> appender) {
    synchronized (appender) {
      return List.copyOf(appender.list);
    }
  }

  @Test
  void malformedFrameGetsGoAwayProtocolErrorWhileAStreamElsewhereGoesOn() throws Exception {
    BlockingQueue<String> replies = new LinkedBlockingQueue<>();
    StreamObserver<byte[]> bidi =
        ClientCalls.asyncBidiStreamingCall(
            channel.newCall(EchoService.BIDI, CallOptions.DEFAULT), collect(replies));
    bidi.onNext("before".getBytes(StandardCharsets.UTF_8));
    assertThat(replies.poll(10, TimeUnit.SECONDS)).isEqualTo("b0:before");
    try (RawH2 raw = new RawH2(proxy)) {
      // DATA on stream 0 is a connection error (RFC 9113 6.1).
      raw.preface().frame(RawH2.DATA, 0, 0, new byte[] {1, 2, 3});
      RawH2.Frame goAway = raw.await(f -> f.type() == RawH2.GOAWAY, Duration.ofSeconds(5));
      assertThat(goAway).isNotNull();
      assertThat(goAway.errorCode()).isEqualTo(PROTOCOL_ERROR);
      assertThat(raw.closedWithin(Duration.ofSeconds(5))).isTrue();
    }
    bidi.onNext("after".getBytes(StandardCharsets.UTF_8));
    assertThat(replies.poll(10, TimeUnit.SECONDS)).isEqualTo("b0:after");
    bidi.onCompleted();
  }

  @Test
  void headersAboveTheLimitAreRefusedOnThatStreamAndTheConnectionServesOthers() throws Exception {
    try (RawH2 raw = new RawH2(proxy)) {
      raw.preface()
          .headers(
              1, RawH2.grpcRequest(Mesh.AUTHORITY, UNARY).add("x-big", "a".repeat(9000)), false);
      RawH2.Frame answer =
          raw.await(
              f -> f.stream() == 1 && (f.type() == RawH2.HEADERS || f.type() == RawH2.RST_STREAM),
              Duration.ofSeconds(5));
      assertThat(answer).isNotNull();
      if (answer.type() == RawH2.HEADERS) {
        assertThat(answer.headers().status().toString()).isEqualTo("431");
      }
      // The same connection still serves a call.
      raw.headers(3, RawH2.grpcRequest(Mesh.AUTHORITY, UNARY), false)
          .grpcMessage(3, "next".getBytes(StandardCharsets.UTF_8), true);
      RawH2.Frame trailers =
          raw.await(
              f ->
                  f.stream() == 3
                      && f.type() == RawH2.HEADERS
                      && f.headers().contains("grpc-status"),
              Duration.ofSeconds(5));
      assertThat(trailers).isNotNull();
      assertThat(trailers.headers().get("grpc-status").toString()).isEqualTo("0");
    }
  }

  @Test
  void headerBlockFarAboveTheLimitEndsOnlyItsOwnConnection() throws Exception {
    try (RawH2 raw = new RawH2(proxy)) {
      // Past 1.25 times the limit (10 KiB) the block is not even decoded: a connection error.
      // About 11 KiB encoded: one HEADERS frame, so the sidecar reads all we sent before closing.
      String junk = "x".repeat(13_000);
      raw.preface().headers(1, RawH2.grpcRequest(Mesh.AUTHORITY, UNARY).add("x-big", junk), false);
      RawH2.Frame goAway = raw.await(f -> f.type() == RawH2.GOAWAY, Duration.ofSeconds(5));
      assertThat(goAway).isNotNull();
      assertThat(raw.closedWithin(Duration.ofSeconds(5))).isTrue();
    }
  }

  @Test
  void streamsAboveTheConcurrencyLimitAreRefused() throws Exception {
    try (RawH2 raw = new RawH2(proxy)) {
      raw.preface();
      for (int s = 1; s <= 7; s += 2) {
        raw.headers(s, RawH2.grpcRequest(Mesh.AUTHORITY, HANG), false)
            .grpcMessage(s, "x".getBytes(StandardCharsets.UTF_8), true);
      }
      raw.headers(9, RawH2.grpcRequest(Mesh.AUTHORITY, HANG), false);
      RawH2.Frame reset =
          raw.await(f -> f.stream() == 9 && f.type() == RawH2.RST_STREAM, Duration.ofSeconds(5));
      assertThat(reset).isNotNull();
      assertThat(reset.errorCode()).isEqualTo(REFUSED_STREAM);
    }
  }

  @Test
  void aClientThatNeverReadsStopsTheServerWithinBoundedBuffers() throws Exception {
    EchoService server = mesh.backends.getFirst().service;
    long before = server.floodBytes.get();
    int cancelledBefore = server.cancellations.get();
    try (RawH2 raw = new RawH2(proxy)) {
      // Windows wide open: only TCP and the proxy's own back-pressure can stop the flood.
      raw.preface(SETTINGS_INITIAL_WINDOW_SIZE, Integer.MAX_VALUE)
          .windowUpdate(0, Integer.MAX_VALUE - 65_535)
          .headers(1, RawH2.grpcRequest(Mesh.AUTHORITY, FLOOD), false)
          .grpcMessage(1, "go".getBytes(StandardCharsets.UTF_8), true);
      // ... and never read again.
      Awaitility.await()
          .atMost(Duration.ofSeconds(10))
          .until(() -> server.floodBytes.get() > before);
      AtomicLong last = new AtomicLong(-1);
      Awaitility.await()
          .atMost(Duration.ofSeconds(30))
          .pollInterval(Duration.ofMillis(700))
          .until(() -> last.getAndSet(server.floodBytes.get()) == server.floodBytes.get());
      long written = server.floodBytes.get() - before;
      // Everything the server wrote sits in kernel socket buffers, HTTP/2 windows and the proxy's
      // bounded queues: tens of MiB at most, not the gigabytes a flood would reach.
      assertThat(written).isLessThan(64L * 1024 * 1024);
      othersAreUntouched();
    }
    // The reader went away: the flood is cancelled at the server.
    Awaitility.await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> server.cancellations.get() > cancelledBefore);
  }

  @Test
  void aSilentConnectionIsClosedByTheIdleTimeout() throws Exception {
    try (RawH2 raw = new RawH2(proxy)) {
      raw.preface(); // then nothing: the peer is gone without a FIN, or just idle
      RawH2.Frame goAway = raw.await(f -> f.type() == RawH2.GOAWAY, Duration.ofSeconds(10));
      assertThat(goAway).isNotNull();
      assertThat(goAway.errorCode()).isZero();
      assertThat(raw.closedWithin(Duration.ofSeconds(5))).isTrue();
    }
  }

  private static StreamObserver<byte[]> collect(BlockingQueue<String> q) {
    return new StreamObserver<>() {
      @Override
      public void onNext(byte[] v) {
        q.add(new String(v, StandardCharsets.UTF_8));
      }

      @Override
      public void onError(Throwable t) {
        q.add("error " + t);
      }

      @Override
      public void onCompleted() {}
    };
  }
}
