package dev.meshwork.sidecar.identity;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
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
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import javax.net.ssl.SSLSession;
import javax.security.auth.x500.X500Principal;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

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
  private final List<X500Principal> peerIssuers = new CopyOnWriteArrayList<>();
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
    startServer(source, SpiffeTrustManager.forSource(source, verifier, id -> true));
  }

  private void startServer(CertificateSource source, SpiffeTrustManager trust) throws Exception {
    var ssl =
        GrpcSslContexts.configure(
                SslContextBuilder.forServer(new CertificateSourceKeyManager(source)))
            .trustManager(trust)
            .clientAuth(ClientAuth.REQUIRE)
            .build();
    ServerInterceptor record =
        new ServerInterceptor() {
          @Override
          public <Q, R> ServerCall.Listener<Q> interceptCall(
              ServerCall<Q, R> call, Metadata h, ServerCallHandler<Q, R> next) {
            SSLSession session = call.getAttributes().get(Grpc.TRANSPORT_ATTR_SSL_SESSION);
            try {
              X509Certificate peer = (X509Certificate) session.getPeerCertificates()[0];
              peerSerials.add(peer.getSerialNumber().toString(16));
              peerIssuers.add(peer.getIssuerX500Principal());
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
    return channel(source, SpiffeTrustManager.forSource(source, verifier, acceptServer));
  }

  private ManagedChannel channel(CertificateSource source, SpiffeTrustManager trust)
      throws Exception {
    var ssl =
        GrpcSslContexts.forClient()
            .keyManager(new CertificateSourceKeyManager(source))
            .trustManager(trust)
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
    var log = rejectionLog();
    ManagedChannel channel = channel(source, id -> true);
    try {
      assertThatThrownBy(() -> call(channel)).isInstanceOf(StatusRuntimeException.class);
      assertThat(peerSerials).isEmpty();
    } finally {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
    assertThat(lines(log))
        .anySatisfy(
            line ->
                assertThat(line)
                    .contains("mTLS peer rejected: client")
                    .contains("does not chain with any of the trust anchors"));
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
    var log = rejectionLog();
    ManagedChannel channel = channel(new MutableSource(expired), id -> true);
    try {
      assertThatThrownBy(() -> call(channel)).isInstanceOf(StatusRuntimeException.class);
      assertThat(peerSerials).isEmpty();
    } finally {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
    assertThat(lines(log))
        .anySatisfy(
            line ->
                assertThat(line)
                    .contains("mTLS peer rejected: client")
                    .contains("validity check failed"));
  }

  /** Issues certificates from whichever test CA signs now (the CA's active generation). */
  private static CertificateIssuer issuer(
      AtomicReference<TestPki> signer, SpiffeId id, long seconds) {
    return keys -> signer.get().identity(keys, id, seconds);
  }

  private static RotatingCertificateSource rotating(CertificateIssuer issuer) {
    return new RotatingCertificateSource(
        issuer,
        RenewalSchedule.DEFAULT,
        new Backoff(Duration.ofMillis(100), Duration.ofSeconds(1)),
        Clock.systemUTC(),
        new Random(7));
  }

  private static void writeBundle(Path file, X509Certificate... roots) throws Exception {
    StringBuilder pem = new StringBuilder();
    for (X509Certificate root : roots) {
      pem.append(FakeCa.pem(root));
    }
    // Like the kubelet: the new content appears at once, never half written.
    Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
    Files.writeString(tmp, pem);
    Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
  }

  private static boolean issuedBy(CertificateSource source, TestPki ca) {
    return source.current().map(i -> i.chain().get(1).equals(ca.intermediate)).orElse(false);
  }

  /**
   * Blocking calls on two threads, each over one long-lived connection plus a fresh one now and
   * then.
   */
  private final class CallLoad implements AutoCloseable {
    final AtomicInteger ok = new AtomicInteger();
    final List<Throwable> failures = new CopyOnWriteArrayList<>();
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final List<Thread> threads = new ArrayList<>();

    CallLoad(Callable<ManagedChannel> connect) {
      Runnable load =
          () -> {
            try {
              ManagedChannel established = connect.call();
              try {
                int n = 0;
                while (running.get()) {
                  call(established);
                  ok.incrementAndGet();
                  if (++n % 10 == 0) { // a new connection: a new handshake, the newest certificates
                    ManagedChannel fresh = connect.call();
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
      threads.add(Thread.ofPlatform().start(load));
      threads.add(Thread.ofPlatform().start(load));
    }

    /** Waits until {@code n} more calls succeeded (or a call failed). */
    void awaitMore(int n) {
      int target = ok.get() + n;
      await().atMost(WAIT).until(() -> ok.get() >= target || !failures.isEmpty());
    }

    @Override
    public void close() throws InterruptedException {
      running.set(false);
      for (Thread t : threads) {
        t.join(20_000);
      }
    }
  }

  private static final Duration WAIT = Duration.ofSeconds(20);

  /**
   * Two ends with real {@link RotatingCertificateSource}s (4-second certificates, so each renews
   * every second or two) and the mounted trust bundle re-read from its file, under continuous
   * calls: several workload rotations under the old root, the new root joining the bundle, the new
   * root signing, the old root dropped. No call fails, new handshakes carry the newest
   * certificates, and once the old root is dropped a certificate under it is refused.
   */
  @Test
  void shortLivedCertificatesAndARootRotationUnderContinuousCallsLoseNoCall(@TempDir Path dir)
      throws Exception {
    TestPki oldRoot = pki;
    TestPki newRoot = new TestPki("mesh-next");
    AtomicReference<TestPki> signer = new AtomicReference<>(oldRoot);
    Path bundle = dir.resolve("root-cert.pem");
    writeBundle(bundle, oldRoot.root);
    List<WorkloadIdentity> serverIds = new CopyOnWriteArrayList<>();
    List<WorkloadIdentity> clientIds = new CopyOnWriteArrayList<>();
    try (TrustBundleFile serverRoots = TrustBundleFile.watch(bundle, Duration.ofMillis(100));
        TrustBundleFile clientRoots = TrustBundleFile.watch(bundle, Duration.ofMillis(100));
        RotatingCertificateSource serverSource = rotating(issuer(signer, PAYMENTS, 3));
        RotatingCertificateSource clientSource = rotating(issuer(signer, CART, 3))) {
      serverSource.addListener(serverIds::add);
      clientSource.addListener(clientIds::add);
      serverSource.start();
      clientSource.start();
      serverSource.awaitReady(WAIT).orElseThrow();
      clientSource.awaitReady(WAIT).orElseThrow();
      startServer(
          serverSource,
          SpiffeTrustManager.forSource(serverSource, serverRoots, verifier, id -> true));
      Callable<ManagedChannel> connect =
          () ->
              channel(
                  clientSource,
                  SpiffeTrustManager.forSource(
                      clientSource,
                      clientRoots,
                      verifier,
                      SpiffePeerVerifier.anyOf(Set.of(PAYMENTS))));
      try (CallLoad load = new CallLoad(connect)) {
        // Workload certificates rotate under the old root.
        await().atMost(WAIT).until(() -> serverIds.size() >= 3 && clientIds.size() >= 3);
        load.awaitMore(20);

        // Phase 1: the new root joins the mounted bundle (the ConfigMap the control plane updates).
        writeBundle(bundle, oldRoot.root, newRoot.root);
        await()
            .atMost(WAIT)
            .until(() -> serverRoots.get().size() == 2 && clientRoots.get().size() == 2);
        load.awaitMore(20);

        // Phase 2: the new root signs; both ends renew under it and keep calling.
        signer.set(newRoot);
        await()
            .atMost(WAIT)
            .until(() -> issuedBy(serverSource, newRoot) && issuedBy(clientSource, newRoot));
        int servers = serverIds.size();
        int clients = clientIds.size();
        await()
            .atMost(WAIT)
            .until(() -> serverIds.size() >= servers + 2 && clientIds.size() >= clients + 2);
        load.awaitMore(20);

        // Phase 3: the old root leaves the bundle.
        writeBundle(bundle, newRoot.root);
        await()
            .atMost(WAIT)
            .until(
                () ->
                    serverRoots.get().equals(List.of(newRoot.root))
                        && clientRoots.get().equals(List.of(newRoot.root)));
        load.awaitMore(20);
      }
      assertThat(serverIds.size()).as("server certificate rotations").isGreaterThanOrEqualTo(5);
      assertThat(clientIds.size()).as("client certificate rotations").isGreaterThanOrEqualTo(5);

      // New connections present the newest certificates: the server saw many client certificates,
      // and the last handshake's is one issued under the new root.
      Set<String> issuedToClient =
          clientIds.stream().map(MutualTlsRotationIT::serial).collect(Collectors.toSet());
      assertThat(Set.copyOf(peerSerials)).hasSizeGreaterThanOrEqualTo(4);
      assertThat(issuedToClient).containsAll(peerSerials);
      ManagedChannel fresh = connect.call();
      try {
        call(fresh);
      } finally {
        fresh.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      }
      assertThat(peerIssuers.getLast()).isEqualTo(newRoot.intermediate.getSubjectX500Principal());

      // The dropped root is distrusted from the next handshake on.
      ManagedChannel stale =
          channel(
              new MutableSource(oldRoot.identity(CART, 3600)),
              SpiffeTrustManager.forSource(clientSource, clientRoots, verifier, id -> true));
      try {
        assertThatThrownBy(() -> call(stale)).isInstanceOf(StatusRuntimeException.class);
      } finally {
        stale.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      }
    }
  }

  private static ListAppender<ILoggingEvent> rejectionLog() {
    ListAppender<ILoggingEvent> appender = new ListAppender<>();
    appender.start();
    ((Logger) LoggerFactory.getLogger(SpiffeTrustManager.class)).addAppender(appender);
    return appender;
  }

  private static List<String> lines(ListAppender<ILoggingEvent> appender) {
    ((Logger) LoggerFactory.getLogger(SpiffeTrustManager.class)).detachAppender(appender);
    return appender.list.stream().map(ILoggingEvent::getFormattedMessage).toList();
  }

  private WorkloadIdentity expired(SpiffeId id) {
    var keys = WorkloadCsrs.newKeyPair();
    var now = java.time.Instant.now();
    return new WorkloadIdentity(
        id,
        keys.getPrivate(),
        List.of(
            pki.leaf(keys.getPublic(), id.uri(), now.minusSeconds(7200), now.minusSeconds(60)),
            pki.intermediate),
        pki.bundle());
  }

  @Test
  void clientRefusesAServerWithAnExpiredCertificateAndLogsWhy() throws Exception {
    startServer(new MutableSource(expired(PAYMENTS)));
    var log = rejectionLog();
    ManagedChannel channel = channel(new MutableSource(pki.identity(CART, 3600)), id -> true);
    try {
      assertThatThrownBy(() -> call(channel)).isInstanceOf(StatusRuntimeException.class);
      assertThat(peerSerials).as("no call reached the server").isEmpty();
    } finally {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
    assertThat(lines(log))
        .anySatisfy(
            line ->
                assertThat(line)
                    .contains("mTLS peer rejected: server")
                    .contains("validity check failed"));
  }

  @Test
  void clientRefusesAServerWithACertificateFromAnotherCaAndLogsWhy() throws Exception {
    TestPki rogue = new TestPki("rogue");
    WorkloadIdentity forged = rogue.identity(PAYMENTS, 3600);
    // The rogue server trusts the real root, so only the client's check can stop it.
    startServer(
        new MutableSource(
            new WorkloadIdentity(forged.id(), forged.key(), forged.chain(), pki.bundle())));
    var log = rejectionLog();
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
    assertThat(lines(log))
        .anySatisfy(
            line ->
                assertThat(line)
                    .contains("mTLS peer rejected: server")
                    .contains("does not chain with any of the trust anchors"));
  }

  private static CaClient caClient(Path dir, int port, SpiffeId id, String token) throws Exception {
    Path roots = dir.resolve("ca-root.pem");
    Path tokenFile = dir.resolve(token);
    Files.writeString(tokenFile, token + "\n");
    return new CaClient(
        new CaClient.Config(
            "127.0.0.1:" + port,
            FakeCa.AUTHORITY,
            roots,
            tokenFile,
            id,
            Duration.ZERO,
            Duration.ofSeconds(2)),
        Clock.systemUTC());
  }

  private static List<String> renewalFailures(ListAppender<ILoggingEvent> appender) {
    return appender.list.stream()
        .map(ILoggingEvent::getFormattedMessage)
        .filter(m -> m.startsWith("renewal failed"))
        .toList();
  }

  /**
   * The CA process goes away while two ends carry calls: both keep serving on their still-valid
   * certificates (no call fails, new handshakes still succeed), renewal is retried with growing
   * backoff and each failure is logged with what is kept and until when; when the CA is back on the
   * same address, both renew and new handshakes carry the renewed certificates.
   */
  @Test
  void caOutageKeepsCallsFlowingOnHeldCertificatesAndRenewalResumesWhenItIsBack(@TempDir Path dir)
      throws Exception {
    Files.writeString(dir.resolve("ca-root.pem"), FakeCa.pem(pki.root));
    Map<String, SpiffeId> tokens = Map.of("cart-token", CART, "payments-token", PAYMENTS);
    FakeCa ca = new FakeCa(pki, tokens, 12).start(0);
    int port = ca.port();
    Logger sourceLog = (Logger) LoggerFactory.getLogger(RotatingCertificateSource.class);
    ListAppender<ILoggingEvent> logged = new ListAppender<>();
    logged.start();
    sourceLog.addAppender(logged);
    List<WorkloadIdentity> serverIds = new CopyOnWriteArrayList<>();
    List<WorkloadIdentity> clientIds = new CopyOnWriteArrayList<>();
    Backoff backoff = new Backoff(Duration.ofMillis(200), Duration.ofMillis(800));
    try (CaClient serverCa = caClient(dir, port, PAYMENTS, "payments-token");
        CaClient clientCa = caClient(dir, port, CART, "cart-token");
        RotatingCertificateSource serverSource =
            new RotatingCertificateSource(
                serverCa, RenewalSchedule.DEFAULT, backoff, Clock.systemUTC(), new Random(1));
        RotatingCertificateSource clientSource =
            new RotatingCertificateSource(
                clientCa, RenewalSchedule.DEFAULT, backoff, Clock.systemUTC(), new Random(2))) {
      serverSource.addListener(serverIds::add);
      clientSource.addListener(clientIds::add);
      serverSource.start();
      clientSource.start();
      serverSource.awaitReady(WAIT).orElseThrow();
      clientSource.awaitReady(WAIT).orElseThrow();
      startServer(serverSource);
      try (CallLoad load =
          new CallLoad(() -> channel(clientSource, SpiffePeerVerifier.anyOf(Set.of(PAYMENTS))))) {
        load.awaitMore(20);
        ca.stop();
        WorkloadIdentity heldServer = serverSource.current().orElseThrow();
        WorkloadIdentity heldClient = clientSource.current().orElseThrow();

        // Past the renewal point (about 5-7s into the 13s lifetime): attempts fail, with backoff.
        await().atMost(WAIT).until(() -> renewalFailures(logged).size() >= 6);
        load.awaitMore(20);
        assertThat(load.failures).isEmpty();
        assertThat(serverSource.current()).containsSame(heldServer);
        assertThat(clientSource.current()).containsSame(heldClient);
        assertThat(serverSource.isReady()).as("still valid, still ready").isTrue();
        assertThat(renewalFailures(logged))
            .allSatisfy(
                line ->
                    assertThat(line)
                        .contains("UNAVAILABLE")
                        .contains("keeping spiffe://cluster.local/ns/shop/sa/")
                        .contains("valid until")
                        .contains("retry in"));
        assertThat(renewalFailures(logged))
            .as("backoff grows from the first to later attempts")
            .anySatisfy(line -> assertThat(line).contains("(attempt 1)"))
            .anySatisfy(line -> assertThat(line).contains("(attempt 3)"));

        // The CA comes back (same stored root, same address): both renew.
        ca = new FakeCa(pki, tokens, 12).start(port);
        await()
            .atMost(WAIT)
            .until(
                () ->
                    serverSource.current().orElseThrow() != heldServer
                        && clientSource.current().orElseThrow() != heldClient);
        load.awaitMore(20);
      }
      assertThat(serverIds.size()).isGreaterThanOrEqualTo(2);
      assertThat(clientIds.size()).isGreaterThanOrEqualTo(2);
      ManagedChannel fresh = channel(clientSource, SpiffePeerVerifier.anyOf(Set.of(PAYMENTS)));
      try {
        call(fresh);
      } finally {
        fresh.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      }
      Set<String> renewedClient =
          clientIds.subList(1, clientIds.size()).stream()
              .map(MutualTlsRotationIT::serial)
              .collect(Collectors.toSet());
      assertThat(renewedClient).contains(peerSerials.getLast());
    } finally {
      sourceLog.detachAppender(logged);
      ca.stop();
    }
  }
}
