package dev.meshwork.e2e.node;

import dev.meshwork.e2e.kube.ManagedProcess;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.KeyToPath;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.ObjectFieldSelector;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodCondition;
import io.fabric8.kubernetes.api.model.PodConditionBuilder;
import io.fabric8.kubernetes.api.model.PodStatus;
import io.fabric8.kubernetes.api.model.PodStatusBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.VolumeProjection;
import io.fabric8.kubernetes.api.model.authentication.TokenRequestBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The "process kubelet": a test node agent that runs the pods bound to its node as local processes,
 * the way the kubelet would run their containers.
 *
 * <ul>
 *   <li>Registers a Ready {@link Node} (the EndpointSlice controller skips pods on unknown nodes).
 *   <li>Watches pods with {@code spec.nodeName} = its node (there is no scheduler: tests set it).
 *   <li>Per pod: a network namespace on the {@link PodNetwork} bridge with an address from the pod
 *       CIDR; volumes written to a pod directory (emptyDir, configMap, secret, hostPath, projected
 *       ServiceAccount token bound to the pod, downward API) and bind-mounted at their mount paths
 *       in the container's private mount namespace, with a kubelet-style {@code /etc/hosts} (pod
 *       name, {@code hostAliases}, node entries standing in for cluster DNS); {@code $(VAR)} in
 *       command and args expanded; init containers run to completion in order; native sidecars
 *       (init containers with {@code restartPolicy: Always}) start and must pass their startup
 *       probe before the next container; then every container starts, as {@code runAsUser} if set.
 *   <li>Patches pod status: podIP, hostIP, phase, container states, restart counts, and the Ready
 *       condition from readiness probes (httpGet, tcpSocket, exec; grpc probes are a TCP connect).
 *   <li>Restarts exited containers when {@code restartPolicy} says so (1 s back-off).
 *   <li>A pod being deleted: SIGTERM to the app containers, then to the native sidecars, within its
 *       grace period, then SIGKILL; namespace removed, then the pod object is deleted for good, as
 *       the kubelet confirms a deletion.
 * </ul>
 *
 * <p>A container's process comes from its {@code command}/{@code args}, or from the entry point
 * registered for its image ({@link #registerImage}); there is no image pull. Limits (see
 * e2e/README.md): one node, no liveness/startup probes, no resource limits, tokens not rotated,
 * mount paths outside {@code /run} only where the directory exists on the host.
 *
 * <p>Threading: informer events are handled on one serial executor; each pod starts on its own
 * virtual thread; a pod's state is guarded by the pod's monitor. Needs root.
 */
public final class ProcessKubelet implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(ProcessKubelet.class);

  private final KubernetesClient client;
  private final String nodeName;
  private final Path workDir;
  private final PodNetwork network;
  private final Map<String, List<String>> images = new ConcurrentHashMap<>();
  private final Map<String, PodRuntime> pods = new ConcurrentHashMap<>();
  private final Map<String, List<String>> hostEntries = new ConcurrentHashMap<>();
  private final ExecutorService events;
  private volatile SharedIndexInformer<Pod> informer;
  private volatile boolean closed;

  private ProcessKubelet(KubernetesClient client, String nodeName, Path workDir, PodNetwork net) {
    this.client = client;
    this.nodeName = nodeName;
    this.workDir = workDir;
    this.network = net;
    this.events =
        Executors.newSingleThreadExecutor(
            r -> Thread.ofPlatform().name("kubelet-" + nodeName).daemon().unstarted(r));
  }

  /**
   * Creates the pod network, registers the node and starts watching its pods.
   *
   * @param client a client allowed to manage nodes and pods (the harness's admin)
   */
  public static ProcessKubelet start(KubernetesClient client, String nodeName) {
    PodNetwork net = PodNetwork.create();
    ProcessKubelet k;
    try {
      k =
          new ProcessKubelet(
              client, nodeName, Files.createTempDirectory("meshwork-node-" + nodeName + "-"), net);
    } catch (IOException | RuntimeException e) {
      net.close();
      throw e instanceof IOException io ? new UncheckedIOException(io) : (RuntimeException) e;
    }
    try {
      k.registerNode();
      k.informer =
          client
              .pods()
              .inAnyNamespace()
              .withField("spec.nodeName", nodeName)
              .inform(k.handler(), TimeUnit.SECONDS.toMillis(30));
    } catch (RuntimeException e) {
      k.close();
      throw e;
    }
    try {
      // Containers may run as another user: they must be able to enter the node's directory.
      Files.setPosixFilePermissions(k.workDir, PosixFilePermissions.fromString("rwxr-xr-x"));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    log.info("node {} up: pod CIDR {}, work dir {}", nodeName, net.cidr(), k.workDir);
    return k;
  }

  /** Uses {@code entrypoint} for containers of {@code image} that set no command. */
  public ProcessKubelet registerImage(String image, List<String> entrypoint) {
    images.put(image, List.copyOf(entrypoint));
    return this;
  }

  /**
   * Uses a Java main class of the test classpath as the entry point of {@code image}, with the
   * classpath staged where any user can read it (containers may run as the sidecar's UID).
   */
  public ProcessKubelet registerJavaMain(String image, String mainClass, String... jvmArgs) {
    Path dir = workDir.resolve("images").resolve(image.replaceAll("[^A-Za-z0-9._-]", "_"));
    return registerImage(image, JavaImage.entrypoint(dir, mainClass, List.of(jvmArgs)));
  }

  /**
   * Adds {@code ip names...} to the {@code /etc/hosts} of every pod started after this call: the
   * node's stand-in for cluster DNS (there is none), e.g. the control plane's Service name mapped
   * to the address it listens on. Pod specs' own {@code hostAliases} are honoured too.
   */
  public ProcessKubelet addHostEntry(String ip, String... names) {
    hostEntries.merge(ip, List.of(names), (a, b) -> Stream.concat(a.stream(), b.stream()).toList());
    return this;
  }

  public String nodeName() {
    return nodeName;
  }

  public PodNetwork network() {
    return network;
  }

  /** The log file of a container (stdout and stderr), for assertions and failure messages. */
  public Path logFile(String namespace, String pod, String container) {
    return workDir.resolve(namespace + "_" + pod).resolve("logs").resolve(container + ".log");
  }

  /** The network namespace a running pod's containers live in, e.g. to run a command there. */
  public String netnsOf(String podUid) {
    PodRuntime r = pods.get(podUid);
    if (r == null || r.net == null) {
      throw new IllegalStateException("no running pod " + podUid + " on " + nodeName);
    }
    return r.net.netns();
  }

  /** A volume's directory on the host, as the pod's containers see it at its mount path. */
  public Path volumeDir(String namespace, String pod, String volume) {
    return workDir.resolve(namespace + "_" + pod).resolve("volumes").resolve(volume);
  }

  private void registerNode() {
    Node node =
        new NodeBuilder()
            .withNewMetadata()
            .withName(nodeName)
            .addToLabels("kubernetes.io/hostname", nodeName)
            .addToLabels("kubernetes.io/os", "linux")
            .addToLabels("meshwork.dev/process-kubelet", "true")
            .endMetadata()
            .withNewSpec()
            .withPodCIDR(network.cidr())
            .withPodCIDRs(network.cidr())
            .endSpec()
            .build();
    client.nodes().resource(node).create();
    String now = Instant.now().toString();
    client
        .nodes()
        .withName(nodeName)
        .editStatus(
            n ->
                new NodeBuilder(n)
                    .withNewStatus()
                    .addNewCondition()
                    .withType("Ready")
                    .withStatus("True")
                    .withReason("KubeletReady")
                    .withMessage("process kubelet is posting ready status")
                    .withLastHeartbeatTime(now)
                    .withLastTransitionTime(now)
                    .endCondition()
                    .addNewAddress()
                    .withType("InternalIP")
                    .withAddress(network.gateway())
                    .endAddress()
                    .addNewAddress()
                    .withType("Hostname")
                    .withAddress(nodeName)
                    .endAddress()
                    .addToCapacity("cpu", new Quantity("2"))
                    .addToCapacity("memory", new Quantity("8Gi"))
                    .addToCapacity("pods", new Quantity("250"))
                    .addToAllocatable("cpu", new Quantity("2"))
                    .addToAllocatable("memory", new Quantity("8Gi"))
                    .addToAllocatable("pods", new Quantity("250"))
                    .withNewNodeInfo()
                    .withOperatingSystem("linux")
                    .withArchitecture("amd64")
                    .withKubeletVersion("process-kubelet")
                    .withContainerRuntimeVersion("process://")
                    .withKernelVersion("")
                    .withOsImage("")
                    .withKubeProxyVersion("")
                    .withBootID("")
                    .withMachineID("")
                    .withSystemUUID("")
                    .endNodeInfo()
                    .endStatus()
                    .build());
  }

  private ResourceEventHandler<Pod> handler() {
    return new ResourceEventHandler<>() {
      @Override
      public void onAdd(Pod pod) {
        submit(() -> sync(pod));
      }

      @Override
      public void onUpdate(Pod oldPod, Pod pod) {
        submit(() -> sync(pod));
      }

      @Override
      public void onDelete(Pod pod, boolean finalStateUnknown) {
        submit(() -> forget(pod.getMetadata().getUid(), Duration.ZERO));
      }
    };
  }

  private void submit(Runnable r) {
    if (!closed) {
      events.execute(
          () -> {
            try {
              r.run();
            } catch (RuntimeException e) {
              log.warn("node {}: {}", nodeName, e.toString(), e);
            }
          });
    }
  }

  /** Serial executor: brings the local processes in line with one pod object. */
  private void sync(Pod pod) {
    String uid = pod.getMetadata().getUid();
    PodRuntime r = pods.get(uid);
    if (pod.getMetadata().getDeletionTimestamp() != null) {
      long grace =
          Objects.requireNonNullElse(pod.getMetadata().getDeletionGracePeriodSeconds(), 30L);
      if (r == null) {
        Thread.ofVirtual().start(() -> confirmDeletion(pod));
      } else {
        Thread.ofVirtual().start(() -> r.terminate(Duration.ofSeconds(grace), true));
      }
      return;
    }
    if (r == null) {
      String phase = pod.getStatus() == null ? null : pod.getStatus().getPhase();
      if ("Succeeded".equals(phase) || "Failed".equals(phase)) {
        return;
      }
      PodRuntime created = new PodRuntime(pod);
      pods.put(uid, created);
      Thread.ofVirtual().name("pod-" + created.key).start(created::run);
    }
  }

  private void forget(String uid, Duration grace) {
    PodRuntime r = pods.get(uid);
    if (r != null) {
      Thread.ofVirtual().start(() -> r.terminate(grace, false));
    }
  }

  private void confirmDeletion(Pod pod) {
    try {
      client
          .pods()
          .inNamespace(pod.getMetadata().getNamespace())
          .withName(pod.getMetadata().getName())
          .withGracePeriod(0)
          .delete();
    } catch (RuntimeException e) {
      log.debug("final delete of {}: {}", pod.getMetadata().getName(), e.toString());
    }
  }

  /** Stops watching, kills every pod's processes, removes the network and the node object. */
  @Override
  public void close() {
    closed = true;
    if (informer != null) {
      informer.close();
    }
    events.shutdownNow();
    List<Thread> stopping = new ArrayList<>();
    for (PodRuntime r : pods.values()) {
      stopping.add(Thread.ofVirtual().start(() -> r.terminate(Duration.ofSeconds(2), false)));
    }
    for (Thread t : stopping) {
      try {
        t.join(Duration.ofSeconds(10));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    network.close();
    try {
      client.nodes().withName(nodeName).delete();
    } catch (RuntimeException e) {
      log.debug("node delete: {}", e.toString());
    }
    try (Stream<Path> s = Files.walk(workDir)) {
      s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      log.debug("could not delete {}: {}", workDir, e.toString());
    }
  }

  /** One container's process and what its status reports. */
  private static final class ContainerRun {
    final Container spec;
    ManagedProcess process;
    String startedAt;
    int restarts;
    boolean ready;
    int probeSuccesses;
    int probeFailures;
    Integer exitCode;
    String finishedAt;
    String waitingReason;
    String waitingMessage;

    ContainerRun(Container spec) {
      this.spec = spec;
    }
  }

  /** One pod on this node. Its state is guarded by its monitor. */
  private final class PodRuntime {
    final String uid;
    final String namespace;
    final String name;
    final String key;
    final Path dir;
    volatile Pod pod;
    volatile PodNetwork.PodNet net;
    final String startTime = Instant.now().toString();
    final Map<String, ContainerRun> inits = new LinkedHashMap<>();
    final Map<String, ContainerRun> containers = new LinkedHashMap<>();
    final Object patchLock = new Object();
    boolean initialized;
    boolean terminating;
    String failure;
    Thread prober;

    PodRuntime(Pod pod) {
      this.pod = pod;
      this.uid = pod.getMetadata().getUid();
      this.namespace = pod.getMetadata().getNamespace();
      this.name = pod.getMetadata().getName();
      this.key = namespace + "_" + name;
      this.dir = workDir.resolve(key);
      pod.getSpec().getInitContainers().forEach(c -> inits.put(c.getName(), new ContainerRun(c)));
      pod.getSpec().getContainers().forEach(c -> containers.put(c.getName(), new ContainerRun(c)));
    }

    void run() {
      try {
        net = network.add(uid);
        writeHosts();
        writeVolumes();
        for (ContainerRun init : inits.values()) {
          if (isTerminating()) {
            return;
          }
          launch(init);
          if (init.process == null) {
            synchronized (this) {
              failure = init.waitingMessage;
            }
            patchStatus();
            return;
          }
          patchStatus();
          if (isSidecar(init.spec)) {
            // Native sidecar: it keeps running; the next container starts once it has started.
            String why = awaitStarted(init);
            if (why != null) {
              synchronized (this) {
                failure = why;
              }
              patchStatus();
              return;
            }
            continue;
          }
          int exit = init.process.process().waitFor() /* bounded by the test's own timeout */;
          synchronized (this) {
            init.exitCode = exit;
            init.finishedAt = Instant.now().toString();
            if (exit != 0) {
              failure = "init container " + init.spec.getName() + " exited " + exit;
            }
          }
          if (exit != 0) {
            patchStatus();
            return;
          }
        }
        synchronized (this) {
          if (terminating) {
            return;
          }
          initialized = true;
          for (ContainerRun c : containers.values()) {
            launch(c);
          }
        }
        patchStatus();
        prober = Thread.ofVirtual().name("probe-" + key).start(this::probeLoop);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } catch (RuntimeException | IOException e) {
        log.warn("pod {} failed to start: {}", key, e.toString(), e);
        synchronized (this) {
          failure = e.getMessage();
        }
        patchStatus();
      }
    }

    synchronized boolean isTerminating() {
      return terminating;
    }

    /** Native sidecars (init containers with restartPolicy Always) and app containers. */
    List<ContainerRun> longRunning() {
      List<ContainerRun> all = new ArrayList<>();
      inits.values().stream().filter(c -> isSidecar(c.spec)).forEach(all::add);
      all.addAll(containers.values());
      return all;
    }

    /**
     * Waits for a native sidecar's startup probe (or just its process, without one).
     *
     * @return null once started, else why it did not
     */
    String awaitStarted(ContainerRun c) throws InterruptedException {
      var probe = c.spec.getStartupProbe();
      if (probe == null) {
        return c.process.isAlive() ? null : c.spec.getName() + " exited at start";
      }
      Thread.sleep(TimeUnit.SECONDS.toMillis(nz(probe.getInitialDelaySeconds(), 0)));
      int failures = 0;
      int allowed = nz(probe.getFailureThreshold(), 3);
      while (!isTerminating() && !closed) {
        if (Probes.check(
            probe, c.spec, net, Duration.ofSeconds(nz(probe.getTimeoutSeconds(), 1)))) {
          return null;
        }
        if (++failures >= allowed) {
          return "startup probe of " + c.spec.getName() + " failed " + failures + " times";
        }
        Thread.sleep(TimeUnit.SECONDS.toMillis(nz(probe.getPeriodSeconds(), 10)));
      }
      return "terminating";
    }

    /** Starts one container's process in the pod's namespaces; records why if it cannot. */
    void launch(ContainerRun c) throws IOException {
      Map<String, String> env = new LinkedHashMap<>();
      env.put("HOSTNAME", name);
      for (EnvVar e : c.spec.getEnv()) {
        env.put(e.getName(), expand(envValue(e, c.spec), env));
      }
      List<String> entry =
          new ArrayList<>(c.spec.getCommand().stream().map(a -> expand(a, env)).toList());
      if (entry.isEmpty()) {
        List<String> image = images.get(c.spec.getImage());
        if (image == null) {
          synchronized (this) {
            c.waitingReason = "NoEntrypoint";
            c.waitingMessage =
                "image "
                    + c.spec.getImage()
                    + " has no registered entry point; set command or registerImage()";
          }
          return;
        }
        entry.addAll(image);
      }
      c.spec.getArgs().forEach(a -> entry.add(expand(a, env)));

      List<String> cmd = new ArrayList<>(List.of("ip", "netns", "exec", net.netns()));
      // ip netns exec gives the child its own mount namespace (slave to the host's), so the
      // mounts below are seen by this container only.
      cmd.addAll(List.of("sh", "-c", mountScript(c.spec) + "exec \"$@\"", "sh"));
      Long uid = runAsUser(c.spec);
      if (uid != null) {
        Long gid = runAsGroup(c.spec);
        cmd.addAll(
            List.of(
                "setpriv",
                "--reuid=" + uid,
                "--regid=" + (gid == null ? uid : gid),
                "--clear-groups",
                "--"));
      }
      cmd.addAll(entry);

      Path cdir = dir.resolve("containers").resolve(c.spec.getName());
      Files.createDirectories(cdir);
      env.putIfAbsent("HOME", cdir.toString());
      ManagedProcess p =
          ManagedProcess.start(
              c.spec.getName(), cmd, dir.resolve("logs").resolve(c.spec.getName() + ".log"), env);
      synchronized (this) {
        c.process = p;
        c.startedAt = Instant.now().toString();
        c.exitCode = null;
        c.finishedAt = null;
        c.waitingReason = null;
        c.ready = false;
        c.probeSuccesses = 0;
        c.probeFailures = 0;
      }
      // Not on the thread completing onExit (a common-pool worker): exited() blocks on the API
      // server, whose client completes its futures on that same small pool.
      p.process().onExit().thenRun(() -> Thread.ofVirtual().start(() -> exited(c, p)));
    }

    private void exited(ContainerRun c, ManagedProcess p) {
      boolean restart;
      synchronized (this) {
        if (c.process != p) {
          return;
        }
        c.exitCode = p.process().exitValue();
        c.finishedAt = Instant.now().toString();
        c.ready = false;
        String policy = Objects.requireNonNullElse(pod.getSpec().getRestartPolicy(), "Always");
        boolean isApp = containers.containsKey(c.spec.getName()) || isSidecar(c.spec);
        restart =
            isApp
                && !terminating
                && !closed
                && (isSidecar(c.spec)
                    || policy.equals("Always")
                    || (policy.equals("OnFailure") && c.exitCode != 0));
      }
      patchStatus();
      if (restart) {
        try {
          Thread.sleep(1000);
          synchronized (this) {
            if (terminating || closed) {
              return;
            }
            c.restarts++;
            launch(c);
          }
          patchStatus();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        } catch (IOException e) {
          log.warn("restart of {}/{} failed: {}", key, c.spec.getName(), e.toString());
        }
      }
    }

    void probeLoop() {
      Map<String, Long> nextProbe = new HashMap<>();
      long start = System.nanoTime();
      while (!isTerminating() && !closed) {
        boolean changed = false;
        for (ContainerRun c : longRunning()) {
          ManagedProcess p;
          synchronized (this) {
            p = c.process;
          }
          if (p == null || !p.isAlive()) {
            continue;
          }
          var probe = c.spec.getReadinessProbe();
          if (probe == null) {
            synchronized (this) {
              changed |= !c.ready;
              c.ready = true;
            }
            continue;
          }
          long now = System.nanoTime();
          long initial = TimeUnit.SECONDS.toNanos(nz(probe.getInitialDelaySeconds(), 0));
          if (now - start < initial || now < nextProbe.getOrDefault(c.spec.getName(), 0L)) {
            continue;
          }
          nextProbe.put(
              c.spec.getName(), now + TimeUnit.SECONDS.toNanos(nz(probe.getPeriodSeconds(), 10)));
          boolean ok =
              Probes.check(
                  probe, c.spec, net, Duration.ofSeconds(nz(probe.getTimeoutSeconds(), 1)));
          synchronized (this) {
            if (ok) {
              c.probeFailures = 0;
              c.probeSuccesses++;
              if (!c.ready && c.probeSuccesses >= nz(probe.getSuccessThreshold(), 1)) {
                c.ready = true;
                changed = true;
              }
            } else {
              c.probeSuccesses = 0;
              c.probeFailures++;
              if (c.ready && c.probeFailures >= nz(probe.getFailureThreshold(), 3)) {
                c.ready = false;
                changed = true;
              }
            }
          }
        }
        if (changed) {
          patchStatus();
        }
        try {
          Thread.sleep(200);
        } catch (InterruptedException e) {
          return;
        }
      }
    }

    /** SIGTERM every container, wait the grace period, SIGKILL; then free the namespace. */
    void terminate(Duration grace, boolean confirmDeletion) {
      List<ManagedProcess> apps = new ArrayList<>();
      List<ManagedProcess> sidecars = new ArrayList<>();
      synchronized (this) {
        if (terminating) {
          return;
        }
        terminating = true;
        for (ContainerRun c : inits.values()) {
          if (c.process != null) {
            (isSidecar(c.spec) ? sidecars : apps).add(c.process);
          }
        }
        for (ContainerRun c : containers.values()) {
          if (c.process != null) {
            apps.add(c.process);
          }
        }
      }
      if (prober != null) {
        prober.interrupt();
      }
      // As the kubelet does: app containers first, native sidecars after them.
      long deadline = System.nanoTime() + grace.toNanos();
      stopAll(apps, grace);
      stopAll(sidecars, Duration.ofNanos(Math.max(1_000_000_000L, deadline - System.nanoTime())));
      network.remove(uid);
      pods.remove(uid);
      if (confirmDeletion) {
        confirmDeletion(pod);
      }
      log.info("pod {} stopped", key);
    }

    private static void stopAll(List<ManagedProcess> processes, Duration grace) {
      List<Thread> stops = new ArrayList<>();
      for (ManagedProcess p : processes) {
        stops.add(Thread.ofVirtual().start(() -> p.stop(grace)));
      }
      for (Thread t : stops) {
        try {
          t.join();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
    }

    private void writeVolumes() throws IOException {
      for (var v : pod.getSpec().getVolumes()) {
        Path vdir = dir.resolve("volumes").resolve(v.getName());
        Files.createDirectories(vdir);
        if (v.getProjected() != null) {
          for (VolumeProjection src : v.getProjected().getSources()) {
            if (src.getServiceAccountToken() != null) {
              var t = src.getServiceAccountToken();
              write(vdir, t.getPath(), token(t.getAudience(), t.getExpirationSeconds()));
            }
            if (src.getConfigMap() != null) {
              writeConfigMap(
                  vdir,
                  src.getConfigMap().getName(),
                  src.getConfigMap().getItems(),
                  src.getConfigMap().getOptional());
            }
            if (src.getSecret() != null) {
              writeSecret(vdir, src.getSecret().getName(), src.getSecret().getItems());
            }
            if (src.getDownwardAPI() != null) {
              for (var item : src.getDownwardAPI().getItems()) {
                if (item.getFieldRef() != null) {
                  write(vdir, item.getPath(), field(item.getFieldRef()));
                }
              }
            }
          }
        } else if (v.getConfigMap() != null) {
          writeConfigMap(
              vdir,
              v.getConfigMap().getName(),
              v.getConfigMap().getItems(),
              v.getConfigMap().getOptional());
        } else if (v.getSecret() != null) {
          writeSecret(vdir, v.getSecret().getSecretName(), v.getSecret().getItems());
        }
        // emptyDir: the empty directory itself. hostPath: mounted from the host path directly.
      }
    }

    /** The pod's {@code /etc/hosts}, as the kubelet writes it, plus the node's entries. */
    private void writeHosts() throws IOException {
      StringBuilder sb = new StringBuilder("# Kubernetes-managed hosts file (process kubelet).\n");
      sb.append("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n");
      sb.append(net.ip()).append('\t').append(name).append('\n');
      for (var alias : pod.getSpec().getHostAliases()) {
        sb.append(alias.getIp()).append('\t').append(String.join(" ", alias.getHostnames()));
        sb.append('\n');
      }
      hostEntries.forEach(
          (ip, names) -> sb.append(ip).append('\t').append(String.join(" ", names)).append('\n'));
      Files.createDirectories(dir);
      write(dir, "etc-hosts", sb.toString());
    }

    /** A {@code resourceFieldRef} value: the container's limit, else the node's allocatable. */
    private String resourceField(String resource, Container c) {
      var limits = c.getResources() == null ? null : c.getResources().getLimits();
      var requests = c.getResources() == null ? null : c.getResources().getRequests();
      return switch (resource) {
        case "limits.memory" -> bytes(limits, "memory", "8Gi");
        case "requests.memory" -> bytes(requests, "memory", "0");
        case "limits.cpu" -> cores(limits, "cpu", "2");
        case "requests.cpu" -> cores(requests, "cpu", "0");
        default -> "";
      };
    }

    private static String bytes(Map<String, Quantity> q, String key, String dflt) {
      Quantity v = q == null ? null : q.get(key);
      return Quantity.getAmountInBytes(v == null ? new Quantity(dflt) : v)
          .toBigInteger()
          .toString();
    }

    private static String cores(Map<String, Quantity> q, String key, String dflt) {
      Quantity v = q == null ? null : q.get(key);
      // The kubelet rounds CPU up to whole cores for divisor 1.
      var amount = Quantity.getAmountInBytes(v == null ? new Quantity(dflt) : v);
      return amount.setScale(0, java.math.RoundingMode.CEILING).toBigInteger().toString();
    }

    private String token(String audience, Long expirationSeconds) {
      String sa = Objects.requireNonNullElse(pod.getSpec().getServiceAccountName(), "default");
      var spec =
          new TokenRequestBuilder()
              .withNewSpec()
              .withExpirationSeconds(Objects.requireNonNullElse(expirationSeconds, 3607L))
              .withNewBoundObjectRef()
              .withApiVersion("v1")
              .withKind("Pod")
              .withName(name)
              .withUid(uid)
              .endBoundObjectRef()
              .endSpec();
      if (audience != null && !audience.isEmpty()) {
        spec.editSpec().withAudiences(audience).endSpec();
      }
      return client
          .serviceAccounts()
          .inNamespace(namespace)
          .withName(sa)
          .tokenRequest(spec.build())
          .getStatus()
          .getToken();
    }

    private void writeConfigMap(Path vdir, String cmName, List<KeyToPath> items, Boolean optional)
        throws IOException {
      ConfigMap cm = null;
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
      while (cm == null && System.nanoTime() < deadline) {
        cm = client.configMaps().inNamespace(namespace).withName(cmName).get();
        if (cm == null) {
          if (Boolean.TRUE.equals(optional)) {
            return;
          }
          sleep(
              200); // e.g. kube-root-ca.crt, published by a controller shortly after the namespace
        }
      }
      if (cm == null) {
        throw new IllegalStateException("configmap " + namespace + "/" + cmName + " not found");
      }
      Map<String, String> data = Objects.requireNonNullElse(cm.getData(), Map.of());
      if (items == null || items.isEmpty()) {
        for (var e : data.entrySet()) {
          write(vdir, e.getKey(), e.getValue());
        }
      } else {
        for (KeyToPath item : items) {
          write(vdir, item.getPath(), data.getOrDefault(item.getKey(), ""));
        }
      }
    }

    private void writeSecret(Path vdir, String secretName, List<KeyToPath> items)
        throws IOException {
      Secret s = client.secrets().inNamespace(namespace).withName(secretName).get();
      if (s == null) {
        throw new IllegalStateException("secret " + namespace + "/" + secretName + " not found");
      }
      Map<String, String> data = Objects.requireNonNullElse(s.getData(), Map.of());
      for (var e : data.entrySet()) {
        String path = e.getKey();
        if (items != null && !items.isEmpty()) {
          path =
              items.stream()
                  .filter(i -> i.getKey().equals(e.getKey()))
                  .map(KeyToPath::getPath)
                  .findFirst()
                  .orElse(null);
          if (path == null) {
            continue;
          }
        }
        write(
            vdir,
            path,
            new String(Base64.getDecoder().decode(e.getValue()), StandardCharsets.UTF_8));
      }
    }

    private static void write(Path vdir, String rel, String content) throws IOException {
      Path f = vdir.resolve(rel).normalize();
      if (!f.startsWith(vdir)) {
        throw new IllegalArgumentException("volume path escapes its volume: " + rel);
      }
      Files.createDirectories(f.getParent());
      Files.writeString(f, content);
      Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-r--r--"));
    }

    /** Shell lines that bind each volume at its mount path, inside the container's mount ns. */
    private String mountScript(Container c) throws IOException {
      StringBuilder sb = new StringBuilder("set -e\n");
      boolean runMounted = false;
      Path run = Path.of("/run");
      for (VolumeMount m : c.getVolumeMounts()) {
        var vol =
            pod.getSpec().getVolumes().stream()
                .filter(v -> v.getName().equals(m.getName()))
                .findFirst()
                .orElseThrow(() -> new IllegalStateException("no volume " + m.getName()));
        Path source =
            vol.getHostPath() != null
                ? Path.of(vol.getHostPath().getPath())
                : dir.resolve("volumes").resolve(m.getName());
        if (m.getSubPath() != null && !m.getSubPath().isEmpty()) {
          source = source.resolve(m.getSubPath());
        }
        Path target = resolveTarget(Path.of(m.getMountPath()));
        if (target.startsWith(run)) {
          // A private tmpfs over /run lets any /run (= /var/run) path be created without
          // touching the host's file system.
          if (!runMounted) {
            sb.append("mount -t tmpfs -o mode=755 meshwork-run /run\n");
            runMounted = true;
          }
        } else if (!Files.isDirectory(target) && !Files.isRegularFile(target)) {
          log.warn(
              "pod {}: mount path {} does not exist on this host; volume {} not mounted",
              key,
              target,
              m.getName());
          continue;
        }
        sb.append("mkdir -p ").append(q(target.toString())).append('\n');
        sb.append("mount --bind ")
            .append(q(source.toString()))
            .append(' ')
            .append(q(target.toString()))
            .append('\n');
        if (Boolean.TRUE.equals(m.getReadOnly())) {
          sb.append("mount -o remount,bind,ro ").append(q(target.toString())).append('\n');
        }
      }
      // The kubelet manages each container's /etc/hosts: the pod's name, hostAliases, and here
      // the node's entries that stand in for cluster DNS.
      sb.append("mount --bind ")
          .append(q(dir.resolve("etc-hosts").toString()))
          .append(" /etc/hosts\n");
      return sb.toString();
    }

    private Path resolveTarget(Path p) throws IOException {
      // /var/run is a symlink to /run on Debian; resolve the longest existing prefix.
      Path existing = p;
      while (existing != null && !Files.exists(existing)) {
        existing = existing.getParent();
      }
      if (existing == null) {
        return p;
      }
      return existing.toRealPath().resolve(existing.relativize(p));
    }

    private Long runAsUser(Container c) {
      if (c.getSecurityContext() != null && c.getSecurityContext().getRunAsUser() != null) {
        return c.getSecurityContext().getRunAsUser();
      }
      var psc = pod.getSpec().getSecurityContext();
      return psc == null ? null : psc.getRunAsUser();
    }

    private Long runAsGroup(Container c) {
      if (c.getSecurityContext() != null && c.getSecurityContext().getRunAsGroup() != null) {
        return c.getSecurityContext().getRunAsGroup();
      }
      var psc = pod.getSpec().getSecurityContext();
      return psc == null ? null : psc.getRunAsGroup();
    }

    private String envValue(EnvVar e, Container c) {
      if (e.getValue() != null) {
        return e.getValue();
      }
      if (e.getValueFrom() != null && e.getValueFrom().getResourceFieldRef() != null) {
        return resourceField(e.getValueFrom().getResourceFieldRef().getResource(), c);
      }
      if (e.getValueFrom() != null && e.getValueFrom().getFieldRef() != null) {
        return field(e.getValueFrom().getFieldRef());
      }
      if (e.getValueFrom() != null && e.getValueFrom().getConfigMapKeyRef() != null) {
        var ref = e.getValueFrom().getConfigMapKeyRef();
        ConfigMap cm = client.configMaps().inNamespace(namespace).withName(ref.getName()).get();
        return cm == null || cm.getData() == null
            ? ""
            : cm.getData().getOrDefault(ref.getKey(), "");
      }
      if (e.getValueFrom() != null && e.getValueFrom().getSecretKeyRef() != null) {
        var ref = e.getValueFrom().getSecretKeyRef();
        Secret s = client.secrets().inNamespace(namespace).withName(ref.getName()).get();
        String b64 = s == null || s.getData() == null ? null : s.getData().get(ref.getKey());
        return b64 == null
            ? ""
            : new String(Base64.getDecoder().decode(b64), StandardCharsets.UTF_8);
      }
      return "";
    }

    private String field(ObjectFieldSelector ref) {
      Pod p = pod;
      return switch (ref.getFieldPath()) {
        case "metadata.name" -> name;
        case "metadata.namespace" -> namespace;
        case "metadata.uid" -> uid;
        case "spec.nodeName" -> nodeName;
        case "spec.serviceAccountName" ->
            Objects.requireNonNullElse(p.getSpec().getServiceAccountName(), "default");
        case "status.podIP" -> net.ip();
        case "status.podIPs" -> net.ip();
        case "status.hostIP" -> network.gateway();
        default -> {
          String f = ref.getFieldPath();
          if (f.startsWith("metadata.labels['")) {
            yield p.getMetadata().getLabels().getOrDefault(f.substring(17, f.length() - 2), "");
          }
          if (f.startsWith("metadata.annotations['")) {
            yield p.getMetadata()
                .getAnnotations()
                .getOrDefault(f.substring(22, f.length() - 2), "");
          }
          yield "";
        }
      };
    }

    /** Writes this pod's status to the API server (JSON patch of the status subresource). */
    void patchStatus() {
      // One writer at a time, and the state is read inside: the last write is the newest state.
      synchronized (patchLock) {
        for (int attempt = 1; ; attempt++) {
          PodStatus status;
          synchronized (this) {
            status = status();
          }
          try {
            client
                .pods()
                .inNamespace(namespace)
                .withName(name)
                .editStatus(
                    p -> {
                      // The API server sets the QoS class at creation; it is immutable.
                      if (p.getStatus() != null && p.getStatus().getQosClass() != null) {
                        status.setQosClass(p.getStatus().getQosClass());
                      }
                      p.setStatus(status);
                      return p;
                    });
            return;
          } catch (KubernetesClientException e) {
            if (e.getCode() == 409 && attempt < 5) {
              continue; // someone else (e.g. the API server on delete) wrote in between: re-read
            }
            if (!isTerminating()) {
              log.warn("status of {}: {}", key, e.toString());
            }
            return;
          } catch (RuntimeException e) {
            if (!isTerminating()) {
              log.warn("status of {}: {}", key, e.toString());
            }
            return;
          }
        }
      }
    }

    private PodStatus status() {
      boolean allReady =
          initialized && !terminating && longRunning().stream().allMatch(c -> c.ready);
      String phase;
      if (failure != null) {
        phase = "Failed";
      } else if (!initialized) {
        phase = "Pending";
      } else if (containers.values().stream().allMatch(c -> c.exitCode != null)
          && !"Always"
              .equals(Objects.requireNonNullElse(pod.getSpec().getRestartPolicy(), "Always"))) {
        phase =
            containers.values().stream().allMatch(c -> c.exitCode == 0) ? "Succeeded" : "Failed";
      } else if (containers.values().stream().anyMatch(c -> c.process == null)) {
        phase = "Pending";
      } else {
        phase = "Running";
      }
      PodStatusBuilder b =
          new PodStatusBuilder()
              .withPhase(phase)
              .withHostIP(network.gateway())
              .addNewHostIP(network.gateway())
              .withStartTime(startTime)
              .withQosClass("BestEffort")
              .withConditions(
                  condition("PodScheduled", true),
                  condition("Initialized", initialized),
                  condition("ContainersReady", allReady),
                  condition("Ready", allReady));
      if (failure != null) {
        b.withMessage(failure).withReason("ProcessKubeletError");
      }
      if (net != null) {
        b.withPodIP(net.ip()).addNewPodIP(net.ip());
      }
      b.withInitContainerStatuses(inits.values().stream().map(this::containerStatus).toList());
      b.withContainerStatuses(containers.values().stream().map(this::containerStatus).toList());
      return b.build();
    }

    private PodCondition condition(String type, boolean value) {
      return new PodConditionBuilder()
          .withType(type)
          .withStatus(value ? "True" : "False")
          .withLastTransitionTime(startTime)
          .build();
    }

    private ContainerStatus containerStatus(ContainerRun c) {
      var b =
          new io.fabric8.kubernetes.api.model.ContainerStatusBuilder()
              .withName(c.spec.getName())
              .withImage(c.spec.getImage())
              .withImageID("")
              .withReady(c.ready)
              .withRestartCount(c.restarts)
              .withStarted(c.process != null && c.exitCode == null);
      if (c.process != null) {
        b.withContainerID("process://" + c.process.pid());
      }
      if (c.process == null) {
        b.withNewState()
            .withNewWaiting()
            .withReason(Objects.requireNonNullElse(c.waitingReason, "PodInitializing"))
            .withMessage(c.waitingMessage)
            .endWaiting()
            .endState();
      } else if (c.exitCode == null) {
        b.withNewState().withNewRunning().withStartedAt(c.startedAt).endRunning().endState();
      } else {
        b.withNewState()
            .withNewTerminated()
            .withExitCode(c.exitCode)
            .withReason(c.exitCode == 0 ? "Completed" : "Error")
            .withStartedAt(c.startedAt)
            .withFinishedAt(c.finishedAt)
            .endTerminated()
            .endState();
      }
      return b.build();
    }
  }

  /**
   * Kubernetes' {@code $(VAR)} expansion of command, args and env values: a defined variable is
   * replaced, {@code $$} escapes a dollar, anything else stays as written.
   */
  static String expand(String s, Map<String, String> env) {
    StringBuilder out = new StringBuilder();
    int i = 0;
    while (i < s.length()) {
      char ch = s.charAt(i);
      if (ch == '$' && i + 1 < s.length()) {
        char next = s.charAt(i + 1);
        if (next == '$') {
          out.append('$');
          i += 2;
          continue;
        }
        if (next == '(') {
          int close = s.indexOf(')', i + 2);
          if (close > 0) {
            String var = s.substring(i + 2, close);
            if (env.containsKey(var)) {
              out.append(env.get(var));
              i = close + 1;
              continue;
            }
          }
        }
      }
      out.append(ch);
      i++;
    }
    return out.toString();
  }

  private static boolean isSidecar(Container c) {
    return "Always".equals(c.getRestartPolicy());
  }

  private static int nz(Integer v, int dflt) {
    return v == null || v == 0 ? dflt : v;
  }

  private static String q(String s) {
    return "'" + s.replace("'", "'\\''") + "'";
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
