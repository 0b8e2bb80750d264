package dev.meshwork.ca.store;

import dev.meshwork.ca.pki.CaGeneration;
import dev.meshwork.ca.pki.CaState;
import dev.meshwork.ca.pki.Pem;
import dev.meshwork.ca.pki.PemException;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Maps {@link CaState} to named PEM entries and back, checking on the way back that the pieces fit
 * together (the intermediate is a CA signed by the root, the key belongs to the intermediate).
 *
 * <p>The names are those of Istio's {@code cacerts} Secret, so an operator can plug in an existing
 * root and intermediate: {@code root-cert.pem}, {@code ca-cert.pem}, {@code ca-key.pem}, and
 * optionally {@code root-key.pem} (without it Meshwork cannot rotate the root itself).
 */
public final class CaStateCodec {
  private CaStateCodec() {}

  public static final String ROOT_CERT = "root-cert.pem";
  public static final String ROOT_KEY = "root-key.pem";
  public static final String INTERMEDIATE_CERT = "ca-cert.pem";
  public static final String INTERMEDIATE_KEY = "ca-key.pem";
  public static final String RETIRING_ROOTS = "retiring-roots.pem";
  public static final String RETIRING_UNTIL = "retiring-until.txt";
  public static final String PENDING_PREFIX = "pending-";
  public static final String PENDING_SINCE = "pending-since.txt";

  private static final Set<String> NAMES =
      Set.of(
          ROOT_CERT, ROOT_KEY, INTERMEDIATE_CERT, INTERMEDIATE_KEY, RETIRING_ROOTS, RETIRING_UNTIL);

  public static boolean isEntryName(String name) {
    return NAMES.contains(name);
  }

  public static Map<String, String> encode(CaState state) {
    Map<String, String> entries = new HashMap<>();
    encodeGeneration(state.active(), "", entries);
    if (state.pending() != null) {
      encodeGeneration(state.pending(), PENDING_PREFIX, entries);
      entries.put(PENDING_SINCE, state.pendingSince().toString());
    }
    if (!state.retiring().isEmpty()) {
      entries.put(
          RETIRING_ROOTS,
          Pem.encodeAll(state.retiring().stream().map(CaState.RetiringRoot::root).toList()));
      StringBuilder until = new StringBuilder();
      state.retiring().forEach(r -> until.append(r.trustedUntil()).append('\n'));
      entries.put(RETIRING_UNTIL, until.toString());
    }
    return Map.copyOf(entries);
  }

  private static void encodeGeneration(
      CaGeneration generation, String prefix, Map<String, String> entries) {
    entries.put(prefix + ROOT_CERT, Pem.encode(generation.root()));
    if (generation.rootKey() != null) {
      entries.put(prefix + ROOT_KEY, Pem.encodePrivateKey(generation.rootKey()));
    }
    entries.put(prefix + INTERMEDIATE_CERT, Pem.encode(generation.intermediate()));
    entries.put(prefix + INTERMEDIATE_KEY, Pem.encodePrivateKey(generation.intermediateKey()));
  }

  /**
   * Rebuilds the state from {@code entries}.
   *
   * @param source names the store or Secret in error messages
   * @throws CaMaterialException when an entry is missing, unreadable, or does not fit the others
   */
  public static CaState decode(Map<String, String> entries, String source) {
    try {
      CaGeneration active = decodeGeneration(entries, "", source);
      CaGeneration pending = null;
      Instant pendingSince = null;
      if (entries.containsKey(PENDING_PREFIX + ROOT_CERT)) {
        pending = decodeGeneration(entries, PENDING_PREFIX, source);
        try {
          pendingSince = Instant.parse(required(entries, PENDING_SINCE, source).strip());
        } catch (DateTimeParseException e) {
          throw new CaMaterialException(source + ": " + PENDING_SINCE + ": " + e.getMessage(), e);
        }
      }
      return new CaState(active, pending, pendingSince, retiring(entries, source));
    } catch (PemException e) {
      throw new CaMaterialException(e.getMessage(), e);
    }
  }

  private static CaGeneration decodeGeneration(
      Map<String, String> entries, String prefix, String source) {
    String rootName = prefix + ROOT_CERT;
    String rootKeyName = prefix + ROOT_KEY;
    String caName = prefix + INTERMEDIATE_CERT;
    String caKeyName = prefix + INTERMEDIATE_KEY;
    X509Certificate root =
        Pem.certificate(required(entries, rootName, source), source + " " + rootName);
    PrivateKey rootKey =
        entries.containsKey(rootKeyName)
            ? Pem.privateKey(entries.get(rootKeyName), source + " " + rootKeyName)
            : null;
    X509Certificate intermediate =
        Pem.certificate(required(entries, caName, source), source + " " + caName);
    PrivateKey intermediateKey =
        Pem.privateKey(required(entries, caKeyName, source), source + " " + caKeyName);
    checkFits(root, rootKey, intermediate, intermediateKey, source, prefix);
    return new CaGeneration(root, rootKey, intermediate, intermediateKey);
  }

  private static List<CaState.RetiringRoot> retiring(Map<String, String> entries, String source) {
    if (!entries.containsKey(RETIRING_ROOTS)) {
      return List.of();
    }
    List<X509Certificate> roots =
        Pem.certificates(entries.get(RETIRING_ROOTS), source + " " + RETIRING_ROOTS);
    List<String> until =
        entries.getOrDefault(RETIRING_UNTIL, "").lines().filter(l -> !l.isBlank()).toList();
    if (until.size() != roots.size()) {
      throw new CaMaterialException(
          source
              + ": "
              + RETIRING_UNTIL
              + " has "
              + until.size()
              + " lines for "
              + roots.size()
              + " retiring roots");
    }
    List<CaState.RetiringRoot> retiring = new ArrayList<>();
    for (int i = 0; i < roots.size(); i++) {
      try {
        retiring.add(new CaState.RetiringRoot(roots.get(i), Instant.parse(until.get(i).strip())));
      } catch (DateTimeParseException e) {
        throw new CaMaterialException(
            source + ": " + RETIRING_UNTIL + " line " + (i + 1) + ": " + e.getMessage(), e);
      }
    }
    return retiring;
  }

  private static void checkFits(
      X509Certificate root,
      PrivateKey rootKey,
      X509Certificate intermediate,
      PrivateKey intermediateKey,
      String source,
      String prefix) {
    if (root.getBasicConstraints() < 0) {
      throw new CaMaterialException(
          source + ": " + prefix + ROOT_CERT + " is not a CA certificate");
    }
    if (intermediate.getBasicConstraints() < 0) {
      throw new CaMaterialException(
          source + ": " + prefix + INTERMEDIATE_CERT + " is not a CA certificate");
    }
    try {
      intermediate.verify(root.getPublicKey());
    } catch (GeneralSecurityException e) {
      throw new CaMaterialException(
          source
              + ": "
              + prefix
              + INTERMEDIATE_CERT
              + " is not signed by "
              + prefix
              + ROOT_CERT
              + " ("
              + e.getMessage()
              + ")",
          e);
    }
    if (!keyMatches(intermediateKey, intermediate)) {
      throw new CaMaterialException(
          source
              + ": "
              + prefix
              + INTERMEDIATE_KEY
              + " does not belong to "
              + prefix
              + INTERMEDIATE_CERT);
    }
    if (rootKey != null && !keyMatches(rootKey, root)) {
      throw new CaMaterialException(
          source + ": " + prefix + ROOT_KEY + " does not belong to " + prefix + ROOT_CERT);
    }
  }

  /** Proves possession: a signature made with {@code key} verifies with the certificate's key. */
  private static boolean keyMatches(PrivateKey key, X509Certificate cert) {
    String algorithm = key.getAlgorithm().equals("EC") ? "SHA256withECDSA" : "SHA256withRSA";
    byte[] probe = "meshwork key check".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    try {
      Signature signer = Signature.getInstance(algorithm);
      signer.initSign(key);
      signer.update(probe);
      byte[] signature = signer.sign();
      Signature verifier = Signature.getInstance(algorithm);
      verifier.initVerify(cert.getPublicKey());
      verifier.update(probe);
      return verifier.verify(signature);
    } catch (GeneralSecurityException e) {
      return false;
    }
  }

  private static String required(Map<String, String> entries, String name, String source) {
    String value = entries.get(name);
    if (value == null || value.isBlank()) {
      throw new CaMaterialException(source + ": missing entry " + name);
    }
    return value;
  }
}
