package dev.meshwork.e2e.node;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.jar.JarFile;
import java.util.stream.Stream;

/**
 * Turns a Java main class of the test classpath into a container entry point, as an image built by
 * Jib would run it. The classpath is staged under a world-readable directory (hard links where
 * possible), so that containers running as another user (the sidecar's UID) can read it: the local
 * Maven repository usually sits under a {@code /root} no one else may enter.
 */
public final class JavaImage {
  private JavaImage() {}

  /** {@code java -cp <staged classpath> <jvmArgs> <mainClass>}, staged into {@code dir}. */
  static List<String> entrypoint(Path dir, String mainClass, List<String> jvmArgs) {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.addAll(jvmArgs);
    cmd.add("-cp");
    cmd.add(String.join(":", stage(dir)));
    cmd.add(mainClass);
    return cmd;
  }

  /** The JVM's classpath, with a manifest-only jar (surefire/failsafe booter) expanded. */
  public static List<Path> classpath() {
    List<Path> out = new ArrayList<>();
    for (String entry : System.getProperty("java.class.path").split(":")) {
      Path p = Path.of(entry);
      out.add(p);
      if (Files.isRegularFile(p) && p.toString().endsWith(".jar")) {
        try (JarFile jar = new JarFile(p.toFile())) {
          var mf = jar.getManifest();
          String cp = mf == null ? null : mf.getMainAttributes().getValue("Class-Path");
          if (cp != null) {
            for (String url : cp.trim().split("\\s+")) {
              out.add(Path.of(p.getParent().toUri().resolve(URI.create(url))));
            }
          }
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      }
    }
    return out;
  }

  private static List<String> stage(Path dir) {
    try {
      Files.createDirectories(dir);
      Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
      List<String> staged = new ArrayList<>();
      int i = 0;
      for (Path entry : classpath()) {
        if (!Files.exists(entry)) {
          continue;
        }
        Path target = dir.resolve(i++ + "-" + entry.getFileName());
        if (Files.isDirectory(entry)) {
          try (Stream<Path> files = Files.walk(entry)) {
            for (Path f : files.toList()) {
              Path t = target.resolve(entry.relativize(f).toString());
              if (Files.isDirectory(f)) {
                Files.createDirectories(t);
              } else {
                link(f, t);
              }
            }
          }
        } else {
          link(entry, target);
        }
        staged.add(target.toString());
      }
      // Every directory on the way must be enterable by the container's user. Files are left
      // alone: a hard link shares its inode (and mode) with the original in the Maven repository.
      try (Stream<Path> all = Files.walk(dir)) {
        for (Path p : all.filter(Files::isDirectory).toList()) {
          Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
        }
      }
      return staged;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static void link(Path source, Path target) throws IOException {
    Files.createDirectories(target.getParent());
    if (Files.exists(target)) {
      return; // staged before
    }
    boolean worldReadable =
        Files.getPosixFilePermissions(source).contains(PosixFilePermission.OTHERS_READ);
    if (worldReadable) {
      try {
        Files.createLink(target, source);
        return;
      } catch (FileAlreadyExistsException e) {
        return;
      } catch (IOException | UnsupportedOperationException e) {
        // another file system: copy below
      }
    }
    Files.copy(source, target);
    Files.setPosixFilePermissions(target, PosixFilePermissions.fromString("rw-r--r--"));
  }
}
