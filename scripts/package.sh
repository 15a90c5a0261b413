#!/usr/bin/env bash
# Builds one platform-specific VSIX per target into dist/:
#   1. cross-compiles the sidecar into bin/<platform>-<arch>/awsflow-sts[.exe] (what
#      extension/src/supervisor.ts resolveBinary looks for),
#   2. bundles the extension into out/extension.js,
#   3. packages each target with the pinned @vscode/vsce from a staging directory that holds only
#      the files a VSIX may carry and only that target's binary,
#   4. checks every VSIX (scripts/verify-vsix.mjs) and prints its size and file count.
# Usage: VERSION=v1.2.3 scripts/package.sh [target ...]   (default: every target)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

ALL_TARGETS=(linux-x64 linux-arm64 darwin-x64 darwin-arm64 win32-x64 win32-arm64)
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("${ALL_TARGETS[@]}")
GO="${GO:-go}"
VERSION="${VERSION:-$(git describe --tags --always --dirty 2>/dev/null || echo 0.1.0-dev)}"
ext_version="$(node -p 'require("./package.json").version')"
vsce="$root/node_modules/.bin/vsce"

die() { echo "package: $*" >&2; exit 1; }
[ -x "$vsce" ] || die "@vscode/vsce is not installed; run npm ci"
[ "$("$vsce" --version)" = "3.9.2" ] || die "@vscode/vsce 3.9.2 expected, found $("$vsce" --version)"

# <process.platform>-<process.arch> (the VSIX target) -> GOOS GOARCH.
goos_goarch() {
  case "$1" in
    linux-x64) echo linux amd64 ;;     linux-arm64) echo linux arm64 ;;
    darwin-x64) echo darwin amd64 ;;   darwin-arm64) echo darwin arm64 ;;
    win32-x64) echo windows amd64 ;;   win32-arm64) echo windows arm64 ;;
    *) return 1 ;;
  esac
}
binary_name() { case "$1" in win32-*) echo awsflow-sts.exe ;; *) echo awsflow-sts ;; esac; }
for t in "${targets[@]}"; do goos_goarch "$t" >/dev/null || die "unknown target $t (known: ${ALL_TARGETS[*]})"; done

echo "package: sidecar $VERSION for ${targets[*]}"
pids=()
for t in "${targets[@]}"; do
  read -r goos goarch < <(goos_goarch "$t")
  out="bin/$t/$(binary_name "$t")"
  mkdir -p "bin/$t"
  CGO_ENABLED=0 GOOS=$goos GOARCH=$goarch "$GO" build -trimpath \
    -ldflags "-s -w -X main.version=$VERSION" -o "$out" ./sidecar/cmd/awsflow-sts &
  pids+=($!)
done
for p in "${pids[@]}"; do wait "$p" || die "go build failed"; done

echo "package: bundling the extension"
npm run --silent build

stage_root="$(mktemp -d)"
trap 'rm -rf "$stage_root"' EXIT
mkdir -p dist
vsixes=()
for t in "${targets[@]}"; do
  stage="$stage_root/$t"
  bin="$(binary_name "$t")"
  mkdir -p "$stage/out" "$stage/media" "$stage/bin/$t"
  cp package.json README.md CHANGELOG.md LICENSE .vscodeignore "$stage/"
  cp media/icon.png "$stage/media/"
  cp out/extension.js "$stage/out/"
  cp "bin/$t/$bin" "$stage/bin/$t/$bin"
  chmod 0755 "$stage/bin/$t/$bin"
  vsix="dist/awsflow-sts-$t-$ext_version.vsix"
  rm -f "$vsix"
  echo "package: $vsix"
  # README links stay relative: package.json names no repository to rewrite them against.
  (cd "$stage" && "$vsce" package --target "$t" --out "$root/$vsix" --no-dependencies \
    --allow-missing-repository --no-rewrite-relative-links) >"$stage_root/$t.log" 2>&1 \
    || { cat "$stage_root/$t.log" >&2; die "vsce failed for $t"; }
  vsixes+=("$vsix")
done

node scripts/verify-vsix.mjs "${vsixes[@]}"
