package dev.meshwork.controlplane.translate;

import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.Message;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * SHA-256 over resources serialized deterministically (map fields such as metadata would otherwise
 * serialize in any order and change the version for nothing).
 */
final class ResourceHash {
  private final MessageDigest digest;

  ResourceHash() {
    try {
      digest = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK always ships SHA-256", e);
    }
  }

  ResourceHash add(Message m) {
    digest.update(bytes(m));
    digest.update((byte) 0);
    return this;
  }

  ResourceHash addAll(Iterable<? extends Message> messages) {
    messages.forEach(this::add);
    return this;
  }

  ResourceHash add(String s) {
    digest.update(s.getBytes(StandardCharsets.UTF_8));
    digest.update((byte) 0);
    return this;
  }

  /** The first 16 hex digits: plenty to tell versions apart, short in logs. */
  String hex() {
    return HexFormat.of().formatHex(digest.digest(), 0, 8);
  }

  static byte[] bytes(Message m) {
    try {
      ByteArrayOutputStream out = new ByteArrayOutputStream(m.getSerializedSize());
      CodedOutputStream cos = CodedOutputStream.newInstance(out);
      cos.useDeterministicSerialization();
      m.writeTo(cos);
      cos.flush();
      return out.toByteArray();
    } catch (IOException e) {
      throw new UncheckedIOException("serializing to memory cannot fail", e);
    }
  }
}
