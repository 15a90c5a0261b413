#!/usr/bin/env bash
# Installs what `make test` needs on a fresh machine. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

need() { command -v "$1" >/dev/null 2>&1; }

if ! need go; then
  if [ -x /usr/local/go/bin/go ]; then export PATH="/usr/local/go/bin:$PATH"; else
    echo "setup: Go is required (https://go.dev/dl); install Go 1.26 or newer" >&2; exit 1; fi
fi
go mod download

if ! need node || ! need npm; then
  echo "setup: Node.js 20 or newer and npm are required for the extension" >&2; exit 1
fi
node -e 'if (+process.versions.node.split(".")[0] < 20) { console.error("setup: Node.js " + process.versions.node + " is too old; 20 or newer is needed"); process.exit(1) }'

# moto (a real STS peer) and the AWS CLI are used by integration tests; they skip with a
# message where these are missing.
py=python3
if need $py && ! $py -c 'import moto.server' 2>/dev/null; then
  echo "setup: moto is not installed for $py; moto integration tests will skip" >&2
fi
if ! need aws; then
  echo "setup: the AWS CLI is not on PATH; CLI tests will skip" >&2
fi
# Debian packages some tests use (they skip with a message where missing): zsh and fish for the
# terminal export tests; gnome-keyring, dbus and libsecret-tools for the test of `call` keeping
# sessions in a real Secret Service. Installed once, quietly, when running as root where apt-get exists.
debs=()
need zsh || debs+=(zsh)
need fish || debs+=(fish)
need gnome-keyring-daemon || debs+=(gnome-keyring)
{ need dbus-daemon && need dbus-send; } || debs+=(dbus)
need secret-tool || debs+=(libsecret-tools)
if [ ${#debs[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && need apt-get; then
    echo "setup: installing ${debs[*]}"
    # apt-get's chatter is shown only when it fails.
    if ! out=$( { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
      --no-install-recommends "${debs[@]}"; } 2>&1 ); then
      echo "$out" >&2; echo "setup: apt-get could not install ${debs[*]}" >&2; exit 1
    fi
  else
    echo "setup: ${debs[*]} not installed (needs root and apt-get); their tests will skip" >&2
  fi
fi
echo "setup: ok"
