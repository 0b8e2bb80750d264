#!/usr/bin/env bash
# Builds the e2e harness's Kubernetes control plane from source through the Go module proxy:
# kube-apiserver, kube-controller-manager and etcd, at the versions pinned in e2e/k8s-tools/go.mod.
# Output: $MESHWORK_CACHE/k8s/<kubernetes version>/bin/{kube-apiserver,kube-controller-manager,etcd}
# Idempotent: a stamp holding the hash of go.mod + go.sum skips the build when nothing changed.
# The first build takes a while (it compiles a large part of Kubernetes); it runs niced, and
# GOFLAGS=-p=1 may be set by the caller to keep a shared machine responsive.
set -euo pipefail
cd "$(dirname "$0")/.."

cache="${MESHWORK_CACHE:-$HOME/.cache/meshwork}"
module="e2e/k8s-tools"

say() { printf 'install-k8s: %s\n' "$*"; }
die() { printf 'install-k8s: FAILED: %s\n' "$*" >&2; exit 1; }

command -v go >/dev/null 2>&1 || die "no 'go' on PATH; install Go >= $(awk '/^go /{print $2}' "$module/go.mod") (https://go.dev/dl/)"

# Versions come from the wrapper module itself, so go.mod is the single place they are pinned.
version_of() { awk -v m="$1" '$1 == m && $2 ~ /^v/ {print $2; exit}' "$module/go.mod"; }
k8s_version="$(version_of k8s.io/kubernetes)"
etcd_version="$(version_of go.etcd.io/etcd/server/v3)"
[ -n "$k8s_version" ] || die "k8s.io/kubernetes is not pinned in $module/go.mod"
[ -n "$etcd_version" ] || die "go.etcd.io/etcd/server/v3 is not pinned in $module/go.mod"

bin="$cache/k8s/$k8s_version/bin"
stamp="$bin/.stamp"
want="$(cat "$module/go.mod" "$module/go.sum" | sha256sum | cut -d' ' -f1)"
binaries=(kube-apiserver kube-controller-manager etcd)

all_present() { for b in "${binaries[@]}"; do [ -x "$bin/$b" ] || return 1; done; }
if all_present && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  say "cached: kubernetes $k8s_version, etcd $etcd_version in $bin"
  exit 0
fi

say "go: $(go version)"
say "building kubernetes $k8s_version (kube-apiserver, kube-controller-manager) and etcd $etcd_version into $bin"
mkdir -p "$bin"
tmp="$(mktemp -d "$bin/.build.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT

# Version stamping, as hack/lib/version.sh does for release builds: without it the binaries call
# themselves v0.0.0-master and clients that check the server version get confused.
minor="${k8s_version#v1.}"; minor="${minor%%.*}"
pkg=k8s.io/component-base/version
ldflags="-s -w"
for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ldflags+=" -X $p.gitVersion=$k8s_version -X $p.gitMajor=1 -X $p.gitMinor=$minor"
  ldflags+=" -X $p.gitTreeState=clean -X $p.buildDate=1970-01-01T00:00:00Z"
done
unset pkg

cd "$module"
say "downloading modules (cached in $(go env GOMODCACHE))"
go mod download
for target in k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager go.etcd.io/etcd/server/v3; do
  name="$(basename "$target")"
  [ "$name" = v3 ] && name=etcd
  say "go build $target -> $name ($(date -u +%H:%M:%S))"
  started=$SECONDS
  CGO_ENABLED=0 nice -n 19 go build -trimpath -buildvcs=false -ldflags "$ldflags" -o "$tmp/$name" "$target" \
    || die "go build $target"
  say "built $name in $((SECONDS - started))s"
done
cd - >/dev/null

for b in "${binaries[@]}"; do mv -f "$tmp/$b" "$bin/$b"; done
"$bin/kube-apiserver" --version
"$bin/etcd" --version | head -1
echo "$want" > "$stamp"
say "done: $bin"
