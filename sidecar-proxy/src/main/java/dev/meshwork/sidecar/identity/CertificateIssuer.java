package dev.meshwork.sidecar.identity;

import java.security.KeyPair;

/** Gets a certificate for a key pair: the CA over gRPC in production, a fake in unit tests. */
@FunctionalInterface
public interface CertificateIssuer {

  /**
   * @param keys the key pair to certify; only the public half leaves the process (in the CSR)
   * @return the issued identity, already checked to match the key and the requested identity
   * @throws IssuanceException if no valid certificate was obtained (the caller retries)
   */
  WorkloadIdentity issue(KeyPair keys);
}
