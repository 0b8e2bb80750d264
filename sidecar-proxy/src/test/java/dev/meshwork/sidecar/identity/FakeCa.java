package dev.meshwork.sidecar.identity;

import dev.meshwork.api.SpiffeId;
import dev.meshwork.api.ca.v1alpha1.CertificateServiceGrpc;
import dev.meshwork.api.ca.v1alpha1.CreateCertificateRequest;
import dev.meshwork.api.ca.v1alpha1.CreateCertificateResponse;
import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.Status;
import io.grpc.TlsServerCredentials;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.Extensions;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequest;

/**
 * A stand-in for the CA's CSR service in the sidecar's tests, served by grpc-java over TLS on
 * loopback: fixed tokens map to identities, a CSR for another identity is PERMISSION_DENIED. The
 * real service and its TokenReview are tested in certs-authority.
 */
final class FakeCa {
  static final String AUTHORITY = "ca.meshwork.test";
  private static final Metadata.Key<String> AUTHORIZATION =
      Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);
  private static final Context.Key<String> HEADER = Context.key("authorization");

  final TestPki pki;
  final Map<String, SpiffeId> tokens;
  final long lifetimeSeconds;
  final List<String> seenTokens = new CopyOnWriteArrayList<>();
  final AtomicInteger issued = new AtomicInteger();
  private Server server;

  FakeCa(TestPki pki, Map<String, SpiffeId> tokens, long lifetimeSeconds) {
    this.pki = pki;
    this.tokens = tokens;
    this.lifetimeSeconds = lifetimeSeconds;
  }

  static String pem(Object o) {
    StringWriter out = new StringWriter();
    try (JcaPEMWriter w = new JcaPEMWriter(out)) {
      w.writeObject(o);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    return out.toString();
  }

  static String pemKey(java.security.PrivateKey key) {
    try {
      return pem(new JcaPKCS8Generator(key, null).generate());
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  /** Starts on {@code port} (0: any), retrying the bind briefly (a restart reuses the port). */
  FakeCa start(int port) throws Exception {
    KeyPair keys = WorkloadCsrs.newKeyPair();
    List<X509Certificate> chain = pki.serving(keys.getPublic(), AUTHORITY);
    var credentials =
        TlsServerCredentials.newBuilder()
            .keyManager(
                new ByteArrayInputStream(
                    (pem(chain.get(0)) + pem(chain.get(1))).getBytes(StandardCharsets.US_ASCII)),
                new ByteArrayInputStream(
                    pemKey(keys.getPrivate()).getBytes(StandardCharsets.US_ASCII)))
            .build();
    ServerInterceptor headers =
        new ServerInterceptor() {
          @Override
          public <Q, R> ServerCall.Listener<Q> interceptCall(
              ServerCall<Q, R> call, Metadata md, ServerCallHandler<Q, R> next) {
            return Contexts.interceptCall(
                Context.current().withValue(HEADER, md.get(AUTHORIZATION)), call, md, next);
          }
        };
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (true) {
      try {
        server =
            NettyServerBuilder.forAddress(
                    new InetSocketAddress(InetAddress.getLoopbackAddress(), port), credentials)
                .addService(ServerInterceptors.intercept(new Service(), headers))
                .build()
                .start();
        return this;
      } catch (IOException e) {
        if (System.nanoTime() > deadline) {
          throw e;
        }
        Thread.sleep(100);
      }
    }
  }

  int port() {
    return server.getPort();
  }

  void stop() throws InterruptedException {
    server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
  }

  private final class Service extends CertificateServiceGrpc.CertificateServiceImplBase {
    @Override
    public void createCertificate(
        CreateCertificateRequest request, StreamObserver<CreateCertificateResponse> out) {
      String header = HEADER.get();
      String token = header == null ? null : header.replaceFirst("^Bearer ", "");
      seenTokens.add(String.valueOf(token));
      SpiffeId caller = token == null ? null : tokens.get(token);
      if (caller == null) {
        out.onError(Status.UNAUTHENTICATED.withDescription("unknown token").asRuntimeException());
        return;
      }
      try (PEMParser parser = new PEMParser(new StringReader(request.getCsrPem()))) {
        var csr =
            new JcaPKCS10CertificationRequest((PKCS10CertificationRequest) parser.readObject());
        var ext =
            Extensions.getInstance(
                csr.getAttributes(PKCSObjectIdentifiers.pkcs_9_at_extensionRequest)[0]
                    .getAttrValues()
                    .getObjectAt(0));
        String uri =
            GeneralNames.fromExtensions(ext, Extension.subjectAlternativeName)
                .getNames()[0]
                .getName()
                .toString();
        if (!uri.equals(caller.uri())) {
          out.onError(
              Status.PERMISSION_DENIED.withDescription("CSR asks for " + uri).asRuntimeException());
          return;
        }
        Instant now = Instant.now();
        X509Certificate leaf =
            pki.leaf(
                csr.getPublicKey(), uri, now.minusSeconds(1), now.plusSeconds(lifetimeSeconds));
        issued.incrementAndGet();
        out.onNext(
            CreateCertificateResponse.newBuilder()
                .addCertChainPem(pem(leaf))
                .addCertChainPem(pem(pki.intermediate))
                .addTrustBundlePem(pem(pki.root))
                .build());
        out.onCompleted();
      } catch (Exception e) {
        out.onError(Status.INVALID_ARGUMENT.withDescription(e.toString()).asRuntimeException());
      }
    }
  }
}
