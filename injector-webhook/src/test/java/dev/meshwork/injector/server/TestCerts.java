package dev.meshwork.injector.server;

import java.io.IOException;
import java.io.Writer;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Date;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/** Self-signed serving certificates for tests (ECDSA P-256, SAN localhost and 127.0.0.1). */
final class TestCerts {
  private TestCerts() {}

  record Issued(X509Certificate certificate, Path certFile, Path keyFile) {}

  static Issued selfSigned(Path dir, long serial) throws Exception {
    KeyPairGenerator gen = KeyPairGenerator.getInstance("EC");
    gen.initialize(new ECGenParameterSpec("secp256r1"));
    KeyPair kp = gen.generateKeyPair();
    X500Name name = new X500Name("CN=meshwork-webhook.test");
    Instant now = Instant.now();
    var builder =
        new JcaX509v3CertificateBuilder(
            name,
            BigInteger.valueOf(serial),
            Date.from(now.minus(1, ChronoUnit.HOURS)),
            Date.from(now.plus(1, ChronoUnit.DAYS)),
            name,
            kp.getPublic());
    builder.addExtension(
        Extension.subjectAlternativeName,
        false,
        new GeneralNames(
            new GeneralName[] {
              new GeneralName(GeneralName.dNSName, "localhost"),
              new GeneralName(GeneralName.iPAddress, "127.0.0.1")
            }));
    var signer = new JcaContentSignerBuilder("SHA256withECDSA").build(kp.getPrivate());
    X509Certificate cert = new JcaX509CertificateConverter().getCertificate(builder.build(signer));
    Path certFile = dir.resolve("tls.crt");
    Path keyFile = dir.resolve("tls.key");
    write(certFile, cert);
    write(keyFile, new JcaPKCS8Generator(kp.getPrivate(), null).generate());
    return new Issued(cert, certFile, keyFile);
  }

  private static void write(Path file, Object pem) throws IOException {
    try (Writer w = Files.newBufferedWriter(file);
        JcaPEMWriter pw = new JcaPEMWriter(w)) {
      pw.writeObject(pem);
    }
  }

  /** A client context that trusts exactly these certificates. */
  static SSLContext trusting(X509Certificate... certs) throws Exception {
    KeyStore ks = KeyStore.getInstance("PKCS12");
    ks.load(null, null);
    for (int i = 0; i < certs.length; i++) {
      ks.setCertificateEntry("c" + i, certs[i]);
    }
    TrustManagerFactory tmf = TrustManagerFactory.getInstance("PKIX");
    tmf.init(ks);
    SSLContext ctx = SSLContext.getInstance("TLS");
    ctx.init(null, tmf.getTrustManagers(), null);
    return ctx;
  }
}
