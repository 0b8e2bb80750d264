package dev.meshwork.api.security.v1alpha1;

import dev.meshwork.api.PolicyStatus;
import io.fabric8.kubernetes.api.model.Namespaced;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.Kind;
import io.fabric8.kubernetes.model.annotation.Plural;
import io.fabric8.kubernetes.model.annotation.Version;

/**
 * Which mTLS mode a workload's inbound side accepts. In {@code meshwork-system} without a selector
 * it is mesh-wide; in another namespace without a selector it is namespace-wide; with a selector it
 * is per workload; {@code portLevelMtls} overrides per port. The most specific one wins.
 */
@Group("security.meshwork.dev")
@Version("v1alpha1")
@Kind("PeerAuthentication")
@Plural("peerauthentications")
public class PeerAuthentication extends CustomResource<PeerAuthenticationSpec, PolicyStatus>
    implements Namespaced {}
