package dev.meshwork.controlplane.source;

import dev.meshwork.controlplane.model.RawConfig;
import dev.meshwork.controlplane.model.UnreadableObject;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Namespaced;
import java.io.IOException;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.stream.Stream;
import javax.annotation.concurrent.ThreadSafe;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Config from a folder of Kubernetes YAML ({@code *.yaml}, {@code *.yml}, {@code *.json}, top level
 * only), watched for changes: what {@code meshctl demo} and local runs use. See {@code
 * docs/control-plane.md} for how pods and endpoints are written without a cluster.
 *
 * <p>A file is applied whole or not at all: if any document in it fails to parse, the error is
 * logged with the file and document number and the file's previous good content stays in force. One
 * exception, so that a bad policy is reported like one read from Kubernetes: a document of our CRDs
 * that names itself but whose spec cannot be read (a mode this version does not know) is handed on
 * as an {@link UnreadableObject} in place of that object's version from the file's last good
 * content; the model then reports it and keeps the policy's own last good version. Objects without
 * a namespace go to {@code default}.
 */
@ThreadSafe
public final class DirectoryConfigSource implements ConfigSource {
  private static final Logger log = LoggerFactory.getLogger(DirectoryConfigSource.class);

  private final Path dir;
  private final YamlResources yaml = new YamlResources();
  private final Debouncer debouncer;
  // Confined to the debouncer's thread.
  private final Map<Path, List<HasMetadata>> lastGood = new HashMap<>();
  private final Map<Path, String> lastError = new HashMap<>();
  // For a rejected file: its documents of our CRDs that name themselves but cannot be read.
  private final Map<Path, List<UnreadableObject>> unreadable = new HashMap<>();
  // What each file looked like when last read: unchanged files are not parsed again, so one edit
  // in a folder of thousands of objects costs one file's parse.
  private final Map<Path, FileStamp> lastRead = new HashMap<>();

  private record FileStamp(Object key, long modifiedNanos, long size) {
    static FileStamp of(Path f) throws IOException {
      BasicFileAttributes a = Files.readAttributes(f, BasicFileAttributes.class);
      return new FileStamp(
          a.fileKey(),
          a.lastModifiedTime().to(java.util.concurrent.TimeUnit.NANOSECONDS),
          a.size());
    }
  }

  private volatile Consumer<RawConfig> sink;
  private volatile WatchService watcher;
  private volatile Thread watchThread;

  public DirectoryConfigSource(Path dir, Duration debounce) {
    this.dir = dir.toAbsolutePath();
    this.debouncer = new Debouncer("meshwork-dir-source", debounce, this::reload);
  }

  @Override
  public void start(Consumer<RawConfig> sink) {
    if (!Files.isDirectory(dir)) {
      throw new ConfigSourceException("config folder " + dir + " does not exist", null);
    }
    this.sink = sink;
    try {
      watcher = dir.getFileSystem().newWatchService();
      dir.register(
          watcher,
          StandardWatchEventKinds.ENTRY_CREATE,
          StandardWatchEventKinds.ENTRY_MODIFY,
          StandardWatchEventKinds.ENTRY_DELETE);
    } catch (IOException e) {
      throw new ConfigSourceException("cannot watch config folder " + dir, e);
    }
    watchThread = Thread.ofPlatform().name("meshwork-dir-watch").daemon().start(this::watch);
    debouncer.runNow();
    log.info("watching config folder {}", dir);
  }

  private void watch() {
    try {
      while (true) {
        WatchKey key = watcher.take();
        key.pollEvents();
        debouncer.trigger();
        if (!key.reset()) {
          log.error("config folder {} is gone; keeping the last config", dir);
          return;
        }
      }
    } catch (InterruptedException | ClosedWatchServiceException e) {
      // closing
    }
  }

  private void reload() {
    List<Path> files;
    try (Stream<Path> s = Files.list(dir)) {
      files =
          s.filter(Files::isRegularFile)
              .filter(
                  p -> {
                    String n = p.getFileName().toString();
                    return !n.startsWith(".")
                        && (n.endsWith(".yaml") || n.endsWith(".yml") || n.endsWith(".json"));
                  })
              .sorted()
              .toList();
    } catch (IOException e) {
      log.error("cannot list config folder {}; keeping the last config", dir, e);
      return;
    }
    lastGood.keySet().retainAll(files);
    lastError.keySet().retainAll(files);
    unreadable.keySet().retainAll(files);
    lastRead.keySet().retainAll(files);
    for (Path f : files) {
      FileStamp stamp;
      try {
        stamp = FileStamp.of(f);
      } catch (IOException e) {
        stamp = null; // vanished or unreadable: let loadFile report it
      }
      if (stamp != null && stamp.equals(lastRead.get(f))) {
        continue;
      }
      loadFile(f);
      if (stamp != null) {
        lastRead.put(f, stamp);
      }
    }
    Map<String, HasMetadata> objects = new LinkedHashMap<>();
    Map<String, UnreadableObject> unreadables = new LinkedHashMap<>();
    for (Path f : files) {
      for (HasMetadata o : lastGood.getOrDefault(f, List.of())) {
        String id =
            o.getKind() + "/" + o.getMetadata().getNamespace() + "/" + o.getMetadata().getName();
        unreadables.remove(id);
        if (objects.put(id, o) != null) {
          log.warn("{} is defined twice; the one in {} wins", id, f.getFileName());
        }
      }
      for (UnreadableObject u : unreadable.getOrDefault(f, List.of())) {
        String id = u.kind() + "/" + u.namespace() + "/" + u.name();
        objects.remove(id);
        unreadables.put(id, u);
      }
    }
    RawConfig raw = Classifier.classify(objects.values(), List.copyOf(unreadables.values()));
    log.debug("config folder {}: {} objects", dir, raw.size());
    Consumer<RawConfig> s = sink;
    if (s != null) {
      s.accept(raw);
    }
  }

  private void loadFile(Path f) {
    String text;
    try {
      text = Files.readString(f);
    } catch (IOException e) {
      log.error("cannot read {}; keeping its last good content", f, e);
      return;
    }
    List<HasMetadata> good = new ArrayList<>();
    List<String> errors = new ArrayList<>();
    List<UnreadableObject> bad = new ArrayList<>();
    for (YamlResources.Document d : yaml.parse(text)) {
      if (d.error() != null) {
        errors.add(d.error());
        UnreadableObject u = d.unreadable();
        if (u != null) {
          bad.add(
              u.namespace() != null
                  ? u
                  : new UnreadableObject(
                      u.kind(), "default", u.name(), u.uid(), u.generation(), u.error()));
        }
        continue;
      }
      HasMetadata o = d.object();
      if (!Classifier.relevant(o)) {
        log.debug("{}: ignoring {} {}", f.getFileName(), o.getKind(), o.getMetadata().getName());
        continue;
      }
      if (o instanceof Namespaced && o.getMetadata().getNamespace() == null) {
        o.getMetadata().setNamespace("default");
      }
      good.add(o);
    }
    if (errors.isEmpty()) {
      lastGood.put(f, List.copyOf(good));
      unreadable.remove(f);
      if (lastError.remove(f) != null) {
        log.info("{} parses again", f.getFileName());
      }
    } else {
      unreadable.put(f, List.copyOf(bad));
      String message = String.join("; ", errors);
      if (!message.equals(lastError.put(f, message))) {
        log.error(
            "{} rejected, {}: {}",
            f,
            lastGood.containsKey(f)
                ? "its last good content stays in force"
                : "nothing applied from it",
            message);
      }
    }
  }

  @Override
  public String describe() {
    return "directory " + dir;
  }

  @Override
  public void close() {
    debouncer.close();
    try {
      if (watcher != null) {
        watcher.close();
      }
    } catch (IOException e) {
      log.debug("closing watcher", e);
    }
    if (watchThread != null) {
      watchThread.interrupt();
    }
  }
}
