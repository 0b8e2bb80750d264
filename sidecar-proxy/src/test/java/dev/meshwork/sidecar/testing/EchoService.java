package dev.meshwork.sidecar.testing;

import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.StreamObserver;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A gRPC service with raw byte messages (no codegen) covering every call shape. Responses start
 * with the backend's name so tests can see which backend served a call.
 */
public final class EchoService {
  public static final String SERVICE = "test.Echo";

  public static final MethodDescriptor.Marshaller<byte[]> BYTES =
      new MethodDescriptor.Marshaller<>() {
        @Override
        public InputStream stream(byte[] value) {
          return new ByteArrayInputStream(value);
        }

        @Override
        public byte[] parse(InputStream stream) {
          try {
            return stream.readAllBytes();
          } catch (IOException e) {
            throw new UncheckedIOException(e);
          }
        }
      };

  public static final MethodDescriptor<byte[], byte[]> UNARY =
      method("Unary", MethodDescriptor.MethodType.UNARY);
  public static final MethodDescriptor<byte[], byte[]> SERVER_STREAM =
      method("ServerStream", MethodDescriptor.MethodType.SERVER_STREAMING);
  public static final MethodDescriptor<byte[], byte[]> CLIENT_STREAM =
      method("ClientStream", MethodDescriptor.MethodType.CLIENT_STREAMING);
  public static final MethodDescriptor<byte[], byte[]> BIDI =
      method("Bidi", MethodDescriptor.MethodType.BIDI_STREAMING);

  /** Answers nothing until cancelled; counts cancellations. */
  public static final MethodDescriptor<byte[], byte[]> HANG =
      method("Hang", MethodDescriptor.MethodType.UNARY);

  /** Fails with the status code given as the request's text, with a trailer "x-detail". */
  public static final MethodDescriptor<byte[], byte[]> FAIL =
      method("Fail", MethodDescriptor.MethodType.UNARY);

  /** Streams 1 MiB messages while the client is ready; counts bytes written. */
  public static final MethodDescriptor<byte[], byte[]> FLOOD =
      method("Flood", MethodDescriptor.MethodType.SERVER_STREAMING);

  /** Answers like {@link #UNARY} after the number of milliseconds given as the request's text. */
  public static final MethodDescriptor<byte[], byte[]> SLOW =
      method("Slow", MethodDescriptor.MethodType.UNARY);

  private static final java.util.concurrent.ScheduledExecutorService TIMER =
      java.util.concurrent.Executors.newSingleThreadScheduledExecutor(
          r -> {
            Thread t = new Thread(r, "echo-slow");
            t.setDaemon(true);
            return t;
          });

  public static final Metadata.Key<String> DETAIL =
      Metadata.Key.of("x-detail", Metadata.ASCII_STRING_MARSHALLER);

  public final String name;
  public final AtomicInteger calls = new AtomicInteger();
  public final AtomicInteger cancellations = new AtomicInteger();
  public final CountDownLatch hangStarted = new CountDownLatch(1);
  public final AtomicLong floodBytes = new AtomicLong();
  public volatile Metadata lastHeaders;

  public EchoService(String name) {
    this.name = name;
  }

  private static MethodDescriptor<byte[], byte[]> method(
      String m, MethodDescriptor.MethodType type) {
    return MethodDescriptor.<byte[], byte[]>newBuilder()
        .setType(type)
        .setFullMethodName(MethodDescriptor.generateFullMethodName(SERVICE, m))
        .setRequestMarshaller(BYTES)
        .setResponseMarshaller(BYTES)
        .build();
  }

  private byte[] tag(byte[] payload) {
    byte[] n = (name + ":").getBytes(StandardCharsets.UTF_8);
    byte[] out = new byte[n.length + payload.length];
    System.arraycopy(n, 0, out, 0, n.length);
    System.arraycopy(payload, 0, out, n.length, payload.length);
    return out;
  }

  public ServerServiceDefinition definition() {
    return ServerServiceDefinition.builder(SERVICE)
        .addMethod(
            UNARY,
            ServerCalls.asyncUnaryCall(
                (req, obs) -> {
                  calls.incrementAndGet();
                  obs.onNext(tag(req));
                  obs.onCompleted();
                }))
        .addMethod(
            SERVER_STREAM,
            ServerCalls.asyncServerStreamingCall(
                (req, obs) -> {
                  calls.incrementAndGet();
                  int n = Integer.parseInt(new String(req, StandardCharsets.UTF_8));
                  for (int i = 0; i < n; i++) {
                    obs.onNext(tag(Integer.toString(i).getBytes(StandardCharsets.UTF_8)));
                  }
                  obs.onCompleted();
                }))
        .addMethod(
            CLIENT_STREAM,
            ServerCalls.asyncClientStreamingCall(
                obs -> {
                  calls.incrementAndGet();
                  return new StreamObserver<>() {
                    long total;
                    int count;

                    @Override
                    public void onNext(byte[] v) {
                      total += v.length;
                      count++;
                    }

                    @Override
                    public void onError(Throwable t) {}

                    @Override
                    public void onCompleted() {
                      obs.onNext(tag((count + "/" + total).getBytes(StandardCharsets.UTF_8)));
                      obs.onCompleted();
                    }
                  };
                }))
        .addMethod(
            BIDI,
            ServerCalls.asyncBidiStreamingCall(
                obs -> {
                  calls.incrementAndGet();
                  return new StreamObserver<>() {
                    @Override
                    public void onNext(byte[] v) {
                      obs.onNext(tag(v));
                    }

                    @Override
                    public void onError(Throwable t) {}

                    @Override
                    public void onCompleted() {
                      obs.onCompleted();
                    }
                  };
                }))
        .addMethod(
            HANG,
            ServerCalls.asyncUnaryCall(
                (req, obs) -> {
                  calls.incrementAndGet();
                  ((ServerCallStreamObserver<byte[]>) obs)
                      .setOnCancelHandler(cancellations::incrementAndGet);
                  hangStarted.countDown();
                }))
        .addMethod(
            FAIL,
            ServerCalls.asyncUnaryCall(
                (req, obs) -> {
                  calls.incrementAndGet();
                  Metadata trailers = new Metadata();
                  trailers.put(DETAIL, name);
                  int code = Integer.parseInt(new String(req, StandardCharsets.UTF_8));
                  obs.onError(
                      Status.fromCodeValue(code)
                          .withDescription("failed by " + name)
                          .asRuntimeException(trailers));
                }))
        .addMethod(
            SLOW,
            ServerCalls.asyncUnaryCall(
                (req, obs) -> {
                  calls.incrementAndGet();
                  long ms = Long.parseLong(new String(req, StandardCharsets.UTF_8));
                  TIMER.schedule(
                      () -> {
                        obs.onNext(tag(req));
                        obs.onCompleted();
                      },
                      ms,
                      java.util.concurrent.TimeUnit.MILLISECONDS);
                }))
        .addMethod(
            FLOOD,
            ServerCalls.asyncServerStreamingCall(
                (req, obs) -> {
                  calls.incrementAndGet();
                  ServerCallStreamObserver<byte[]> s = (ServerCallStreamObserver<byte[]>) obs;
                  byte[] chunk = new byte[1024 * 1024];
                  s.setOnCancelHandler(cancellations::incrementAndGet);
                  s.setOnReadyHandler(
                      () -> {
                        while (s.isReady() && !s.isCancelled()) {
                          s.onNext(chunk);
                          floodBytes.addAndGet(chunk.length);
                        }
                      });
                }))
        .build();
  }
}
