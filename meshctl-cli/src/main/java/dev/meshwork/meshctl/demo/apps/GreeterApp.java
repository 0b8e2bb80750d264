package dev.meshwork.meshctl.demo.apps;

import dev.meshwork.meshctl.demo.v1.GreeterGrpc;
import dev.meshwork.meshctl.demo.v1.HelloReply;
import dev.meshwork.meshctl.demo.v1.HelloRequest;
import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.InsecureServerCredentials;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;

/**
 * The demo's greeter: a plain gRPC server that knows nothing of the mesh. It answers with its
 * instance name and version and echoes the {@code x-forwarded-client-cert} header its sidecar
 * added, which is how the demo sees who called whom over mTLS.
 *
 * <p>Usage: {@code GreeterApp --port 50051 --instance greeter-v1-a --version v1 [--bind 127.0.0.1]}
 */
public final class GreeterApp {
  static final Metadata.Key<String> XFCC =
      Metadata.Key.of("x-forwarded-client-cert", Metadata.ASCII_STRING_MARSHALLER);
  private static final Context.Key<String> XFCC_CTX = Context.key("xfcc");

  private GreeterApp() {}

  /** Starts the greeter on {@code bind:port}; the caller owns shutdown. */
  public static Server start(String bind, int port, String instance, String version)
      throws IOException {
    return NettyServerBuilder.forAddress(
            new InetSocketAddress(bind, port), InsecureServerCredentials.create())
        .addService(ServerInterceptors.intercept(new Greeter(instance, version), new XfccCapture()))
        .build()
        .start();
  }

  public static void main(String[] args) throws Exception {
    Args a = Args.parse(args);
    Server server =
        start(a.get("bind", "127.0.0.1"), a.intValue("port"), a.get("instance"), a.get("version"));
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  server.shutdown();
                  try {
                    server.awaitTermination(5, TimeUnit.SECONDS);
                  } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                  }
                }));
    System.out.println("greeter " + a.get("instance") + " listening on " + server.getPort());
    server.awaitTermination();
  }

  private static final class XfccCapture implements ServerInterceptor {
    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(
        ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
      String xfcc = headers.get(XFCC);
      return Contexts.interceptCall(
          Context.current().withValue(XFCC_CTX, xfcc == null ? "" : xfcc), call, headers, next);
    }
  }

  private static final class Greeter extends GreeterGrpc.GreeterImplBase {
    private final String instance;
    private final String version;

    Greeter(String instance, String version) {
      this.instance = instance;
      this.version = version;
    }

    private HelloReply reply(HelloRequest request) {
      return HelloReply.newBuilder()
          .setMessage("Hello " + request.getName() + " from " + instance)
          .setInstance(instance)
          .setVersion(version)
          .setForwardedClientCert(XFCC_CTX.get())
          .setPayload(request.getPayload())
          .build();
    }

    @Override
    public void sayHello(HelloRequest request, StreamObserver<HelloReply> out) {
      out.onNext(reply(request));
      out.onCompleted();
    }

    @Override
    public void sayHelloStream(HelloRequest request, StreamObserver<HelloReply> out) {
      for (int i = 0; i < 3; i++) {
        out.onNext(reply(request));
      }
      out.onCompleted();
    }
  }
}
