package dev.meshwork.sidecar.route;

import java.util.List;

/**
 * Header changes a route applies: request headers set before the call goes upstream (after
 * removals), and response headers set on the way back. Values replace existing ones ({@code
 * OVERWRITE_IF_EXISTS_OR_ADD}) unless {@code append} is true.
 */
public record HeaderMutations(
    List<Header> requestAdd,
    List<String> requestRemove,
    List<Header> responseAdd,
    List<String> responseRemove) {
  /** One header to set; {@code name} is lower case. */
  public record Header(String name, String value, boolean append) {}

  public static final HeaderMutations NONE =
      new HeaderMutations(List.of(), List.of(), List.of(), List.of());

  public HeaderMutations {
    requestAdd = List.copyOf(requestAdd);
    requestRemove = List.copyOf(requestRemove);
    responseAdd = List.copyOf(responseAdd);
    responseRemove = List.copyOf(responseRemove);
  }

  public boolean isEmpty() {
    return requestAdd.isEmpty()
        && requestRemove.isEmpty()
        && responseAdd.isEmpty()
        && responseRemove.isEmpty();
  }
}
