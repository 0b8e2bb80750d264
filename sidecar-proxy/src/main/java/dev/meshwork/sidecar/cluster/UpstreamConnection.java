package dev.meshwork.sidecar.cluster;

import io.netty.channel.Channel;
import io.netty.handler.codec.http2.Http2FrameCodec;

/**
 * One pooled HTTP/2 connection to an endpoint. Confined to its event loop.
 *
 * <p>After a GOAWAY it is draining: no new streams go on it, and streams above the GOAWAY's last
 * stream id were never processed by the server, so the caller may retry them elsewhere.
 */
public final class UpstreamConnection {
  private final Channel channel;
  private final Http2FrameCodec codec;
  private final UpstreamStreams dispatcher;
  private final String address;
  private int streams;
  private long maxStreams = 1000;
  private boolean draining;
  private int goAwayLastStreamId = Integer.MAX_VALUE;

  UpstreamConnection(
      Channel channel, Http2FrameCodec codec, UpstreamStreams streams, String address) {
    this.channel = channel;
    this.codec = codec;
    this.dispatcher = streams;
    this.address = address;
  }

  public Channel channel() {
    return channel;
  }

  public String address() {
    return address;
  }

  /** True when a new stream may be opened here now. */
  boolean usable() {
    return channel.isActive() && !draining && streams < maxStreams;
  }

  void streamOpened() {
    streams++;
  }

  void streamClosed() {
    streams--;
    if (draining && streams <= 0) {
      channel.close();
    }
  }

  int streams() {
    return streams;
  }

  void maxStreams(long max) {
    this.maxStreams = Math.max(1, max);
  }

  void goAway(int lastStreamId) {
    draining = true;
    goAwayLastStreamId = Math.min(goAwayLastStreamId, lastStreamId);
    if (streams <= 0) {
      channel.close();
    }
  }

  /**
   * True when the server said (GOAWAY) it never processed {@code streamId}: safe to retry.
   *
   * @param streamId the stream's id, or -1 when the stream never got one (never sent)
   */
  public boolean refused(int streamId) {
    return streamId < 0 || (draining && streamId > goAwayLastStreamId);
  }

  /** The handler that dispatches this connection's frames to its streams. */
  UpstreamStreams dispatcher() {
    return dispatcher;
  }

  Http2FrameCodec codec() {
    return codec;
  }
}
