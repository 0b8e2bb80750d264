package dev.meshwork.e2e.kube;

import java.io.IOException;
import java.io.StringWriter;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * The test cluster's PKI, made fresh for each run and written as PEM files: a cluster CA, the API
 * server's serving certificate, client certificates (admin in {@code system:masters}, the
 * controller manager), and the ServiceAccount token signing key pair. RSA keys, because every
 * consumer (Go, fabric8, the JDK) reads them without options. Immutable once created.
 */
public final class ClusterPki {
  /** A certificate with its key, and the PEM files both were written to. */
  public record Issued(X509Certificate cert, KeyPair keys, Path certFile, Path keyFile) {
    public String certPem() {
      return pem(cert);
    }

    public String keyPem() {
      return pem(keys.getPrivate());
    }
  }

  private final Path dir;
  private final Issued ca;
  private final Issued apiServer;
  private final Issued admin;
  private final Issued controllerManager;
  private final Path serviceAccountKey;
  private final Path serviceAccountPub;

  private ClusterPki(
      Path dir,
      Issued ca,
      Issued apiServer,
      Issued admin,
      Issued controllerManager,
      Path serviceAccountKey,
      Path serviceAccountPub) {
    this.dir = dir;
    this.ca = ca;
    this.apiServer = apiServer;
    this.admin = admin;
    this.controllerManager = controllerManager;
    this.serviceAccountKey = serviceAccountKey;
    this.serviceAccountPub = serviceAccountPub;
  }

  /**
   * Creates the PKI in {@code dir}.
   *
   * @param serviceIp the first address of the Service CIDR (the {@code kubernetes} Service)
   */
  public static ClusterPki create(Path dir, String serviceIp)
      throws IOException, GeneralSecurityException {
    Files.createDirectories(dir);
    KeyPair caKeys = rsa();
    X509Certificate caCert =
        sign("CN=meshwork-e2e-ca", caKeys, "CN=meshwork-e2e-ca", caKeys, true, List.of(), null);
    Issued ca = write(dir, "ca", caCert, caKeys);

    List<GeneralName> sans = new ArrayList<>();
    for (String dns :
        List.of(
            "localhost",
            "kubernetes",
            "kubernetes.default",
            "kubernetes.default.svc",
            "kubernetes.default.svc.cluster.local")) {
      sans.add(new GeneralName(GeneralName.dNSName, dns));
    }
    sans.add(new GeneralName(GeneralName.iPAddress, "127.0.0.1"));
    sans.add(new GeneralName(GeneralName.iPAddress, serviceIp));
    Issued apiServer =
        issue(dir, "apiserver", ca, "CN=kube-apiserver", sans, KeyPurposeId.id_kp_serverAuth);
    Issued admin =
        issue(
            dir,
            "admin",
            ca,
            "O=system:masters,CN=meshwork-e2e-admin",
            List.of(),
            KeyPurposeId.id_kp_clientAuth);
    Issued kcm =
        issue(
            dir,
            "kube-controller-manager",
            ca,
            "CN=system:kube-controller-manager",
            List.of(),
            KeyPurposeId.id_kp_clientAuth);

    KeyPair saKeys = rsa();
    Path saKey = dir.resolve("sa.key");
    Path saPub = dir.resolve("sa.pub");
    Files.writeString(saKey, pem(saKeys.getPrivate()));
    Files.writeString(saPub, pem(saKeys.getPublic()));
    return new ClusterPki(dir, ca, apiServer, admin, kcm, saKey, saPub);
  }

  public Path dir() {
    return dir;
  }

  public Issued ca() {
    return ca;
  }

  public Issued apiServer() {
    return apiServer;
  }

  public Issued admin() {
    return admin;
  }

  public Issued controllerManager() {
    return controllerManager;
  }

  /** Private key the API server signs ServiceAccount tokens with (and the controller manager). */
  public Path serviceAccountKey() {
    return serviceAccountKey;
  }

  /** Public key the API server verifies ServiceAccount tokens with. */
  public Path serviceAccountPub() {
    return serviceAccountPub;
  }

  /**
   * Issues a serving certificate from the cluster CA (which the API server's clients trust, and
   * which webhook configurations name in {@code caBundle}), with the key written as PKCS#8.
   *
   * @param sans DNS names and IP addresses, told apart by their form
   */
  public Issued issueServing(String name, List<String> sans)
      throws GeneralSecurityException, IOException {
    List<GeneralName> names = new ArrayList<>();
    for (String san : sans) {
      boolean ip = san.matches("[0-9.]+") || san.contains(":");
      names.add(new GeneralName(ip ? GeneralName.iPAddress : GeneralName.dNSName, san));
    }
    KeyPair keys = rsa();
    X509Certificate cert =
        sign(
            "CN=" + name,
            keys,
            ca.cert().getSubjectX500Principal().getName(),
            ca.keys(),
            false,
            names,
            KeyPurposeId.id_kp_serverAuth);
    Path certFile = dir.resolve(name + ".crt");
    Path keyFile = dir.resolve(name + ".pkcs8.key");
    Files.writeString(certFile, pem(cert));
    StringWriter out = new StringWriter();
    try (JcaPEMWriter w = new JcaPEMWriter(out)) {
      w.writeObject(new JcaPKCS8Generator(keys.getPrivate(), null));
    }
    Files.writeString(keyFile, out.toString());
    return new Issued(cert, keys, certFile, keyFile);
  }

  /** An SSL context that trusts the cluster CA and presents {@code client}'s certificate. */
  public SSLContext sslContext(Issued client) throws GeneralSecurityException, IOException {
    KeyStore keys = KeyStore.getInstance("PKCS12");
    keys.load(null, null);
    char[] password = "e2e".toCharArray();
    keys.setKeyEntry(
        "client", client.keys().getPrivate(), password, new X509Certificate[] {client.cert()});
    KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
    kmf.init(keys, password);
    KeyStore trust = KeyStore.getInstance("PKCS12");
    trust.load(null, null);
    trust.setCertificateEntry("ca", ca.cert());
    TrustManagerFactory tmf =
        TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(trust);
    SSLContext ctx = SSLContext.getInstance("TLS");
    ctx.init(kmf.getKeyManagers(), tmf.getTrustManagers(), new SecureRandom());
    return ctx;
  }

  private static Issued issue(
      Path dir, String name, Issued ca, String subject, List<GeneralName> sans, KeyPurposeId eku)
      throws GeneralSecurityException, IOException {
    KeyPair keys = rsa();
    X509Certificate cert =
        sign(
            subject,
            keys,
            ca.cert().getSubjectX500Principal().getName(),
            ca.keys(),
            false,
            sans,
            eku);
    return write(dir, name, cert, keys);
  }

  private static Issued write(Path dir, String name, X509Certificate cert, KeyPair keys)
      throws IOException {
    Path certFile = dir.resolve(name + ".crt");
    Path keyFile = dir.resolve(name + ".key");
    Files.writeString(certFile, pem(cert));
    Files.writeString(keyFile, pem(keys.getPrivate()));
    return new Issued(cert, keys, certFile, keyFile);
  }

  private static KeyPair rsa() throws GeneralSecurityException {
    KeyPairGenerator gen = KeyPairGenerator.getInstance("RSA");
    gen.initialize(2048);
    return gen.generateKeyPair();
  }

  private static X509Certificate sign(
      String subject,
      KeyPair subjectKeys,
      String issuer,
      KeyPair issuerKeys,
      boolean isCa,
      List<GeneralName> sans,
      KeyPurposeId eku)
      throws GeneralSecurityException {
    Instant now = Instant.now();
    try {
      X509v3CertificateBuilder b =
          new JcaX509v3CertificateBuilder(
              new X500Name(issuer),
              new BigInteger(64, new SecureRandom()).abs().add(BigInteger.ONE),
              Date.from(now.minus(Duration.ofMinutes(5))),
              Date.from(now.plus(Duration.ofDays(2))),
              new X500Name(subject),
              subjectKeys.getPublic());
      JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
      b.addExtension(Extension.basicConstraints, true, new BasicConstraints(isCa));
      b.addExtension(
          Extension.subjectKeyIdentifier,
          false,
          ext.createSubjectKeyIdentifier(subjectKeys.getPublic()));
      if (isCa) {
        b.addExtension(
            Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
      } else {
        b.addExtension(
            Extension.authorityKeyIdentifier,
            false,
            ext.createAuthorityKeyIdentifier(issuerKeys.getPublic()));
        b.addExtension(
            Extension.keyUsage,
            true,
            new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyEncipherment));
        b.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(eku));
      }
      if (!sans.isEmpty()) {
        b.addExtension(
            Extension.subjectAlternativeName,
            false,
            new GeneralNames(sans.toArray(GeneralName[]::new)));
      }
      return new JcaX509CertificateConverter()
          .getCertificate(
              b.build(new JcaContentSignerBuilder("SHA256withRSA").build(issuerKeys.getPrivate())));
    } catch (OperatorCreationException | IOException e) {
      throw new GeneralSecurityException("cannot sign " + subject, e);
    }
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

  static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}
