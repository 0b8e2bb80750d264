#!/usr/bin/env bash
# Builds the OTLP receiver of the trace tests: an OpenTelemetry Collector with the OTLP receiver
# and the file exporter, made by the collector's own builder (ocb) from the Go module proxy.
# Manifest and pinned versions: .ci/otlp-receiver/builder-config.yaml.
# Output: $MESHWORK_CACHE/otelcol/<manifest hash>/otelcol-meshwork
# Idempotent: the binary sits in a folder named after the manifest's hash, so an unchanged
# manifest reuses it. The first build takes several minutes on 2 cores; it runs niced.
set -euo pipefail
cd "$(dirname "$0")/.."

cache="${MESHWORK_CACHE:-$HOME/.cache/meshwork}"
manifest=".ci/otlp-receiver/builder-config.yaml"
builder_version=v0.165.0

say() { printf 'install-otlp-receiver: %s\n' "$*"; }
die() { printf 'install-otlp-receiver: FAILED: %s\n' "$*" >&2; exit 1; }

command -v go >/dev/null 2>&1 || die "no 'go' on PATH; install Go >= 1.26 (https://go.dev/dl/)"
[ -f "$manifest" ] || die "missing $manifest"

hash="$(cat "$manifest" "$0" | sha256sum | cut -c1-16)"
out="$cache/otelcol/$hash"
binary="$out/otelcol-meshwork"
if [ -x "$binary" ] && "$binary" --version >/dev/null 2>&1; then
  say "cached: $binary"
  exit 0
fi

say "go: $(go version)"
tools="$cache/otelcol/tools/$builder_version"
if [ ! -x "$tools/builder" ]; then
  say "installing the collector builder (ocb) $builder_version into $tools"
  mkdir -p "$tools"
  GOBIN="$tools" nice -n 19 go install "go.opentelemetry.io/collector/cmd/builder@$builder_version" \
    || die "go install go.opentelemetry.io/collector/cmd/builder@$builder_version"
fi

mkdir -p "$cache/otelcol"
work="$(mktemp -d "$cache/otelcol/.build.XXXXXX")"
trap 'rm -rf "$work"' EXIT
sed "s|OUTPUT_PATH|$work/src|" "$manifest" > "$work/builder-config.yaml"
# ocb writes the collector's main and component list from the manifest. Its own module step runs
# `go mod tidy`, which also resolves the components' test-only imports, and one of those (contrib's
# otlpencodingextension) is refused by the Go module proxy (403). So: ocb generates, and `go get`
# resolves only what the binary imports, at the manifest's pinned versions.
"$tools/builder" --config="$work/builder-config.yaml" --skip-get-modules --skip-compilation \
  || die "ocb could not generate sources from $manifest"
mapfile -t modules < <(awk '/gomod:/ {print $3 "@" $4}' "$manifest")
[ ${#modules[@]} -gt 0 ] || die "no gomod entries in $manifest"
say "building $(date -u +%H:%M:%S) (several minutes on first run): ${modules[*]}"
started=$SECONDS
(
  cd "$work/src"
  go mod init otelcol-meshwork >/dev/null 2>&1
  nice -n 19 go get "${modules[@]}" && nice -n 19 go get . \
    && CGO_ENABLED=0 nice -n 19 go build -trimpath -buildvcs=false -o otelcol-meshwork .
) || die "go build of the collector from $manifest"
say "built in $((SECONDS - started))s"

mkdir -p "$out"
mv -f "$work/src/otelcol-meshwork" "$binary"
"$binary" --version
# Older builds (other manifests) go, so tests that take the build from the cache find this one.
find "$cache/otelcol" -mindepth 1 -maxdepth 1 -type d -not -name tools -not -name "$hash" \
  -not -name '.build.*' -exec rm -rf {} +
say "done: $binary"
