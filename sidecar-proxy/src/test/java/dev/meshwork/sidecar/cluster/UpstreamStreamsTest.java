package dev.meshwork.sidecar.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2StreamFrame;
import io.netty.util.ReferenceCountUtil;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The per-connection stream dispatch that replaced Netty's child channels, driven through a real
 * client {@link Http2FrameCodec} on an embedded channel: GOAWAY refusals, the pool's stream count,
 * and exactly one close per stream whatever ends it.
 */
class UpstreamStreamsTest {
  EmbeddedChannel ch;
  UpstreamConnection conn;
  UpstreamStreams streams;

  /** Records what the dispatcher tells one stream's owner. */
  static final class Owner implements UpstreamStream.Listener {
    final List<Http2StreamFrame> frames = new ArrayList<>();
    int refused;
    int closed;

    @Override
    public void onFrame(UpstreamStream s, Http2StreamFrame frame) {
      frames.add(frame);
      ReferenceCountUtil.release(frame);
    }

    @Override
    public void onRefused(UpstreamStream s) {
      refused++;
    }

    @Override
    public void onClosed(UpstreamStream s) {
      closed++;
    }
  }

  @BeforeEach
  void start() {
    Http2FrameCodec codec =
        Http2FrameCodecBuilder.forClient()
            .initialSettings(Http2Settings.defaultSettings().pushEnabled(false))
            .build();
    streams = new UpstreamStreams(codec);
    ch = new EmbeddedChannel(codec, streams);
    conn = new UpstreamConnection(ch, codec, streams, "test:1");
    // The server's preface: an empty SETTINGS frame.
    ch.writeInbound(frame(4, 0, 0, new byte[0]));
  }

  @AfterEach
  void stop() {
    ch.finishAndReleaseAll();
  }

  private UpstreamStream open(Owner owner) {
    conn.streamOpened();
    return streams.open(conn, owner);
  }

  private static Http2Headers request() {
    return new DefaultHttp2Headers()
        .method("POST")
        .scheme("http")
        .authority("svc")
        .path("/test.Echo/Unary");
  }

  private static ByteBuf frame(int type, int flags, int stream, byte[] payload) {
    ByteBuf b = Unpooled.buffer(9 + payload.length);
    b.writeMedium(payload.length).writeByte(type).writeByte(flags).writeInt(stream);
    return b.writeBytes(payload);
  }

  private void goAway(int lastStreamId) {
    ByteBuf payload = Unpooled.buffer(8).writeInt(lastStreamId).writeInt(0);
    byte[] p = new byte[8];
    payload.readBytes(p);
    payload.release();
    ch.writeInbound(frame(7, 0, 0, p));
  }

  @Test
  void goAwayRefusesStreamsAboveItsLastStreamIdAndThoseNotCreatedYet() {
    Owner below = new Owner();
    Owner above = new Owner();
    Owner notYet = new Owner();
    UpstreamStream s1 = open(below);
    UpstreamStream s3 = open(above);
    UpstreamStream unwritten = open(notYet);
    s1.write(new DefaultHttp2HeadersFrame(request(), false));
    s3.write(new DefaultHttp2HeadersFrame(request(), false));
    ch.flush();
    assertThat(s1.id()).isPositive();
    assertThat(s3.id()).isGreaterThan(s1.id());
    assertThat(unwritten.id()).isEqualTo(-1);
    assertThat(conn.streams()).isEqualTo(3);

    goAway(s1.id());

    assertThat(below.refused).isZero();
    assertThat(above.refused).isEqualTo(1);
    assertThat(notYet.refused).isEqualTo(1);
    // The codec closes the streams the server will never process: closed once, slot given back.
    assertThat(above.closed).isEqualTo(1);
    assertThat(below.closed).isZero();
    assertThat(s1.isOpen()).isTrue();
    assertThat(conn.streams()).isEqualTo(2);

    // A stream created after the GOAWAY fails its first HEADERS: never seen by the server.
    unwritten.write(new DefaultHttp2HeadersFrame(request(), true));
    ch.flush();
    assertThat(unwritten.createFailed()).isTrue();
    assertThat(notYet.closed).isEqualTo(1);
    assertThat(conn.streams()).isEqualTo(1);
    ch.checkException();
  }

  @Test
  void aResetStreamClosesOnceAndTakesNoMoreWindowOrWrites() {
    Owner owner = new Owner();
    UpstreamStream s = open(owner);
    s.write(new DefaultHttp2HeadersFrame(request(), false));
    ch.flush();
    s.cancel();
    ch.flush();
    assertThat(owner.closed).isEqualTo(1);
    assertThat(s.isOpen()).isFalse();
    assertThat(conn.streams()).isZero();
    ch.releaseOutbound();
    // After the close: no WINDOW_UPDATE for the closed stream, a write is released, not sent.
    s.returnWindow(1024);
    ByteBuf data = Unpooled.buffer(4).writeInt(42);
    assertThat(
            s.write(new io.netty.handler.codec.http2.DefaultHttp2DataFrame(data, true)).isSuccess())
        .isFalse();
    assertThat(data.refCnt()).isZero();
    ch.flush();
    assertThat((Object) ch.readOutbound()).isNull();
    ch.checkException();
  }

  @Test
  void theConnectionGoingAwayClosesEveryStreamOnce() {
    Owner created = new Owner();
    Owner notYet = new Owner();
    open(created).write(new DefaultHttp2HeadersFrame(request(), false));
    open(notYet);
    ch.flush();
    ch.close();
    assertThat(created.closed).isEqualTo(1);
    assertThat(notYet.closed).isEqualTo(1);
    assertThat(conn.streams()).isZero();
  }
}
