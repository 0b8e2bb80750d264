package dev.meshwork.api.security.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import dev.meshwork.api.WorkloadSelector;
import java.util.Map;

/**
 * @param selector workloads this applies to; null means the whole namespace (or mesh)
 * @param mtls the mode for every port not named in {@code portLevelMtls}; null inherits the parent
 * @param portLevelMtls container port (as a string key, as in YAML) to mode
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record PeerAuthenticationSpec(
    WorkloadSelector selector, MutualTls mtls, Map<String, MutualTls> portLevelMtls) {
  public PeerAuthenticationSpec {
    portLevelMtls = portLevelMtls == null ? Map.of() : Map.copyOf(portLevelMtls);
  }

  /** One mTLS setting. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record MutualTls(Mode mode) {}

  /**
   * STRICT: mTLS only. PERMISSIVE: mTLS or plaintext, told apart on the first bytes. DISABLE:
   * plaintext.
   */
  public enum Mode {
    /** Inherit from the parent scope. */
    UNSET,
    STRICT,
    PERMISSIVE,
    DISABLE
  }
}
