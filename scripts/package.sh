#!/usr/bin/env bash
# Builds one platform-specific VSIX and one standalone archive per target into dist/:
#   1. cross-compiles the sidecar into bin/<platform>-<arch>/awsflow-sts[.exe] (what
#      extension/src/supervisor.ts resolveBinary looks for),
#   2. archives each binary alone (with LICENSE and README.md) for use without VS Code, e.g. as an
#      MCP server: dist/awsflow-sts-<version>-<goos>-<goarch>.tar.gz (linux, darwin) or .zip (windows),
#      <version> being package.json's, as in the VSIX names,
#   3. bundles the extension into out/extension.js,
#   4. packages each target with the pinned @vscode/vsce from a staging directory that holds only
#      the files a VSIX may carry and only that target's binary; the VSIX's README (its marketplace
#      page) is the user page MARKETPLACE.md with its images from media/, not the repository README,
#   5. writes dist/SHA256SUMS (sha256sum format) over every archive and VSIX it built,
#   6. checks every VSIX (scripts/verify-vsix.mjs) and every archive and the sums
#      (scripts/verify-archives.mjs), and prints their sizes and file counts.
# Usage: [VERSION=1.2.3+build] scripts/package.sh [--archives-only] [target ...]   (default: every target)
# VERSION, what `awsflow-sts version` prints, must be package.json's version, optionally with build
# metadata after a "+"; the default is package.json's version and the commit (0.1.0+866f2f9).
# --archives-only skips steps 3 and 4: no extension bundle, no VSIX, no @vscode/vsce needed.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

ALL_TARGETS=(linux-x64 linux-arm64 darwin-x64 darwin-arm64 win32-x64 win32-arm64)
vsix=1
if [ "${1:-}" = "--archives-only" ]; then
  vsix=0
  shift
fi
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("${ALL_TARGETS[@]}")
GO="${GO:-go}"
ext_version="$(node -p 'require("./package.json").version')"
rev="$(git describe --always --dirty --exclude '*' 2>/dev/null || true)"
VERSION="${VERSION:-$ext_version${rev:++$rev}}"
vsce="$root/node_modules/.bin/vsce"

die() { echo "package: $*" >&2; exit 1; }
case "$VERSION" in
  "$ext_version" | "$ext_version+"*) ;;
  *) die "VERSION $VERSION is not package.json's version $ext_version (optionally +build): the binary and the VSIX must agree" ;;
esac
[ -f MARKETPLACE.md ] || die "MARKETPLACE.md (the VSIX's README) is missing"
if [ "$vsix" = 1 ]; then
  [ -x "$vsce" ] || die "@vscode/vsce is not installed; run npm ci"
  [ "$("$vsce" --version)" = "3.9.2" ] || die "@vscode/vsce 3.9.2 expected, found $("$vsce" --version)"
fi
for tool in tar gzip zip sha256sum; do
  command -v "$tool" >/dev/null || die "$tool is not installed (the standalone archives need it)"
done

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

stage_root="$(mktemp -d)"
trap 'rm -rf "$stage_root"' EXIT
mkdir -p dist

# Standalone archives: the binary alone, at the archive's root, with LICENSE and README.md. Entries
# get the last commit's time and root ownership, in a fixed order; gzip stores no name or time.
archive_version="$ext_version"
epoch="$(git log -1 --format=%ct 2>/dev/null || echo 0)"
archives=()
for t in "${targets[@]}"; do
  read -r goos goarch < <(goos_goarch "$t")
  bin="$(binary_name "$t")"
  stage="$stage_root/archive-$t"
  mkdir -p "$stage"
  cp "bin/$t/$bin" "$stage/$bin"
  chmod 0755 "$stage/$bin"
  files=("$bin")
  for f in LICENSE README.md; do
    if [ -f "$f" ]; then
      cp "$f" "$stage/$f"
      chmod 0644 "$stage/$f"
      files+=("$f")
    fi
  done
  touch -d "@$epoch" "${files[@]/#/$stage/}"
  name="awsflow-sts-$archive_version-$goos-$goarch"
  if [ "$goos" = windows ]; then
    archive="dist/$name.zip"
    rm -f "$archive"
    (cd "$stage" && zip -q -X -9 "$root/$archive" "${files[@]}")
  else
    archive="dist/$name.tar.gz"
    tar -C "$stage" --format=ustar --owner=0 --group=0 --numeric-owner --mtime="@$epoch" \
      -cf - "${files[@]}" | gzip -n -9 >"$archive"
  fi
  echo "package: $archive"
  archives+=("$archive")
done

vsixes=()
if [ "$vsix" = 1 ]; then
  echo "package: bundling the extension"
  npm run --silent build
  for t in "${targets[@]}"; do
    stage="$stage_root/$t"
    bin="$(binary_name "$t")"
    mkdir -p "$stage/out" "$stage/media" "$stage/bin/$t"
    cp package.json CHANGELOG.md LICENSE .vscodeignore "$stage/"
    # The marketplace page is the user page; the repository README stays for engineers.
    cp MARKETPLACE.md "$stage/README.md"
    cp media/*.png "$stage/media/"
    cp out/extension.js "$stage/out/"
    cp "bin/$t/$bin" "$stage/bin/$t/$bin"
    chmod 0755 "$stage/bin/$t/$bin"
    vsix_file="dist/awsflow-sts-$t-$ext_version.vsix"
    rm -f "$vsix_file"
    echo "package: $vsix_file"
    # The page's images are packaged (media/*.png) and its links stay relative, so VS Code shows
    # them from the installed extension, offline, instead of from the repository.
    (cd "$stage" && "$vsce" package --target "$t" --out "$root/$vsix_file" --no-dependencies \
      --no-rewrite-relative-links) >"$stage_root/$t.log" 2>&1 \
      || { cat "$stage_root/$t.log" >&2; die "vsce failed for $t"; }
    vsixes+=("$vsix_file")
  done
fi

# `sha256sum -c SHA256SUMS` in dist/ (or in a download folder holding some of the files, with
# --ignore-missing) checks them.
(cd dist && sha256sum -- "${archives[@]#dist/}" "${vsixes[@]#dist/}") >dist/SHA256SUMS.tmp
mv dist/SHA256SUMS.tmp dist/SHA256SUMS
echo "package: dist/SHA256SUMS"

if [ "$vsix" = 1 ]; then
  node scripts/verify-vsix.mjs "${vsixes[@]}"
fi
node scripts/verify-archives.mjs --sums dist/SHA256SUMS "${archives[@]}"
