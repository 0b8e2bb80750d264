package dev.meshwork.e2e.kube;

import io.fabric8.kubernetes.client.KubernetesClient;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * Starts one {@link KubeCluster} per test run, on first use, and shares it across test classes; the
 * root extension store closes it when the run ends. Binaries missing: fails with REQUIRE_E2E=1,
 * else skips (see {@link Prerequisites}). A cluster that failed to start fails every later class at
 * once with the same cause instead of retrying.
 */
public final class KubeClusterExtension implements BeforeAllCallback, ParameterResolver {
  private static final ExtensionContext.Namespace NS =
      ExtensionContext.Namespace.create(KubeClusterExtension.class);

  private record Started(KubeCluster cluster, RuntimeException failure) implements AutoCloseable {
    @Override
    public void close() {
      if (cluster != null) {
        cluster.close();
      }
    }
  }

  /** The shared cluster, started on the first call. */
  public static KubeCluster cluster(ExtensionContext context) {
    KubeBinaries binaries = KubeBinaries.pinned().require();
    Started s =
        context
            .getRoot()
            .getStore(NS)
            .computeIfAbsent(
                KubeCluster.class,
                k -> {
                  try {
                    return new Started(KubeCluster.start(binaries), null);
                  } catch (RuntimeException e) {
                    return new Started(null, e);
                  }
                },
                Started.class);
    if (s.failure() != null) {
      throw new IllegalStateException("the test cluster failed to start", s.failure());
    }
    return s.cluster();
  }

  @Override
  public void beforeAll(ExtensionContext context) {
    cluster(context);
  }

  @Override
  public boolean supportsParameter(ParameterContext p, ExtensionContext e) {
    Class<?> t = p.getParameter().getType();
    return t == KubeCluster.class || t == KubernetesClient.class;
  }

  @Override
  public Object resolveParameter(ParameterContext p, ExtensionContext e) {
    KubeCluster c = cluster(e);
    return p.getParameter().getType() == KubeCluster.class ? c : c.client();
  }
}
