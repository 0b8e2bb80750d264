package dev.meshwork.api.networking.v1alpha1;

import dev.meshwork.api.PolicyStatus;
import io.fabric8.kubernetes.api.model.Namespaced;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.Kind;
import io.fabric8.kubernetes.model.annotation.Plural;
import io.fabric8.kubernetes.model.annotation.Version;

/** Client-side traffic behaviour for calls to a Service or through a route. */
@Group("networking.meshwork.dev")
@Version("v1alpha1")
@Kind("TrafficPolicy")
@Plural("trafficpolicies")
public class TrafficPolicy extends CustomResource<TrafficPolicySpec, PolicyStatus>
    implements Namespaced {}
