package dev.meshwork.ca.store;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * One file per entry in a private directory (mode 0700, files 0600): the store of {@code meshctl
 * demo} and of CAs run without Kubernetes. Writes go to a temporary file then move into place, so a
 * crash leaves either the old or the new file. Not for several processes at once.
 */
public final class DirectoryCaStore implements CaStore {
  private static final String MARKER = CaStateCodec.INTERMEDIATE_CERT;
  private final Path directory;

  public DirectoryCaStore(Path directory) {
    this.directory = directory;
  }

  @Override
  public Optional<Map<String, String>> load() {
    if (!Files.isRegularFile(directory.resolve(MARKER))) {
      return Optional.empty();
    }
    Map<String, String> entries = new HashMap<>();
    try (Stream<Path> files = Files.list(directory)) {
      for (Path file : files.filter(Files::isRegularFile).toList()) {
        String name = file.getFileName().toString();
        if (CaStateCodec.isEntryName(name)) {
          entries.put(name, Files.readString(file, StandardCharsets.UTF_8));
        }
      }
    } catch (IOException e) {
      throw new CaStoreException("cannot read CA material from " + directory, e);
    }
    return Optional.of(Map.copyOf(entries));
  }

  @Override
  public Map<String, String> createIfAbsent(Map<String, String> entries) {
    return load()
        .orElseGet(
            () -> {
              replace(entries);
              return entries;
            });
  }

  @Override
  public void replace(Map<String, String> entries) {
    try {
      createPrivateDirectory();
      for (var entry : entries.entrySet()) {
        Path tmp = directory.resolve(entry.getKey() + ".tmp");
        Files.deleteIfExists(tmp);
        Files.createFile(
            tmp,
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        Files.writeString(tmp, entry.getValue(), StandardCharsets.UTF_8);
        Files.move(
            tmp,
            directory.resolve(entry.getKey()),
            StandardCopyOption.REPLACE_EXISTING,
            StandardCopyOption.ATOMIC_MOVE);
      }
      // Entries dropped from the state (a retired root list emptied) must not come back on load.
      try (Stream<Path> files = Files.list(directory)) {
        for (Path file : files.toList()) {
          String name = file.getFileName().toString();
          if (CaStateCodec.isEntryName(name) && !entries.containsKey(name)) {
            Files.delete(file);
          }
        }
      }
    } catch (IOException e) {
      throw new CaStoreException("cannot write CA material to " + directory, e);
    }
  }

  private void createPrivateDirectory() throws IOException {
    try {
      Files.createDirectories(directory.getParent() == null ? directory : directory.getParent());
      Files.createDirectory(
          directory,
          PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
    } catch (FileAlreadyExistsException e) {
      // Reused directory: keep it as the operator made it.
    }
  }

  @Override
  public String describe() {
    return "directory " + directory.toAbsolutePath();
  }
}
