package dev.meshwork.controlplane.source;

import dev.meshwork.api.networking.v1alpha1.TrafficPolicy;
import dev.meshwork.api.security.v1alpha1.AuthorizationPolicy;
import dev.meshwork.api.security.v1alpha1.PeerAuthentication;
import dev.meshwork.controlplane.model.UnreadableObject;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.KubernetesList;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Parses Kubernetes YAML (one or many {@code ---}-separated documents) into fabric8 objects, our
 * CRDs and Gateway API types included. Each document is parsed alone so one bad document costs only
 * itself. A document of one of our CRDs that is well-formed YAML with a kind and a name, but whose
 * spec cannot be read (a mode this version does not know), also says which object it is, so the
 * model can report that policy and keep its last good version ({@link Document#unreadable()}).
 */
public final class YamlResources {
  private static final Pattern SEPARATOR = Pattern.compile("(?m)^---\\s*$");

  private final KubernetesSerialization serialization = new KubernetesSerialization();

  public YamlResources() {
    serialization.registerKubernetesResource(PeerAuthentication.class);
    serialization.registerKubernetesResource(AuthorizationPolicy.class);
    serialization.registerKubernetesResource(TrafficPolicy.class);
  }

  /**
   * One parsed document, or why it failed.
   *
   * @param unreadable when {@code error} is set and the document is an object of one of our CRDs
   *     that names itself: which object could not be read (namespace null when the document has
   *     none); else null
   */
  public record Document(int index, HasMetadata object, String error, UnreadableObject unreadable) {
    public Document(int index, HasMetadata object, String error) {
      this(index, object, error, null);
    }
  }

  /** Parses every document; empty ones are skipped, bad ones come back with an error. */
  public List<Document> parse(String yaml) {
    List<Document> out = new ArrayList<>();
    String[] docs = SEPARATOR.split(yaml);
    for (int i = 0; i < docs.length; i++) {
      String doc = docs[i];
      if (doc.lines().allMatch(l -> l.isBlank() || l.stripLeading().startsWith("#"))) {
        continue;
      }
      try {
        Object parsed = serialization.unmarshal(doc);
        if (parsed instanceof KubernetesList list) {
          list.getItems().forEach(item -> out.add(new Document(out.size(), item, null)));
        } else if (parsed instanceof HasMetadata obj) {
          if (obj.getMetadata() == null || obj.getMetadata().getName() == null) {
            out.add(new Document(i, null, "document " + i + " has no metadata.name"));
          } else {
            out.add(new Document(i, obj, null));
          }
        } else {
          out.add(
              new Document(
                  i,
                  null,
                  "document "
                      + i
                      + " is not a Kubernetes object (kind/apiVersion unknown or missing)"));
        }
      } catch (RuntimeException e) {
        String error = rootMessage(e);
        out.add(new Document(i, null, "document " + i + ": " + error, identify(doc, error)));
      }
    }
    return out;
  }

  /** The object of one of our CRDs that {@code doc} names, or null when it names none. */
  private UnreadableObject identify(String doc, String error) {
    GenericKubernetesResource generic;
    try {
      generic = serialization.unmarshal(doc, GenericKubernetesResource.class);
    } catch (RuntimeException notEvenYaml) {
      return null;
    }
    if (generic == null
        || generic.getMetadata() == null
        || generic.getMetadata().getName() == null
        || CustomResourceReader.TYPES.stream()
            .noneMatch(
                t ->
                    HasMetadata.getKind(t).equals(generic.getKind())
                        && HasMetadata.getApiVersion(t).equals(generic.getApiVersion()))) {
      return null;
    }
    return new UnreadableObject(
        generic.getKind(),
        generic.getMetadata().getNamespace(),
        generic.getMetadata().getName(),
        generic.getMetadata().getUid(),
        generic.getMetadata().getGeneration() == null ? 0 : generic.getMetadata().getGeneration(),
        error);
  }

  public KubernetesSerialization serialization() {
    return serialization;
  }

  /** The first line of the innermost cause's message: what a user can act on. */
  static String rootMessage(Throwable e) {
    Throwable t = e;
    while (t.getCause() != null && t.getCause() != t) {
      t = t.getCause();
    }
    String m = t.getMessage() == null ? t.toString() : t.getMessage();
    return m.lines().findFirst().orElse(m);
  }
}
