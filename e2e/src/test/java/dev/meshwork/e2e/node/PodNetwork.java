package dev.meshwork.e2e.node;

import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The node's pod network, as a CNI bridge plugin would build it: one Linux bridge with the gateway
 * address, and per pod a network namespace joined to it by a veth pair, with an address from a /24
 * pod CIDR and a default route via the gateway.
 *
 * <p>Everything stays on this machine: the CIDR is private (10.213.x.0/24, x random per node so
 * parallel runs do not collide), no forwarding, NAT or host route beyond the bridge's own connected
 * /24 is added, so pods reach each other and the host's bridge address, nothing else. Names carry a
 * random suffix; {@link #close()} deletes the namespaces and the bridge. Thread-safe.
 */
public final class PodNetwork implements AutoCloseable {
  private final String id;
  private final String bridge;
  private final String prefix;
  private final AtomicInteger nextHost = new AtomicInteger(2);
  private final ConcurrentHashMap<String, String> namespaces = new ConcurrentHashMap<>();

  /** A pod's place on the network. */
  public record PodNet(String netns, String hostVeth, String ip) {}

  private final Thread cleanupHook = new Thread(this::cleanup, "pod-network-cleanup");

  private PodNetwork(String id, String prefix) {
    this.id = id;
    this.bridge = "mwbr" + id;
    this.prefix = prefix;
    // An aborted run (Ctrl-C, fork timeout) still removes its namespaces and bridge.
    Runtime.getRuntime().addShutdownHook(cleanupHook);
  }

  /** Creates the bridge with the gateway address, on a /24 not yet routed on this host. */
  public static PodNetwork create() {
    SecureRandom rnd = new SecureRandom();
    String routes = Sh.run("ip", "-4", "route", "show");
    String prefix;
    do {
      prefix = "10.213." + rnd.nextInt(256) + ".";
    } while (routes.contains(prefix + "0/24"));
    String id = HexFormat.of().toHexDigits((short) rnd.nextInt());
    PodNetwork n = new PodNetwork(id, prefix);
    Sh.run("ip", "link", "add", "name", n.bridge, "type", "bridge");
    try {
      Sh.run("ip", "addr", "add", n.gateway() + "/24", "dev", n.bridge);
      // Pod-to-pod frames stay on the bridge: keep them out of the host's iptables (br_netfilter
      // would send them through FORWARD, whose policy is the host's business, not ours).
      Sh.tryRun(
          java.util.List.of(
              "ip",
              "link",
              "set",
              n.bridge,
              "type",
              "bridge",
              "nf_call_iptables",
              "0",
              "nf_call_ip6tables",
              "0",
              "nf_call_arptables",
              "0"));
      Sh.run("ip", "link", "set", n.bridge, "up");
    } catch (RuntimeException e) {
      n.close();
      throw e;
    }
    return n;
  }

  /** The pod CIDR, e.g. {@code 10.213.7.0/24}. */
  public String cidr() {
    return prefix + "0/24";
  }

  /** The bridge's address: the pods' default gateway and the node's address on this network. */
  public String gateway() {
    return prefix + "1";
  }

  /** Creates a network namespace for a pod, wired to the bridge, with an address. */
  public PodNet add(String podKey) {
    int host = nextHost.getAndIncrement();
    if (host > 254) {
      throw new IllegalStateException("pod CIDR " + cidr() + " exhausted");
    }
    String suffix = id + Integer.toHexString(host);
    String netns = "mwpod-" + suffix;
    String hostVeth = "mwv" + suffix;
    String ip = prefix + host;
    Sh.run("ip", "netns", "add", netns);
    namespaces.put(podKey, netns);
    Sh.run("ip", "link", "add", hostVeth, "type", "veth", "peer", "name", "eth0", "netns", netns);
    Sh.run("ip", "link", "set", hostVeth, "master", bridge, "up");
    Sh.run("ip", "-n", netns, "link", "set", "lo", "up");
    Sh.run("ip", "-n", netns, "addr", "add", ip + "/24", "dev", "eth0");
    Sh.run("ip", "-n", netns, "link", "set", "eth0", "up");
    Sh.run("ip", "-n", netns, "route", "add", "default", "via", gateway());
    return new PodNet(netns, hostVeth, ip);
  }

  /** Deletes a pod's namespace; its veth pair goes with it. */
  public void remove(String podKey) {
    String netns = namespaces.remove(podKey);
    if (netns != null) {
      Sh.tryRun(java.util.List.of("ip", "netns", "del", netns));
    }
  }

  @Override
  public void close() {
    cleanup();
    try {
      Runtime.getRuntime().removeShutdownHook(cleanupHook);
    } catch (IllegalStateException shuttingDown) {
      // The hook runs anyway.
    }
  }

  private void cleanup() {
    namespaces.keySet().forEach(this::remove);
    Sh.tryRun(java.util.List.of("ip", "link", "del", bridge));
  }
}
