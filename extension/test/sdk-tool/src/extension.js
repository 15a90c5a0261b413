// Test only: the baseline tool of the host benchmark, and the benchmark itself. Never part of the
// awsflow-sts VSIX. scripts/bench-host.sh bundles this file with @aws-sdk/client-sts (esbuild) into a
// scratch directory, packs it with @vscode/vsce and installs it next to the awsflow-sts VSIX.
//
// The tool, awsflowE2ESdkTool: GetCallerIdentity in-process with @aws-sdk/client-sts, one STSClient
// for the host's lifetime (as the sidecar keeps its clients), against awsflowSts.endpointUrl and
// awsflowSts.region with awsflowSts.maxAttempts (the settings STSTool uses), and the default
// credential chain (the local STS demo user's keys in the environment, which the sidecar reads too).
//
// The benchmark (only when E2E_BENCH_HOST_DIR is set): e2e/bench-host.mjs writes plan.json there and
// opens the workbench, which starts a fresh extension host; this extension activates on
// onStartupFinished, waits plan.settleMs for the host to go quiet, runs the plan's round and writes
// result-<round>.json:
//   mode "steady": awsflow-sts must not be active yet; times `await ext.activate()` alone, then checks
//     that no sidecar started (no `awsflow-sts serve` child of this host right away and a second later,
//     and no sidecar line in awsflow-sts's output channel); then plan.warmup interleaved pairs, then
//     plan.pairs measured pairs: one vscode.lm.invokeTool("STSTool", GetCallerIdentity), then one
//     vscode.lm.invokeTool("awsflowE2ESdkTool", GetCallerIdentity), each timed on its own; then
//     plan.noop calls of awsflowE2ESdkTool's Noop (no AWS call: what invokeTool itself costs here).
//   mode "first": awsflow-sts must not be active and no sidecar running; times `await ext.activate()`
//     and the first answered STSTool GetCallerIdentity after it (the sidecar's lazy start included).
"use strict";
const vscode = require("vscode");
const fs = require("node:fs");
const path = require("node:path");
const { execFileSync } = require("node:child_process");
const { performance } = require("node:perf_hooks");
const { STSClient, GetCallerIdentityCommand } = require("@aws-sdk/client-sts");
// Bundled by esbuild with the rest (scripts/bench-host.sh).
const { readOutputLog } = require("../../../../e2e/lib/output-log.cjs");

const TOOL = "awsflowE2ESdkTool";
const EXT_ID = "awsflow.awsflow-sts";
const STS_TOOL = "STSTool";

let client;
function stsClient() {
  if (!client) {
    const c = vscode.workspace.getConfiguration("awsflowSts");
    const endpoint = c.get("endpointUrl") || undefined;
    const region = c.get("region") || process.env.AWS_REGION || "us-east-1";
    client = new STSClient({ region, endpoint, maxAttempts: c.get("maxAttempts") || 3 });
  }
  return client;
}

class SdkTool {
  prepareInvocation() {
    return { invocationMessage: "GetCallerIdentity through @aws-sdk/client-sts" };
  }
  async invoke(options, token) {
    const command = options.input && options.input.command;
    // Noop: no AWS call at all; what vscode.lm.invokeTool itself costs in this host.
    if (command === "Noop") return text("noop");
    if (command !== "GetCallerIdentity") {
      return text(`${TOOL} only runs {"command": "GetCallerIdentity"}, not ${JSON.stringify(command)}.`);
    }
    const abort = new AbortController();
    const sub = token ? token.onCancellationRequested(() => abort.abort()) : undefined;
    try {
      const out = await stsClient().send(new GetCallerIdentityCommand({}), { abortSignal: abort.signal });
      return text(`Caller identity\n\nAccount: ${out.Account}\nARN: ${out.Arn}\nUserId: ${out.UserId}`);
    } catch (err) {
      if (token && token.isCancellationRequested) throw new vscode.CancellationError();
      return text(`GetCallerIdentity failed: ${err && err.name}: ${err && err.message}`);
    } finally {
      if (sub) sub.dispose();
    }
  }
}

function text(s) {
  return new vscode.LanguageModelToolResult([new vscode.LanguageModelTextPart(s)]);
}

function activate(context) {
  context.subscriptions.push(vscode.lm.registerTool(TOOL, new SdkTool()));
  context.subscriptions.push({ dispose: () => client && client.destroy() });
  const dir = process.env.E2E_BENCH_HOST_DIR;
  if (dir) void runPlan(context, dir);
}

function deactivate() {}

// ── the benchmark ───────────────────────────────────────────────────────────────────────────────────
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function writeJson(file, value) {
  fs.writeFileSync(`${file}.tmp`, JSON.stringify(value, null, 2));
  fs.renameSync(`${file}.tmp`, file);
}

async function runPlan(context, dir) {
  let plan;
  try {
    plan = JSON.parse(fs.readFileSync(path.join(dir, "plan.json"), "utf8"));
  } catch (err) {
    console.error(`[bench] no plan in ${dir}: ${err.message}`);
    return;
  }
  const started = path.join(dir, `started-${plan.round}.json`);
  // A host started again for a round already taken (a reconnect) leaves it alone.
  if (fs.existsSync(started)) return;
  writeJson(started, { pid: process.pid, at: new Date().toISOString() });
  const result = { round: plan.round, mode: plan.mode, pid: process.pid, vscode: vscode.version, node: process.version };
  try {
    // awsflow-sts is looked at before the settle time too: if something activated it early, it shows.
    result.activeAtStartup = isActive();
    await sleep(plan.settleMs ?? 0);
    if (plan.mode === "steady") await steady(context, plan, result);
    else if (plan.mode === "first") await first(plan, result);
    else throw new Error(`unknown mode ${plan.mode}`);
    result.ok = true;
  } catch (err) {
    result.ok = false;
    result.error = err && err.stack ? err.stack : String(err);
  }
  writeJson(path.join(dir, `result-${plan.round}.json`), result);
}

function isActive() {
  const ext = vscode.extensions.getExtension(EXT_ID);
  return ext ? ext.isActive : null;
}

/** Pids of the sidecars this extension host started (its own children only). */
function sidecarPids() {
  try {
    return execFileSync("pgrep", ["-P", String(process.pid), "-f", "awsflow-sts serve"], { encoding: "utf8" })
      .split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** awsflow-sts's output channel in this host's log folder (the parent of this extension's logUri). */
function outputChannel(context) {
  const root = path.dirname(context.logUri.fsPath);
  return { root, ...readOutputLog([root], { maxDepth: 4, underLogs: false }) };
}

function resultText(r) {
  return r.content.map((p) => (typeof p.value === "string" ? p.value : "")).join("");
}

function invoke(name, token, command = "GetCallerIdentity") {
  return vscode.lm.invokeTool(name, { input: { command }, toolInvocationToken: undefined }, token);
}

async function timedInvoke(name, token, command) {
  const t0 = performance.now();
  const r = await invoke(name, token, command);
  const ms = performance.now() - t0;
  return { ms, text: resultText(r) };
}

function checkAnswer(name, textOut, account) {
  if (!textOut.includes(account)) throw new Error(`${name} did not answer with account ${account}: ${textOut.slice(0, 300)}`);
}

function extension() {
  const ext = vscode.extensions.getExtension(EXT_ID);
  if (!ext) throw new Error(`${EXT_ID} is not installed in this host`);
  return ext;
}

async function steady(context, plan, result) {
  const ext = extension();
  result.activeBefore = ext.isActive;
  if (ext.isActive) throw new Error(`${EXT_ID} was already active before the round: activate_ms cannot be measured here`);
  result.sidecarsBefore = sidecarPids();
  const t0 = performance.now();
  await ext.activate();
  result.activateMs = performance.now() - t0;
  result.sidecarsAfterActivate = sidecarPids();
  await sleep(1000);
  result.sidecarsAfter1s = sidecarPids();
  const log = outputChannel(context);
  result.outputChannelAfterActivate = {
    files: log.files.length,
    sidecarLines: log.text.split("\n").filter((l) => /sidecar (starting|running)|"msg"/.test(l)).slice(0, 5),
  };
  if (result.sidecarsAfterActivate.length || result.sidecarsAfter1s.length || result.outputChannelAfterActivate.sidecarLines.length) {
    throw new Error(`activation started a sidecar: ${JSON.stringify({ pids: result.sidecarsAfter1s, log: result.outputChannelAfterActivate })}`);
  }

  const names = vscode.lm.tools.map((t) => t.name);
  for (const n of [STS_TOOL, TOOL]) if (!names.includes(n)) throw new Error(`${n} is not in vscode.lm.tools (${names.join(", ")})`);

  const cts = new vscode.CancellationTokenSource();
  try {
    const a = await timedInvoke(STS_TOOL, cts.token);
    const b = await timedInvoke(TOOL, cts.token);
    checkAnswer(STS_TOOL, a.text, plan.account);
    checkAnswer(TOOL, b.text, plan.account);
    result.firstAfterActivate = { stsToolMs: a.ms, sdkToolMs: b.ms };
    result.sample = { stsTool: a.text.slice(0, 400), sdkTool: b.text.slice(0, 400) };
    for (let i = 0; i < plan.warmup; i++) {
      await invoke(STS_TOOL, cts.token);
      await invoke(TOOL, cts.token);
    }
    const sts = [];
    const sdk = [];
    for (let i = 0; i < plan.pairs; i++) {
      const x = await timedInvoke(STS_TOOL, cts.token);
      const y = await timedInvoke(TOOL, cts.token);
      // Every answer is checked after its timing, so the checks cost the calls nothing.
      checkAnswer(STS_TOOL, x.text, plan.account);
      checkAnswer(TOOL, y.text, plan.account);
      sts.push(x.ms);
      sdk.push(y.ms);
    }
    result.stsToolMs = sts;
    result.sdkToolMs = sdk;
    result.sidecarsAfterPairs = sidecarPids();
    // After the pairs: the same tool answering at once, without any AWS call (the host's own share).
    const noop = [];
    for (let i = 0; i < (plan.noop ?? 0); i++) {
      const z = await timedInvoke(TOOL, cts.token, "Noop");
      if (z.text !== "noop") throw new Error(`Noop answered ${z.text.slice(0, 200)}`);
      noop.push(z.ms);
    }
    result.noopToolMs = noop;
  } finally {
    cts.dispose();
  }
}

async function first(plan, result) {
  const ext = extension();
  result.activeBefore = ext.isActive;
  result.sidecarsBefore = sidecarPids();
  if (ext.isActive) throw new Error(`${EXT_ID} was already active before the round`);
  if (result.sidecarsBefore.length) throw new Error(`a sidecar is already running: ${result.sidecarsBefore}`);
  const cts = new vscode.CancellationTokenSource();
  try {
    const t0 = performance.now();
    await ext.activate();
    const t1 = performance.now();
    const r = await invoke(STS_TOOL, cts.token);
    const t2 = performance.now();
    result.activateMs = t1 - t0;
    result.firstInvokeMs = t2 - t1;
    result.firstCallMs = t2 - t0;
    const out = resultText(r);
    checkAnswer(STS_TOOL, out, plan.account);
    // The same call again, warm: how much of the first call was the sidecar's start.
    const again = await timedInvoke(STS_TOOL, cts.token);
    result.secondInvokeMs = again.ms;
    result.sidecarsAfter = sidecarPids();
  } finally {
    cts.dispose();
  }
}

module.exports = { activate, deactivate };
