package dev.meshwork.api.security.v1alpha1;

import dev.meshwork.api.PolicyStatus;
import io.fabric8.kubernetes.api.model.Namespaced;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.Kind;
import io.fabric8.kubernetes.model.annotation.Plural;
import io.fabric8.kubernetes.model.annotation.Version;

/**
 * Allows or denies calls to selected workloads by the caller's identity or namespace, the gRPC
 * service and method called, and request headers. DENY policies are checked before ALLOW ones; when
 * any ALLOW policy selects a workload, a call must match one of them.
 */
@Group("security.meshwork.dev")
@Version("v1alpha1")
@Kind("AuthorizationPolicy")
@Plural("authorizationpolicies")
public class AuthorizationPolicy extends CustomResource<AuthorizationPolicySpec, PolicyStatus>
    implements Namespaced {}
