package dev.meshwork.sidecar.listener;

import io.netty.channel.Channel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.util.AttributeKey;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.Optional;

/**
 * The destination a connection had before iptables REDIRECT sent it to us: {@code getsockopt(fd,
 * SOL_IP, SO_ORIGINAL_DST)} through the foreign function API (IPv4).
 *
 * <p>Threading: stateless; safe from any thread.
 */
public final class OriginalDst {
  private static final int SOL_IP = 0;
  private static final int SO_ORIGINAL_DST = 80;
  private static final MethodHandle GETSOCKOPT;
  private static final AttributeKey<Optional<InetSocketAddress>> KEY =
      AttributeKey.valueOf("meshwork.originalDst");

  static {
    MethodHandle h = null;
    try {
      Linker linker = Linker.nativeLinker();
      h =
          linker
              .defaultLookup()
              .find("getsockopt")
              .map(
                  addr ->
                      linker.downcallHandle(
                          addr,
                          FunctionDescriptor.of(
                              ValueLayout.JAVA_INT,
                              ValueLayout.JAVA_INT,
                              ValueLayout.JAVA_INT,
                              ValueLayout.JAVA_INT,
                              ValueLayout.ADDRESS,
                              ValueLayout.ADDRESS)))
              .orElse(null);
    } catch (RuntimeException | LinkageError e) {
      h = null;
    }
    GETSOCKOPT = h;
  }

  private OriginalDst() {}

  /** The original destination of {@code ch}, or empty when it was not redirected or unknown. */
  public static Optional<InetSocketAddress> of(Channel ch) {
    if (!(ch instanceof EpollSocketChannel e) || GETSOCKOPT == null) {
      return Optional.empty();
    }
    Optional<InetSocketAddress> dst = ofFd(e.fd().intValue());
    // Without REDIRECT, the kernel reports the local address itself: not an original destination.
    return dst.filter(d -> !d.equals(ch.localAddress()));
  }

  /**
   * Like {@link #of(Channel)}, asked of the kernel once per connection and kept on the channel:
   * every call on a captured connection that needs it reads the same answer.
   */
  public static Optional<InetSocketAddress> cached(Channel ch) {
    Optional<InetSocketAddress> known = ch.attr(KEY).get();
    if (known == null) {
      known = of(ch);
      ch.attr(KEY).set(known);
    }
    return known;
  }

  /** {@code getsockopt} on a raw file descriptor. */
  public static Optional<InetSocketAddress> ofFd(int fd) {
    if (GETSOCKOPT == null) {
      return Optional.empty();
    }
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment addr = arena.allocate(16);
      MemorySegment len = arena.allocate(ValueLayout.JAVA_INT);
      len.set(ValueLayout.JAVA_INT, 0, 16);
      int rc = (int) GETSOCKOPT.invokeExact(fd, SOL_IP, SO_ORIGINAL_DST, addr, len);
      if (rc != 0) {
        return Optional.empty();
      }
      // struct sockaddr_in: family (2, host order), port (2, network order), address (4).
      int port =
          ((addr.get(ValueLayout.JAVA_BYTE, 2) & 0xff) << 8)
              | (addr.get(ValueLayout.JAVA_BYTE, 3) & 0xff);
      byte[] ip = new byte[4];
      for (int i = 0; i < 4; i++) {
        ip[i] = addr.get(ValueLayout.JAVA_BYTE, 4 + i);
      }
      return Optional.of(new InetSocketAddress(InetAddress.getByAddress(ip), port));
    } catch (UnknownHostException e) {
      return Optional.empty();
    } catch (Throwable t) {
      return Optional.empty();
    }
  }
}
