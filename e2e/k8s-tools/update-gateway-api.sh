#!/usr/bin/env bash
# Refreshes manifests/gateway-api/ from the Gateway API Go module's standard-channel CRDs.
# Usage: e2e/k8s-tools/update-gateway-api.sh v1.6.3   (then review the diff and commit)
set -euo pipefail
cd "$(dirname "$0")/../.."
version="${1:?usage: $0 <gateway-api version, e.g. v1.6.3>}"
dir="$(GOFLAGS=-mod=mod go mod download -json "sigs.k8s.io/gateway-api@$version" \
  | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
[ -d "$dir/config/crd/standard" ] || { echo "no config/crd/standard in sigs.k8s.io/gateway-api@$version" >&2; exit 1; }
out=manifests/gateway-api
rm -f "$out"/*.yaml
for f in "$dir"/config/crd/standard/*.yaml; do
  n="$(basename "$f")"
  {
    echo "# Gateway API $version, standard channel: config/crd/standard/$n"
    echo "# Origin: Go module sigs.k8s.io/gateway-api@$version (https://github.com/kubernetes-sigs/gateway-api),"
    echo "# copied unchanged below this header. Copyright The Kubernetes Authors, Apache License 2.0."
    echo "# Refresh: e2e/k8s-tools/update-gateway-api.sh <version>"
    cat "$f"
  } > "$out/$n"
done
echo "updated $out to sigs.k8s.io/gateway-api@$version"
