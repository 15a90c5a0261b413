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
echo "setup: ok"
