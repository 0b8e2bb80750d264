package dev.meshwork.injector.patch;

import dev.meshwork.api.MeshConstants;
import dev.meshwork.injector.template.PodOverrides;
import dev.meshwork.injector.template.SidecarTemplate;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.Volume;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.stream.Stream;

/** Builds the injected pod from the submitted one. Pure: the input pod is never changed. */
public final class PodMutator {
  private final SidecarTemplate template;

  public PodMutator(SidecarTemplate template) {
    this.template = Objects.requireNonNull(template, "template");
  }

  /**
   * Returns a copy of {@code pod} with the capture init container and the sidecar first among the
   * init containers (so the app's own init containers already run inside the mesh), the token
   * volume, and the injector's annotations (existing annotations keep their values).
   *
   * @throws PodConflictException if the pod already uses one of the names the injector adds
   */
  public Pod inject(Pod pod, PodOverrides overrides) throws PodConflictException {
    checkNoConflict(pod);
    Map<String, String> labels =
        pod.getMetadata() == null || pod.getMetadata().getLabels() == null
            ? Map.of()
            : pod.getMetadata().getLabels();
    Pod copy = new PodBuilder(pod).build();

    List<Container> inits = new ArrayList<>();
    inits.add(template.initContainer(overrides));
    inits.add(template.proxyContainer(overrides, labels));
    if (copy.getSpec().getInitContainers() != null) {
      inits.addAll(copy.getSpec().getInitContainers());
    }
    copy.getSpec().setInitContainers(inits);

    List<Volume> volumes = new ArrayList<>();
    if (copy.getSpec().getVolumes() != null) {
      volumes.addAll(copy.getSpec().getVolumes());
    }
    volumes.add(template.tokenVolume());
    volumes.add(template.trustVolume());
    copy.getSpec().setVolumes(volumes);

    Map<String, String> annotations = new LinkedHashMap<>();
    if (copy.getMetadata().getAnnotations() != null) {
      annotations.putAll(copy.getMetadata().getAnnotations());
    }
    template.annotations().forEach(annotations::putIfAbsent);
    // "injected" records what happened even if a user pre-set it to something else.
    annotations.put(MeshConstants.INJECTED_ANNOTATION, "true");
    copy.getMetadata().setAnnotations(annotations);
    return copy;
  }

  private static void checkNoConflict(Pod pod) throws PodConflictException {
    if (pod.getSpec() == null) {
      throw new PodConflictException("pod has no spec");
    }
    if (pod.getMetadata() == null) {
      throw new PodConflictException("pod has no metadata");
    }
    List<Container> all =
        Stream.concat(
                nullToEmpty(pod.getSpec().getContainers()).stream(),
                nullToEmpty(pod.getSpec().getInitContainers()).stream())
            .toList();
    for (Container c : all) {
      if (MeshConstants.INIT_CONTAINER_NAME.equals(c.getName())) {
        throw new PodConflictException(
            "pod already has a container named "
                + MeshConstants.INIT_CONTAINER_NAME
                + ", which the mesh injects; rename it or opt the pod out with "
                + MeshConstants.INJECT_ANNOTATION
                + ": \"false\"");
      }
    }
    for (Volume v : nullToEmpty(pod.getSpec().getVolumes())) {
      if (SidecarTemplate.TOKEN_VOLUME.equals(v.getName())
          || SidecarTemplate.TRUST_VOLUME.equals(v.getName())) {
        throw new PodConflictException(
            "pod already has a volume named "
                + v.getName()
                + ", which the mesh injects; rename it or opt the pod out with "
                + MeshConstants.INJECT_ANNOTATION
                + ": \"false\"");
      }
    }
  }

  private static <T> List<T> nullToEmpty(List<T> list) {
    return list == null ? List.of() : list;
  }
}
