package dev.meshwork.controlplane.status;

import dev.meshwork.api.MeshConstants;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.extended.leaderelection.LeaderCallbacks;
import io.fabric8.kubernetes.client.extended.leaderelection.LeaderElectionConfigBuilder;
import io.fabric8.kubernetes.client.extended.leaderelection.resourcelock.LeaseLock;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import javax.annotation.concurrent.ThreadSafe;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * fabric8 leader election on the Lease {@code meshwork-control-plane} in {@code meshwork-system}.
 * Every replica serves xDS; only the leader writes status.
 */
@ThreadSafe
public final class LeaderElection implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(LeaderElection.class);

  public static final String LEASE_NAME = "meshwork-control-plane";

  private final AtomicBoolean leader = new AtomicBoolean();
  private final KubernetesClient client;
  private final String identity;
  private final String namespace;
  private volatile CompletableFuture<?> running;

  public LeaderElection(KubernetesClient client, String identity, String namespace) {
    this.client = client;
    this.identity = identity;
    this.namespace = namespace == null ? MeshConstants.SYSTEM_NAMESPACE : namespace;
  }

  public boolean isLeader() {
    return leader.get();
  }

  /**
   * @param onLeading called each time this replica becomes leader
   */
  public void start(Runnable onLeading) {
    running =
        client
            .leaderElector()
            .withConfig(
                new LeaderElectionConfigBuilder()
                    .withName(LEASE_NAME)
                    .withLock(new LeaseLock(namespace, LEASE_NAME, identity))
                    .withLeaseDuration(Duration.ofSeconds(15))
                    .withRenewDeadline(Duration.ofSeconds(10))
                    .withRetryPeriod(Duration.ofSeconds(2))
                    .withReleaseOnCancel(true)
                    .withLeaderCallbacks(
                        new LeaderCallbacks(
                            () -> {
                              leader.set(true);
                              log.info("{} is now the leader: writing status", identity);
                              onLeading.run();
                            },
                            () -> {
                              leader.set(false);
                              log.info("{} stopped leading", identity);
                            },
                            newLeader -> log.info("leader is {}", newLeader)))
                    .build())
            .build()
            .start();
  }

  @Override
  public void close() {
    CompletableFuture<?> r = running;
    if (r != null) {
      r.cancel(true);
    }
    leader.set(false);
  }
}
