package dev.meshwork.e2e.kube;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Marks a test class that runs against the shared {@link KubeCluster}: tags it {@code
 * kube-apiserver} and lets its constructor, lifecycle and test methods take a {@link KubeCluster}
 * or a fabric8 {@code KubernetesClient} parameter.
 */
@Target(ElementType.TYPE)
@Retention(RetentionPolicy.RUNTIME)
@Tag("kube-apiserver")
@ExtendWith(KubeClusterExtension.class)
public @interface KubeApiServerTest {}
