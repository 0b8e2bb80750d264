package dev.meshwork.ca.pki;

import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PublicKey;
import java.security.interfaces.ECPublicKey;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.ECParameterSpec;

/** EC key pairs and the curve checks the CA applies to keys it certifies. */
public final class KeyPairs {
  private KeyPairs() {}

  /** NIST P-256: workload and intermediate keys. */
  public static final String P256 = "secp256r1";

  /** NIST P-384: the long-lived root key. */
  public static final String P384 = "secp384r1";

  private static final ECParameterSpec P256_PARAMS =
      ((ECPublicKey) generate(P256).getPublic()).getParams();

  /** A fresh key pair on {@code curve} from the JDK's default SecureRandom. */
  public static KeyPair generate(String curve) {
    try {
      KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
      generator.initialize(new ECGenParameterSpec(curve));
      return generator.generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("EC curve " + curve + " unavailable in this JDK", e);
    }
  }

  /** True when {@code key} is an EC key on P-256 (compared by curve order and generator). */
  public static boolean isP256(PublicKey key) {
    if (!(key instanceof ECPublicKey ec)) {
      return false;
    }
    ECParameterSpec params = ec.getParams();
    return params.getOrder().equals(P256_PARAMS.getOrder())
        && params.getGenerator().equals(P256_PARAMS.getGenerator())
        && params.getCurve().equals(P256_PARAMS.getCurve());
  }

  /** JCA signature algorithm matching the signer's key size. */
  public static String signatureAlgorithm(java.security.PrivateKey signer) {
    if (signer instanceof java.security.interfaces.ECPrivateKey ec
        && ec.getParams().getOrder().bitLength() > 256) {
      return "SHA384withECDSA";
    }
    if (signer instanceof java.security.interfaces.ECPrivateKey) {
      return "SHA256withECDSA";
    }
    // Operator-supplied RSA intermediates are accepted for signing.
    return "SHA256withRSA";
  }
}
