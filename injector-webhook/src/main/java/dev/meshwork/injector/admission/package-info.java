/**
 * The admission protocol: decode an AdmissionReview v1 ({@link
 * dev.meshwork.injector.admission.AdmissionCodec}), decide whether a pod joins the mesh ({@link
 * dev.meshwork.injector.admission.InjectionPolicy}), and answer with an AdmissionReview carrying a
 * JSON Patch or a clear message ({@link dev.meshwork.injector.admission.SidecarInjector}). {@link
 * dev.meshwork.injector.admission.AdmissionService} is the single entry from bytes in to bytes out.
 *
 * <p>Threading: stateless and thread-safe; the server calls it from a worker group, many requests
 * at once.
 */
package dev.meshwork.injector.admission;
