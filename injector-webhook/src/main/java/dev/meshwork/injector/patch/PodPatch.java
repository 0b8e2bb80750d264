package dev.meshwork.injector.patch;

import io.fabric8.zjsonpatch.DiffFlags;
import io.fabric8.zjsonpatch.JsonDiff;
import java.util.EnumSet;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;

/**
 * The RFC 6902 JSON Patch that turns one JSON document into another.
 *
 * <p>Both documents must come from the same serializer (the fabric8 model through one mapper), so
 * that fields the injector did not touch serialize identically and produce no operation.
 */
public final class PodPatch {
  private PodPatch() {}

  /**
   * The operations from {@code before} to {@code after}. Only {@code add}, {@code remove} and
   * {@code replace}: {@code move}/{@code copy} are valid RFC 6902 but make patches harder to read
   * in audit logs and gain nothing for a handful of additions.
   */
  public static ArrayNode diff(JsonNode before, JsonNode after) {
    JsonNode ops =
        JsonDiff.asJson(
            before,
            after,
            EnumSet.of(
                DiffFlags.OMIT_VALUE_ON_REMOVE,
                DiffFlags.OMIT_MOVE_OPERATION,
                DiffFlags.OMIT_COPY_OPERATION));
    return (ArrayNode) ops;
  }
}
