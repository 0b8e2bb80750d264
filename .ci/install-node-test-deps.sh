#!/usr/bin/env bash
# Installs the Node test client's dependencies (@grpc/grpc-js, a second gRPC stack that NodeClientIT
# runs through the sidecar) into sidecar-proxy/src/test/node/node_modules, exactly as
# package-lock.json pins them. Idempotent: skipped when node_modules already matches the lock file;
# npm's download cache lives under ~/.cache/meshwork/npm. Fails loudly when Node or npm is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=sidecar-proxy/src/test/node
cache="${MESHWORK_CACHE:-$HOME/.cache/meshwork}/npm"

for tool in node npm; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "install-node-test-deps: '$tool' not found; install Node.js 18 or newer (Debian: apt-get install nodejs npm)" >&2
    exit 1
  fi
done

stamp="$dir/node_modules/.meshwork-lock.sha256"
want="$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -d "$dir/node_modules/@grpc/grpc-js" ]; then
  echo "node test deps up to date ($dir/node_modules)"
  exit 0
fi

mkdir -p "$cache"
echo "npm ci in $dir (cache $cache)"
if ! (cd "$dir" && npm ci --no-audit --no-fund --cache "$cache" --prefer-offline); then
  echo "install-node-test-deps: npm ci failed in $dir" >&2
  exit 1
fi
echo "$want" > "$stamp"
echo "node test deps installed: $(node -p "require('./$dir/node_modules/@grpc/grpc-js/package.json').version") of @grpc/grpc-js"
