#!/usr/bin/env bash
# Builds Grafana's dashboard linter (github.com/grafana/dashboard-linter) for e2e
# telemetry.DashboardLinterIT, from the Go module proxy, pinned to v0.2.0 and checked against the
# module's go.sum hash (h1:, pinned below) before anything is built.
#
# The linter is Apache-2.0, but two of its parts import AGPL-3.0 code; this build compiles both
# out, so no AGPL code is downloaded, compiled or linked (its packages are checked before the
# build, the binary's build info after it):
# 1. lint/v2.go, the adapter for Grafana's kubernetes-shaped "v2" dashboard schema (apiVersion
#    dashboard.grafana.app/v2*), imports github.com/grafana/grafana/apps/dashboard (in Grafana's
#    repository: AGPL-3.0-only by its LICENSING.md), which the Go module proxy also refuses (403).
#    (`go install ...@v0.2.0` fails even earlier: it reads @v/list for the deprecation check, also
#    403.) lint/v2.go becomes a stub in which isV2APIVersion is copied unchanged from the original
#    and newDashboardFromV2 returns the error "v2 dashboard schema ... not supported by this build".
# 2. lint/rule_target_logql_auto.go parses LogQL with github.com/grafana/loki/v3/pkg/logql/syntax
#    (AGPL-3.0-only: Loki's LICENSING.md lists pkg/logql under no other licence). Its parseLogQL,
#    used by the two Loki rules (target-logql-rule, target-logql-auto-rule), becomes a stub that
#    refuses every query, so a Loki target FAILS the linter ("LogQL ... not supported by this
#    build") instead of passing unchecked; the rules' names, descriptions and which targets they
#    look at are unchanged. Our dashboards have only Prometheus targets, which never reach it.
# The tests of those two parts (lint/v2_test.go, lint/rule_target_logql_test.go,
# lint/rule_target_logql_auto_test.go) are deleted and their two requires dropped from go.mod.
# Nothing else is changed: main.go and every other rule are Grafana's published code.
#
# The build proves itself: the linter's own unit tests of ./lint/ (every Prometheus and dashboard
# rule) run before the binary is cached. They need no module the proxy refuses (testify is in the
# linter's go.mod) and compile the packages the binary needs anyway.
# Output: $MESHWORK_CACHE/dashboard-linter/<hash of this script>/dashboard-linter (and VERSION)
# Idempotent: an unchanged script reuses its build. The first build takes about 2 minutes from
# empty Go caches on a 2-core machine (mostly Prometheus' and Google Cloud's packages); it runs niced.
set -euo pipefail
cd "$(dirname "$0")/.."

cache="${MESHWORK_CACHE:-$HOME/.cache/meshwork}"
module=github.com/grafana/dashboard-linter
version=v0.2.0
# go.sum hash of $module@$version (sum.golang.org has the same); checked over the files we build.
sum='h1:VV2GAwqCgY1VavwYD+Cw/tAeVXgFJxSIZnkEwgGUzJU='
refused=github.com/grafana/grafana/apps/dashboard
logql=github.com/grafana/loki/v3

say() { printf 'install-dashboard-linter: %s\n' "$*"; }
die() { printf 'install-dashboard-linter: FAILED: %s\n' "$*" >&2; exit 1; }

command -v go >/dev/null 2>&1 || die "no 'go' on PATH; install Go >= 1.26 (https://go.dev/dl/)"

hash="$(sha256sum < "$0" | cut -c1-16)"
out="$cache/dashboard-linter/$hash"
binary="$out/dashboard-linter"
lists_rules() { grep -q target-rate-interval-rule <<< "$("$1" rules 2>/dev/null)"; }
if [ -x "$binary" ] && lists_rules "$binary"; then
  say "cached: $binary ($(cat "$out/VERSION" 2>/dev/null))"
  exit 0
fi

say "go: $(go version)"
mkdir -p "$cache/dashboard-linter"
work="$(mktemp -d "$cache/dashboard-linter/.build.XXXXXX")"
trap 'rm -rf "$work"' EXIT

# Download outside any module; the go command also checks the zip against sum.golang.org.
info="$(cd "$work" && go mod download -json "$module@$version")" \
  || die "go mod download $module@$version: $info"
dir="$(printf '%s\n' "$info" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
got="$(printf '%s\n' "$info" | sed -n 's/^[[:space:]]*"Sum": "\(.*\)",$/\1/p')"
[ -d "$dir" ] || die "go mod download printed no source folder: $info"
[ "$got" = "$sum" ] || die "$module@$version: go reports Sum $got, pinned $sum"

# Copy, then hash what was copied the way go.sum's h1: does (sha256 of the sorted lines
# "<sha256 of file>  <module>@<version>/<path>"), so the files built are the pinned ones.
cp -r "$dir" "$work/src"
chmod -R u+w "$work/src"
h1() {
  (cd "$1" && find . -type f -printf '%P\n' | LC_ALL=C sort | while IFS= read -r f; do
    printf '%s  %s\n' "$(sha256sum < "$f" | cut -c1-64)" "$module@$version/$f"
  done) | sha256sum | cut -c1-64 | { read -r hex; printf "$(sed 's/../\\x&/g' <<< "$hex")"; } | base64
}
copied="h1:$(h1 "$work/src")"
[ "$copied" = "$sum" ] || die "the copied source of $module@$version hashes to $copied, pinned $sum"
say "$module@$version source verified ($sum)"

# Compile out the v2 adapter (see the top of this file).
cd "$work/src"
original="$(cat lint/v2.go)"
keep="$(sed -n '/^\/\/ isV2APIVersion /,/^}$/p' <<< "$original")"
grep -q '^func isV2APIVersion(apiVersion string) bool {$' <<< "$keep" \
  || die "lint/v2.go of $version has no isV2APIVersion to keep; update this script"
grep -q "^func newDashboardFromV2(spec json.RawMessage, apiVersion string) (Dashboard, error) {$" \
  <<< "$original" || die "lint/v2.go of $version has another newDashboardFromV2; update this script"
{
  cat << 'EOF'
// Meshwork build (.ci/install-dashboard-linter.sh): the v2 adapter is compiled out: its dependency
// github.com/grafana/grafana/apps/dashboard is AGPL-3.0-only, and the Go module proxy refuses it.
package lint

import (
	"encoding/json"
	"fmt"
	"strings"
)

EOF
  printf '%s\n\n' "$keep"
  cat << EOF
// newDashboardFromV2 refuses v2 dashboards: this build has no v2 adapter.
func newDashboardFromV2(spec json.RawMessage, apiVersion string) (Dashboard, error) {
	return Dashboard{}, fmt.Errorf("v2 dashboard schema (apiVersion %q) not supported by this build "+
		"(its adapter needs $refused, AGPL-3.0-only and refused by the Go module proxy)", apiVersion)
}
EOF
} > lint/v2.go
rm lint/v2_test.go
go mod edit -droprequire "$refused"

# Compile out Loki's LogQL parser (see the top of this file).
grep -q '^func parseLogQL(expr string, variables \[\]Template) (syntax.Expr, error) {$' \
  lint/rule_target_logql_auto.go \
  || die "lint/rule_target_logql_auto.go of $version has another parseLogQL; update this script"
grep -q '_, err := parseLogQL(t.Expr, d.Templating.List)$' lint/rule_target_logql.go \
  || die "lint/rule_target_logql.go of $version calls parseLogQL otherwise; update this script"
for s in 'name:        "target-logql-auto-rule",' \
  'description: "Checks that each Loki target uses $__auto for range vectors when appropriate.",' \
  'parsedExpr, err := parseLogQL(t.Expr, d.Templating.List)' \
  'r.AddError(d, p, t, fmt.Sprintf("Invalid LogQL query: %v", err))'; do
  grep -qF "$s" lint/rule_target_logql_auto.go \
    || die "lint/rule_target_logql_auto.go of $version has no '$s'; update this script"
done
cat > lint/rule_target_logql_auto.go << EOF
// Meshwork build (.ci/install-dashboard-linter.sh): Loki's LogQL parser ($logql/pkg/logql/syntax,
// AGPL-3.0-only) is compiled out, so every Loki target fails both Loki rules.
package lint

import "fmt"

// parseLogQL refuses every query: this build has no LogQL parser.
func parseLogQL(expr string, variables []Template) (any, error) {
	if _, err := expandLogQLVariables(expr, variables); err != nil {
		return nil, fmt.Errorf("could not expand variables: %w", err)
	}
	return nil, fmt.Errorf("LogQL is not supported by this build (its parser, " +
		"$logql/pkg/logql/syntax, is AGPL-3.0-only and compiled out)")
}

// NewTargetLogQLAutoRule is Grafana's rule up to the parse, which always fails here.
func NewTargetLogQLAutoRule() *TargetRuleFunc {
	return &TargetRuleFunc{
		name:        "target-logql-auto-rule",
		description: "Checks that each Loki target uses \$__auto for range vectors when appropriate.",
		fn: func(d Dashboard, p Panel, t Target) TargetRuleResults {
			r := TargetRuleResults{}

			// skip hidden targets
			if t.Hide {
				return r
			}

			// check if the datasource is Loki
			isLoki := false
			if templateDS := getTemplateDatasource(d); templateDS != nil && templateDS.Query == Loki {
				isLoki = true
			} else if ds, err := t.GetDataSource(); err == nil && ds.Type == Loki {
				isLoki = true
			}

			// skip if the datasource is not Loki
			if !isLoki {
				return r
			}

			// skip if the panel does not have queries
			if !panelHasQueries(p) {
				return r
			}

			if _, err := parseLogQL(t.Expr, d.Templating.List); err != nil {
				r.AddError(d, p, t, fmt.Sprintf("Invalid LogQL query: %v", err))
			}
			return r
		},
	}
}
EOF
rm lint/rule_target_logql_test.go lint/rule_target_logql_auto_test.go
go mod edit -droprequire "$logql"
"$(go env GOROOT)/bin/gofmt" -l lint/ | grep . && die "gofmt: the stubs above are not formatted"
deps="$(go list -mod=mod -deps -test ./...)" || die "go list of the linter's packages"
left="$(grep -F -e "$refused" -e "$logql" <<< "$deps" || true)"
[ -z "$left" ] || die "still importing compiled-out code: $left"

say "building $(date -u +%H:%M:%S) (a few minutes on first run)"
started=$SECONDS
# Same flags for test and build, so the second reuses the first's compiled packages.
flags=(-mod=mod -trimpath -buildvcs=false)
CGO_ENABLED=0 nice -n 19 go test "${flags[@]}" -count=1 ./lint/ \
  || die "the linter's own unit tests (./lint/) failed"
say "unit tests of ./lint/ passed ($((SECONDS - started))s)"
CGO_ENABLED=0 nice -n 19 go build "${flags[@]}" -o "$work/dashboard-linter" . \
  || die "go build of $module@$version"
say "built in $((SECONDS - started))s"

# No AGPL module went into the binary: its build info lists every module linked.
linked="$(go version -m "$work/dashboard-linter" | awk '$1 == "dep" || $1 == "=>" {print $2}')"
agpl="$(grep -E '^github\.com/grafana/(grafana(/.*)?|(loki|mimir|tempo|pyroscope)(/v[0-9]+)?)$' \
  <<< "$linked" || true)"
[ -z "$agpl" ] || die "the binary links AGPL modules: $agpl"
say "linked $(wc -l <<< "$linked") modules, none of Grafana's AGPL ones"

mkdir -p "$out"
mv -f "$work/dashboard-linter" "$binary"
printf '%s %s %s, v2 adapter and LogQL parser compiled out\n' "$module" "$version" "$sum" \
  > "$out/VERSION"
lists_rules "$binary" || die "$binary rules lists no rules"
# Older builds (other versions of this script) go, so tests find this one.
find "$cache/dashboard-linter" -mindepth 1 -maxdepth 1 -type d -not -name "$hash" \
  -not -name '.build.*' -exec rm -rf {} +
say "done: $binary ($(cat "$out/VERSION"))"
