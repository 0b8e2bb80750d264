/**
 * {@code networking.meshwork.dev/v1alpha1}: TrafficPolicy (LB, timeouts, retries, outliers,
 * limits).
 */
package dev.meshwork.api.networking.v1alpha1;
