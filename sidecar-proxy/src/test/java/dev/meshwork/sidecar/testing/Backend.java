package dev.meshwork.sidecar.testing;

import io.grpc.Contexts;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;

/** A real grpc-java server on loopback serving {@link EchoService}. */
public final class Backend implements AutoCloseable {
  public final EchoService service;
  public final Server server;

  public Backend(String name) throws IOException {
    this(name, 0);
  }

  public Backend(String name, int port) throws IOException {
    this(name, port, Integer.MAX_VALUE);
  }

  /**
   * @param maxConcurrentCalls per connection (SETTINGS_MAX_CONCURRENT_STREAMS); streams beyond it
   *     are refused with RST_STREAM(REFUSED_STREAM)
   */
  public Backend(String name, int port, int maxConcurrentCalls) throws IOException {
    this.service = new EchoService(name);
    ServerInterceptor keepHeaders =
        new ServerInterceptor() {
          @Override
          public <Q, R> ServerCall.Listener<Q> interceptCall(
              ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
            service.lastHeaders = headers;
            return Contexts.interceptCall(io.grpc.Context.current(), call, headers, next);
          }
        };
    this.server =
        NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", port))
            .maxInboundMessageSize(32 * 1024 * 1024)
            .maxConcurrentCallsPerConnection(maxConcurrentCalls)
            .addService(ServerInterceptors.intercept(service.definition(), keepHeaders))
            .build()
            .start();
  }

  public int port() {
    return server.getPort();
  }

  @Override
  public void close() throws InterruptedException {
    server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
  }
}
