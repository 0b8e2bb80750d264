package dev.meshwork.sidecar.identity;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.meshwork.api.SpiffeId;
import dev.meshwork.api.ca.v1alpha1.CertificateServiceGrpc;
import dev.meshwork.api.ca.v1alpha1.CreateCertificateRequest;
import dev.meshwork.api.ca.v1alpha1.CreateCertificateResponse;
import io.grpc.Grpc;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.netty.shaded.io.netty.handler.ssl.ClientAuth;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContextBuilder;
import io.grpc.stub.StreamObserver;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Predicate;
import javax.net.ssl.SSLSession;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Mutual TLS with grpc-java (Netty) where both ends take their certificate from a {@link
 * CertificateSource} through {@link CertificateSourceKeyManager} and check the peer with {@link
 * SpiffeTrustManager}: a rotation reaches new handshakes while an established connection keeps
 * working, and a peer from another CA or with an unexpected identity is refused.
 */
class MutualTlsRotationIT {
  private static final SpiffeId CART = SpiffeId.of("shop", "cart");
  private static final SpiffeId PAYMENTS = SpiffeId.of("shop", "payments");
  private final TestPki pki = new TestPki("mesh");
  private final SpiffePeerVerifier verifier =
      new SpiffePeerVerifier("cluster.local", Clock.systemUTC());
  private final List<String> peerSerials = new CopyOnWriteArrayList<>();
  private final List<String> serverSerials = new CopyOnWriteArrayList<>();
  private Server server;

  /** A source whose identity the test sets. */
  static final class MutableSource implements CertificateSource {
    final AtomicReference<WorkloadIdentity> identity = new AtomicReference<>();

    MutableSource(WorkloadIdentity initial) {
      identity.set(initial);
    }

    @Override
    public Optional<WorkloadIdentity> current() {
      return Optional.ofNullable(identity.get());
    }

    @Override
    public void addListener(Listener listener) {}

    @Override
    public Optional<WorkloadIdentity> awaitReady(Duration timeout) {
      return current();
    }
  }

  private void startServer(CertificateSource source) throws Exception {
    var ssl =
        GrpcSslContexts.configure(
                SslContextBuilder.forServer(new CertificateSourceKeyManager(source)))
            .trustManager(SpiffeTrustManager.forSource(source, verifier, id -> true))
            .clientAuth(ClientAuth.REQUIRE)
            .build();
    ServerInterceptor record =
        new ServerInterceptor() {
          @Override
          public <Q, R> ServerCall.Listener<Q> interceptCall(
              ServerCall<Q, R> call, Metadata h, ServerCallHandler<Q, R> next) {
            SSLSession session = call.getAttributes().get(Grpc.TRANSPORT_ATTR_SSL_SESSION);
            try {
              peerSerials.add(
                  ((X509Certificate) session.getPeerCertificates()[0])
                      .getSerialNumber()
                      .toString(16));
              serverSerials.add(
                  ((X509Certificate) session.getLocalCertificates()[0])
                      .getSerialNumber()
                      .toString(16));
            } catch (Exception e) {
              peerSerials.add("error " + e);
            }
            return next.startCall(call, h);
          }
        };
    var service =
        new CertificateServiceGrpc.CertificateServiceImplBase() {
          @Override
          public void createCertificate(
              CreateCertificateRequest r, StreamObserver<CreateCertificateResponse> out) {
            out.onNext(CreateCertificateResponse.getDefaultInstance());
            out.onCompleted();
          }
        };
    server =
        NettyServerBuilder.forAddress(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))
            .sslContext(ssl)
            .addService(ServerInterceptors.intercept(service, record))
            .build()
            .start();
  }

  @AfterEach
  void stop() throws Exception {
    server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
  }

  private ManagedChannel channel(CertificateSource source, Predicate<SpiffeId> acceptServer)
      throws Exception {
    var ssl =
        GrpcSslContexts.forClient()
            .keyManager(new CertificateSourceKeyManager(source))
            .trustManager(SpiffeTrustManager.forSource(source, verifier, acceptServer))
            .build();
    return NettyChannelBuilder.forAddress(
            new InetSocketAddress(InetAddress.getLoopbackAddress(), server.getPort()))
        .sslContext(ssl)
        .overrideAuthority("payments.shop.svc") // no host name check: the SPIFFE ID is what counts
        .build();
  }

  private static void call(ManagedChannel channel) {
    CertificateServiceGrpc.newBlockingStub(channel)
        .withDeadlineAfter(10, TimeUnit.SECONDS)
        .createCertificate(CreateCertificateRequest.getDefaultInstance());
  }

  private static String serial(WorkloadIdentity identity) {
    return identity.leaf().getSerialNumber().toString(16);
  }

  @Test
  void rotationReachesNewHandshakesWithoutDisturbingEstablishedConnections() throws Exception {
    MutableSource serverSource = new MutableSource(pki.identity(PAYMENTS, 3600));
    MutableSource clientSource = new MutableSource(pki.identity(CART, 3600));
    startServer(serverSource);
    WorkloadIdentity oldServer = serverSource.identity.get();
    WorkloadIdentity oldClient = clientSource.identity.get();

    ManagedChannel established = channel(clientSource, SpiffePeerVerifier.anyOf(Set.of(PAYMENTS)));
    try {
      call(established);
      assertThat(peerSerials).containsExactly(serial(oldClient));

      WorkloadIdentity newClient = pki.identity(CART, 3600);
      WorkloadIdentity newServer = pki.identity(PAYMENTS, 3600);
      clientSource.identity.set(newClient);
      serverSource.identity.set(newServer);

      call(established); // same connection: still the certificates it negotiated
      assertThat(peerSerials).containsExactly(serial(oldClient), serial(oldClient));
      assertThat(serverSerials).containsExactly(serial(oldServer), serial(oldServer));

      ManagedChannel fresh = channel(clientSource, SpiffePeerVerifier.anyOf(Set.of(PAYMENTS)));
      try {
        call(fresh);
        assertThat(peerSerials.getLast()).isEqualTo(serial(newClient));
        assertThat(serverSerials.getLast()).isEqualTo(serial(newServer));
      } finally {
        fresh.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      }
      call(established);
      assertThat(peerSerials.getLast()).isEqualTo(serial(oldClient));
    } finally {
      established.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  @Test
  void rotationsUnderContinuousCallsLoseNoCall() throws Exception {
    MutableSource serverSource = new MutableSource(pki.identity(PAYMENTS, 3600));
    MutableSource clientSource = new MutableSource(pki.identity(CART, 3600));
    startServer(serverSource);
    java.util.concurrent.atomic.AtomicInteger ok = new java.util.concurrent.atomic.AtomicInteger();
    List<Throwable> failures = new CopyOnWriteArrayList<>();
    java.util.concurrent.atomic.AtomicBoolean running =
        new java.util.concurrent.atomic.AtomicBoolean(true);
    Runnable load =
        () -> {
          try {
            ManagedChannel established =
                channel(clientSource, SpiffePeerVerifier.anyOf(Set.of(PAYMENTS)));
            try {
              int n = 0;
              while (running.get()) {
                call(established);
                ok.incrementAndGet();
                if (++n % 20 == 0) { // and now and then a new connection, i.e. a new handshake
                  ManagedChannel fresh =
                      channel(clientSource, SpiffePeerVerifier.anyOf(Set.of(PAYMENTS)));
                  try {
                    call(fresh);
                    ok.incrementAndGet();
                  } finally {
                    fresh.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
                  }
                }
              }
            } finally {
              established.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            }
          } catch (Throwable t) {
            failures.add(t);
          }
        };
    Thread a = Thread.ofPlatform().start(load);
    Thread b = Thread.ofPlatform().start(load);
    for (int i = 0; i < 6; i++) {
      Thread.sleep(300);
      clientSource.identity.set(pki.identity(CART, 3600));
      serverSource.identity.set(pki.identity(PAYMENTS, 3600));
    }
    Thread.sleep(300);
    running.set(false);
    a.join(20_000);
    b.join(20_000);
    assertThat(failures).isEmpty();
    assertThat(ok.get()).isGreaterThan(50);
    assertThat(Set.copyOf(peerSerials).size())
        .as("new handshakes used rotated certificates")
        .isGreaterThan(2);
  }

  @Test
  void clientWithACertificateFromAnotherCaIsRefusedByTheServer() throws Exception {
    startServer(new MutableSource(pki.identity(PAYMENTS, 3600)));
    TestPki rogue = new TestPki("rogue");
    WorkloadIdentity forged = rogue.identity(CART, 3600);
    // The rogue client trusts the real root so only the server's check can stop it.
    var source =
        new MutableSource(
            new WorkloadIdentity(forged.id(), forged.key(), forged.chain(), pki.bundle()));
    ManagedChannel channel = channel(source, id -> true);
    try {
      assertThatThrownBy(() -> call(channel)).isInstanceOf(StatusRuntimeException.class);
      assertThat(peerSerials).isEmpty();
    } finally {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  @Test
  void clientRefusesAServerWithAnotherIdentityThanTheDestinations() throws Exception {
    startServer(new MutableSource(pki.identity(SpiffeId.of("shop", "impostor"), 3600)));
    ManagedChannel channel =
        channel(
            new MutableSource(pki.identity(CART, 3600)),
            SpiffePeerVerifier.anyOf(Set.of(PAYMENTS)));
    try {
      assertThatThrownBy(() -> call(channel)).isInstanceOf(StatusRuntimeException.class);
      assertThat(peerSerials).isEmpty();
    } finally {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  @Test
  void expiredClientCertificateIsRefused() throws Exception {
    startServer(new MutableSource(pki.identity(PAYMENTS, 3600)));
    var keys = WorkloadCsrs.newKeyPair();
    var now = java.time.Instant.now();
    var expired =
        new WorkloadIdentity(
            CART,
            keys.getPrivate(),
            List.of(
                pki.leaf(
                    keys.getPublic(), CART.uri(), now.minusSeconds(7200), now.minusSeconds(60)),
                pki.intermediate),
            pki.bundle());
    ManagedChannel channel = channel(new MutableSource(expired), id -> true);
    try {
      assertThatThrownBy(() -> call(channel)).isInstanceOf(StatusRuntimeException.class);
      assertThat(peerSerials).isEmpty();
    } finally {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }
}
