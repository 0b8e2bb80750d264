package dev.meshwork.ca.store;

import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.net.HttpURLConnection;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Keeps the material in a Secret (default {@code meshwork-system/meshwork-ca}). Creation uses a
 * plain create, so when two replicas start together the API server's 409 decides the winner and the
 * loser reads the winner's root. Replacements (rotation) are made by the single CA leader.
 */
public final class KubernetesSecretCaStore implements CaStore {
  public static final String DEFAULT_SECRET_NAME = "meshwork-ca";

  private final KubernetesClient client;
  private final String namespace;
  private final String name;

  public KubernetesSecretCaStore(KubernetesClient client, String namespace, String name) {
    this.client = client;
    this.namespace = namespace;
    this.name = name;
  }

  @Override
  public Optional<Map<String, String>> load() {
    try {
      Secret secret = client.secrets().inNamespace(namespace).withName(name).get();
      return Optional.ofNullable(secret).map(KubernetesSecretCaStore::decode);
    } catch (KubernetesClientException e) {
      throw new CaStoreException("cannot read Secret " + describe() + ": " + e.getMessage(), e);
    }
  }

  @Override
  public Map<String, String> createIfAbsent(Map<String, String> entries) {
    try {
      client.secrets().inNamespace(namespace).resource(toSecret(entries)).create();
      return entries;
    } catch (KubernetesClientException e) {
      if (e.getCode() == HttpURLConnection.HTTP_CONFLICT) {
        return load()
            .orElseThrow(
                () ->
                    new CaStoreException(
                        "Secret " + describe() + " conflicted on create but is gone", e));
      }
      throw new CaStoreException("cannot create Secret " + describe() + ": " + e.getMessage(), e);
    }
  }

  @Override
  public void replace(Map<String, String> entries) {
    try {
      client.secrets().inNamespace(namespace).resource(toSecret(entries)).update();
    } catch (KubernetesClientException e) {
      throw new CaStoreException("cannot update Secret " + describe() + ": " + e.getMessage(), e);
    }
  }

  @Override
  public String describe() {
    return "secret " + namespace + "/" + name;
  }

  private Secret toSecret(Map<String, String> entries) {
    Map<String, String> data = new HashMap<>();
    entries.forEach(
        (k, v) ->
            data.put(k, Base64.getEncoder().encodeToString(v.getBytes(StandardCharsets.UTF_8))));
    return new SecretBuilder()
        .withNewMetadata()
        .withName(name)
        .withNamespace(namespace)
        .addToLabels("app.kubernetes.io/part-of", "meshwork")
        .addToLabels("app.kubernetes.io/component", "certs-authority")
        .endMetadata()
        .withType("Opaque")
        .withData(data)
        .build();
  }

  private static Map<String, String> decode(Secret secret) {
    Map<String, String> entries = new HashMap<>();
    if (secret.getData() != null) {
      secret
          .getData()
          .forEach(
              (k, v) ->
                  entries.put(
                      k, new String(Base64.getDecoder().decode(v), StandardCharsets.UTF_8)));
    }
    if (secret.getStringData() != null) {
      entries.putAll(secret.getStringData());
    }
    return Map.copyOf(entries);
  }
}
