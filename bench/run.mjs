// `make bench`: the sidecar's figures measured through the extension's own SidecarClient, against
// the embedded local STS, beside their baselines from the same run (aws-sdk-go-v2, the Node SDK,
// the AWS CLI). Prints a table and writes dist/bench.json; docs/BENCHMARKS.md says what each figure
// means. Tests never assert times: a missed target is reported, not failed.
//
//   node bench/run.mjs [--out dist/bench.json] [--quick] [--no-go-bench] [--only a,b,...]
//
// Sections (for --only): cold, first, rss, overhead, throughput, e2e, awscli, vsix, gobench.
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { startGoSdk } from "./lib/gosdk.mjs";
import {
  clientInfo,
  cpuSeconds,
  extensionSettings,
  repoRoot,
  rssMiB,
  runToExit,
  scratchAws,
  SidecarError,
  sidecarBinary,
  spawnSidecar,
  startLocalSts,
  withTimeout,
} from "./lib/procs.mjs";
import { FIGURES, fmt, goTable, HOST_KEYS, table, targets } from "./lib/report.mjs";
import { elapsedNs, median, now, round, summarize } from "./lib/stats.mjs";

const argv = process.argv.slice(2);
const flag = (name) => argv.includes(name);
const option = (name, def) => {
  const i = argv.indexOf(name);
  return i >= 0 && argv[i + 1] ? argv[i + 1] : def;
};
const quick = flag("--quick");
const only = option("--only", "")
  .split(",")
  .filter(Boolean);
const want = (section) => only.length === 0 || only.includes(section);
const outFile = path.resolve(repoRoot, option("--out", "dist/bench.json"));
const goSdkBinary = path.join(repoRoot, "bench", ".build", "gosdk");

// Sample counts; --quick is for trying the harness, not for figures.
const N = {
  spawns: quick ? 5 : 25,
  spawnWarm: quick ? 1 : 3,
  overheadWarm: quick ? 500 : 3000,
  overhead: quick ? 2000 : 20_000,
  floor: quick ? 1000 : 10_000,
  throughputWarmMs: quick ? 200 : 500,
  throughputMs: quick ? 500 : 2000,
  rssCalls: quick ? 10_000 : 100_000,
  e2eWarm: quick ? 50 : 300,
  e2e: quick ? 300 : 2000,
  pairs: quick ? 300 : 2000,
  awscliWarm: 1,
  awscli: quick ? 3 : 10,
};

const values = Object.fromEntries(FIGURES.map((f) => [f.key, null]));
const errors = {};
const notes = {};
const baselines = {};
const details = {};
const us = (ns) => ns / 1e3;
const ms = (ns) => ns / 1e6;

function progress(msg) {
  process.stderr.write(`bench: ${msg}\n`);
}

/** A sidecar, initialized with the extension's default settings, for a section to use. */
async function started(env, info) {
  const sc = spawnSidecar(env);
  await withTimeout(sc.client.initialize(clientInfo, extensionSettings(info)), 10_000, "initialize");
  return sc;
}

/** Times fn n times, sequentially, after warm untimed calls; returns nanosecond samples. */
async function timed(n, warm, fn) {
  for (let i = 0; i < warm; i++) await fn();
  const samples = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const t0 = now();
    await fn();
    samples[i] = elapsedNs(t0);
  }
  return samples;
}

/**
 * Calls in flight at once: `concurrency` loops, each sending its next call when its last is
 * answered, until `ms` have passed (or `calls` calls were sent). Counts answers and errors by kind.
 */
async function pipelined(fn, concurrency, { ms: budgetMs, calls }) {
  let sent = 0;
  let done = 0;
  let failed = 0;
  const kinds = {};
  const t0 = now();
  const deadline = budgetMs ? t0 + BigInt(Math.round(budgetMs * 1e6)) : undefined;
  const more = () => (calls !== undefined ? sent < calls : now() < deadline);
  const loop = async () => {
    while (more()) {
      sent++;
      try {
        await fn();
        done++;
      } catch (err) {
        failed++;
        const kind = err instanceof SidecarError ? `${err.code} ${err.kind}` : String(err);
        kinds[kind] = (kinds[kind] ?? 0) + 1;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, loop));
  const seconds = elapsedNs(t0) / 1e9;
  return { calls_per_s: done / seconds, done, failed, errors: kinds, seconds };
}

function machine() {
  const cpus = os.cpus();
  let goVersion = null;
  try {
    goVersion = execFileSync(process.env.GO || "go", ["version"], { encoding: "utf8" }).trim();
  } catch {
    // reported as null
  }
  let sidecarVersion = null;
  try {
    sidecarVersion = execFileSync(sidecarBinary, ["version"], { encoding: "utf8" }).trim();
  } catch {
    // reported as null
  }
  const pkg = (name) => {
    try {
      return JSON.parse(fs.readFileSync(path.join(repoRoot, "node_modules", name, "package.json"), "utf8")).version;
    } catch {
      return null;
    }
  };
  const goMod = fs.readFileSync(path.join(repoRoot, "go.mod"), "utf8");
  const goStsVersion = /github\.com\/aws\/aws-sdk-go-v2\/service\/sts (\S+)/.exec(goMod)?.[1] ?? null;
  return {
    machine: {
      cpu: cpus[0]?.model ?? "unknown",
      cores: os.availableParallelism?.() ?? cpus.length,
      kernel: `${os.type()} ${os.release()}`,
      arch: process.arch,
      memory_gib: round(os.totalmem() / 2 ** 30),
    },
    versions: {
      node: process.version,
      go: goVersion,
      sidecar: sidecarVersion,
      "vscode-jsonrpc": pkg("vscode-jsonrpc"),
      "@aws-sdk/client-sts": pkg("@aws-sdk/client-sts"),
      "aws-sdk-go-v2/service/sts": goStsVersion,
      awscli: null,
    },
  };
}

// ---- sections ------------------------------------------------------------------------------

/**
 * Spawn figures, the three kinds interleaved so they see the same machine state: `awsflow-sts
 * version` spawned to its exit (the floor: what spawning this binary costs at all), spawn →
 * initialize answered (cold start), and spawn → initialize → GetCallerIdentity answered (first call).
 */
async function spawns(env, info, { cold, first }) {
  progress(`spawns: ${N.spawns} each of \`awsflow-sts version\`, serve → initialize${first ? " and serve → GetCallerIdentity" : ""}`);
  const floor = [];
  const coldNs = [];
  const firstNs = [];
  const initNs = [];
  for (let i = 0; i < N.spawnWarm + N.spawns; i++) {
    const measured = i >= N.spawnWarm;
    if (cold) {
      const r = await runToExit(sidecarBinary, ["version"], env);
      if (measured) floor.push(r.ns);
      const sc = spawnSidecar(env);
      await withTimeout(sc.client.initialize(clientInfo, extensionSettings(info)), 10_000, "initialize");
      if (measured) coldNs.push(elapsedNs(sc.t0));
      await sc.stop();
    }
    if (first) {
      const sc = spawnSidecar(env);
      await withTimeout(sc.client.initialize(clientInfo, extensionSettings(info)), 10_000, "initialize");
      const init = elapsedNs(sc.t0);
      await withTimeout(sc.client.invoke("GetCallerIdentity"), 10_000, "GetCallerIdentity");
      if (measured) {
        firstNs.push(elapsedNs(sc.t0));
        initNs.push(init);
      }
      await sc.stop();
    }
  }
  if (cold) {
    const s = summarize(coldNs.map(ms));
    const f = summarize(floor.map(ms));
    values.cold_start_ms_p50 = s.p50;
    baselines.cold_start_ms_p50 = `spawn→exit of \`awsflow-sts version\`: ${fmt(f.p50, "ms")}`;
    details.cold_start_ms = s;
    details.spawn_version_exit_ms = f;
  }
  if (first) {
    const s = summarize(firstNs.map(ms));
    values.first_call_ms_p50 = s.p50;
    details.first_call_ms = s;
    details.first_call_initialize_part_ms = summarize(initNs.map(ms));
    details.first_call_after_initialize_ms = summarize(firstNs.map((v, i) => ms(v - initNs[i])));
    baselines.first_call_ms_p50 = `initialize ${fmt(details.first_call_initialize_part_ms.p50, "ms")} + first GetCallerIdentity ${fmt(details.first_call_after_initialize_ms.p50, "ms")}`;
  }
}

async function rss(env, info) {
  progress(`memory: VmRSS after start and after ${N.rssCalls.toLocaleString("en-US")} ListSessions calls`);
  const sc = await started(env, info);
  try {
    await sleep(500);
    values.rss_mb_idle = rssMiB(sc.pid);
    const r = await pipelined(() => sc.client.invoke("ListSessions"), 64, { calls: N.rssCalls });
    await sleep(500);
    values.rss_mb_after_100k = rssMiB(sc.pid);
    details.rss_calls = { calls: r.done, failed: r.failed, errors: r.errors };
    if (values.rss_mb_idle === null) notes.rss_mb_idle = notes.rss_mb_after_100k = "no /proc on this machine";
    else baselines.rss_mb_after_100k = `growth ${fmt(values.rss_mb_after_100k - values.rss_mb_idle, "MiB")}`;
  } finally {
    await sc.stop();
  }
}

async function overhead(sc) {
  progress(`overhead: ${N.overhead.toLocaleString("en-US")} tool/invoke ListSessions round trips, and the floors`);
  const cpu0 = cpuSeconds(sc.pid);
  const node0 = process.cpuUsage();
  const invoke = await timed(N.overhead, N.overheadWarm, () => sc.client.invoke("ListSessions"));
  const nodeCpu = process.cpuUsage(node0);
  const calls = N.overhead + N.overheadWarm;
  details.overhead_cpu_us_per_call = {
    sidecar: cpu0 === null ? null : round(((cpuSeconds(sc.pid) - cpu0) * 1e6) / calls),
    node: round((nodeCpu.user + nodeCpu.system) / calls),
  };
  // The same round trip without the tool layer (sessions/list), and without any handler at all (an
  // unknown method, answered on the sidecar's read loop): what the transport alone costs.
  const list = await timed(N.floor, N.overheadWarm / 3, () => sc.client.listSessions());
  const unknown = await timed(N.floor, N.overheadWarm / 3, () => sc.client.request("bench/none").catch(() => {}));
  const s = summarize(Array.from(invoke, us));
  values.overhead_us_p50 = s.p50;
  values.overhead_us_p99 = s.p99;
  const l = summarize(Array.from(list, us));
  const u = summarize(Array.from(unknown, us));
  baselines.overhead_us_p50 = `sessions/list ${fmt(l.p50, "µs")}; unknown method ${fmt(u.p50, "µs")}`;
  baselines.overhead_us_p99 = `sessions/list ${fmt(l.p99, "µs")}; unknown method ${fmt(u.p99, "µs")}`;
  details.overhead_us = s;
  details.sessions_list_us = l;
  details.unknown_method_us = u;
}

async function throughput(sc) {
  const rows = {};
  for (const c of [1, 64, 512]) {
    progress(`throughput: ListSessions with ${c} in flight, ${N.throughputMs} ms`);
    const fn = () => sc.client.invoke("ListSessions");
    await pipelined(fn, c, { ms: N.throughputWarmMs });
    const cpu0 = cpuSeconds(sc.pid);
    const node0 = process.cpuUsage();
    const r = await pipelined(fn, c, { ms: N.throughputMs });
    r.sidecar_cpu_us_per_call = cpu0 === null ? null : round(((cpuSeconds(sc.pid) - cpu0) * 1e6) / r.done);
    const nodeCpu = process.cpuUsage(node0);
    r.node_cpu_us_per_call = round((nodeCpu.user + nodeCpu.system) / r.done);
    const key = `calls_per_s_c${c}`;
    values[key] = r.calls_per_s;
    errors[key] = r.failed;
    rows[key] = r;
    if (r.failed > 0) notes[key] = `${r.failed} of ${r.done + r.failed} calls failed: ${JSON.stringify(r.errors)}`;
  }
  baselines.calls_per_s_c64 = `c1 × ${round(values.calls_per_s_c64 / values.calls_per_s_c1)}`;
  baselines.calls_per_s_c512 = `c64 × ${round(values.calls_per_s_c512 / values.calls_per_s_c64)}`;
  details.throughput = rows;
}

async function e2e(sc, info, env) {
  const e2eCall = () => sc.client.invoke("GetCallerIdentity");
  progress(`e2e: ${N.e2e} GetCallerIdentity through the sidecar`);
  const cpu0 = cpuSeconds(sc.pid);
  const alone = await timed(N.e2e, N.e2eWarm, e2eCall);
  details.e2e_sidecar_cpu_us_per_call = cpu0 === null ? null : round(((cpuSeconds(sc.pid) - cpu0) * 1e6) / (N.e2e + N.e2eWarm));
  const s = summarize(Array.from(alone, us));
  values.e2e_us_p50 = s.p50;
  details.e2e_us = s;

  // Pairs: one e2e call, then one SDK call, so both see the same machine state; the ratio of each
  // pair, then their median.
  const interleave = async (name, sdkCall) => {
    const e = new Float64Array(N.pairs);
    const b = new Float64Array(N.pairs);
    const ratios = new Float64Array(N.pairs);
    for (let i = 0; i < N.pairs; i++) {
      const t0 = now();
      await e2eCall();
      e[i] = elapsedNs(t0);
      b[i] = await sdkCall();
      ratios[i] = e[i] / b[i];
    }
    details[`interleaved_${name}`] = {
      pairs: N.pairs,
      e2e_us: summarize(Array.from(e, us)),
      sdk_us: summarize(Array.from(b, us)),
      ratio: summarize(ratios),
    };
    return { sdk: median(Array.from(b, us)), ratio: median(ratios), e2e: median(Array.from(e, us)) };
  };

  if (fs.existsSync(goSdkBinary)) {
    progress(`e2e vs aws-sdk-go-v2: ${N.pairs} interleaved pairs`);
    const go = await startGoSdk(goSdkBinary, info, env);
    try {
      await go.warm(N.e2eWarm);
      const r = await interleave("go_sdk", () => go.call());
      values.go_sdk_us_p50 = r.sdk;
      values.ratio_e2e_vs_go_sdk = r.ratio;
      baselines.ratio_e2e_vs_go_sdk = `e2e ${fmt(r.e2e, "µs")} vs Go SDK ${fmt(r.sdk, "µs")} (pairs' medians)`;
    } finally {
      await go.stop();
    }
  } else {
    notes.go_sdk_us_p50 = notes.ratio_e2e_vs_go_sdk = `${path.relative(repoRoot, goSdkBinary)} is missing; make bench builds it`;
  }

  let sdk;
  try {
    sdk = await import("@aws-sdk/client-sts");
  } catch (err) {
    notes.node_sdk_us_p50 = notes.ratio_e2e_vs_node_sdk = `@aws-sdk/client-sts is not installed (npm ci): ${err.message}`;
  }
  if (sdk) {
    progress(`e2e vs @aws-sdk/client-sts: ${N.pairs} interleaved pairs`);
    const client = new sdk.STSClient({ region: info.region, endpoint: info.endpoint });
    const nodeCall = () => client.send(new sdk.GetCallerIdentityCommand({}));
    try {
      for (let i = 0; i < N.e2eWarm; i++) await nodeCall();
      const r = await interleave("node_sdk", async () => {
        const t0 = now();
        await nodeCall();
        return elapsedNs(t0);
      });
      values.node_sdk_us_p50 = r.sdk;
      values.ratio_e2e_vs_node_sdk = r.ratio;
      baselines.ratio_e2e_vs_node_sdk = `e2e ${fmt(r.e2e, "µs")} vs Node SDK ${fmt(r.sdk, "µs")} (pairs' medians)`;
    } finally {
      client.destroy();
    }
  }
  baselines.e2e_us_p50 = [
    values.go_sdk_us_p50 !== null ? `Go SDK ${fmt(values.go_sdk_us_p50, "µs")}` : null,
    values.node_sdk_us_p50 !== null ? `Node SDK ${fmt(values.node_sdk_us_p50, "µs")}` : null,
  ]
    .filter(Boolean)
    .join("; ");
  baselines.go_sdk_us_p50 = "interleaved with e2e";
  baselines.node_sdk_us_p50 = "interleaved with e2e";
}

async function awscli(info, env, meta) {
  const which = spawnSync("sh", ["-c", "command -v aws"], { env, encoding: "utf8" });
  const aws = which.stdout.trim();
  if (which.status !== 0 || !aws) {
    notes.awscli_ms_p50 = "skipped: the AWS CLI (aws) is not on PATH";
    return;
  }
  meta.versions.awscli = spawnSync(aws, ["--version"], { env, encoding: "utf8" }).stdout.trim() || null;
  progress(`aws cli: ${N.awscli} runs of aws sts get-caller-identity`);
  const args = ["sts", "get-caller-identity", "--endpoint-url", info.endpoint, "--region", info.region, "--output", "json"];
  const samples = [];
  for (let i = 0; i < N.awscliWarm + N.awscli; i++) {
    const r = await runToExit(aws, args, env);
    if (r.code !== 0) {
      notes.awscli_ms_p50 = `aws exited ${r.code}: ${r.err.trim().split("\n").pop()}`;
      return;
    }
    if (i >= N.awscliWarm) samples.push(r.ns);
  }
  const s = summarize(samples.map(ms));
  values.awscli_ms_p50 = s.p50;
  details.awscli_ms = s;
  baselines.awscli_ms_p50 = values.first_call_ms_p50 !== null ? `sidecar first call ${fmt(values.first_call_ms_p50, "ms")}` : "";
}

function vsix() {
  const dist = path.join(repoRoot, "dist");
  const files = fs.existsSync(dist) ? fs.readdirSync(dist).filter((f) => /^awsflow-sts-linux-x64-.*\.vsix$/.test(f)) : [];
  if (files.length === 0) {
    notes.vsix_mb_linux_x64 = "skipped: dist/ has no linux-x64 VSIX; run make package first";
    return;
  }
  const newest = files.map((f) => ({ f, st: fs.statSync(path.join(dist, f)) })).sort((a, b) => b.st.mtimeMs - a.st.mtimeMs)[0];
  values.vsix_mb_linux_x64 = newest.st.size / 2 ** 20;
  details.vsix = { file: `dist/${newest.f}`, bytes: newest.st.size };
}

/** The Go micro-benchmarks of the hot paths, run with a short -benchtime and parsed. */
function goBench() {
  const pkgs = ["./sidecar/internal/rpc", "./sidecar/internal/tool", "./sidecar/internal/redact", "./sidecar/internal/localsts", "./sidecar/internal/server"];
  const benchtime = quick ? "50ms" : process.env.BENCH_GO_BENCHTIME || "300ms";
  progress(`go micro-benchmarks: go test -run '^$' -bench . -benchmem -benchtime ${benchtime} ${pkgs.join(" ")}`);
  const r = spawnSync(process.env.GO || "go", ["test", "-run", "^$", "-bench", ".", "-benchmem", "-benchtime", benchtime, ...pkgs], {
    cwd: repoRoot,
    encoding: "utf8",
    maxBuffer: 16 << 20,
  });
  if (r.status !== 0) {
    throw new Error(`go test -bench failed:\n${r.stdout}\n${r.stderr}`);
  }
  const out = [];
  let pkg = "";
  for (const line of r.stdout.split("\n")) {
    const p = /^pkg: (\S+)/.exec(line);
    if (p) pkg = p[1].replace(/^awsflow-sts\/sidecar\/internal\//, "");
    // "BenchmarkX-2   1000   123 ns/op   456 cpu-ns/op   12.3 MB/s   789 B/op   10 allocs/op"
    const m = /^(Benchmark\S+?)(?:-\d+)?\s+(\d+)\s+(.*)$/.exec(line);
    if (m) {
      const metrics = {};
      for (const [, v, unit] of m[3].matchAll(/([\d.]+) (\S+)/g)) metrics[unit] = Number(v);
      if (metrics["ns/op"] === undefined) continue;
      out.push({
        pkg,
        name: m[1],
        iterations: Number(m[2]),
        ns_per_op: metrics["ns/op"],
        cpu_ns_per_op: metrics["cpu-ns/op"] ?? null,
        bytes_per_op: metrics["B/op"] ?? null,
        allocs_per_op: metrics["allocs/op"] ?? null,
      });
    }
  }
  return { benchtime, results: out, raw: r.stdout };
}

// ---- main ----------------------------------------------------------------------------------

const started_at = new Date();
const wall = now();
if (!fs.existsSync(sidecarBinary)) {
  console.error(`bench: ${sidecarBinary} does not exist; run make build (make bench does)`);
  process.exit(1);
}
const meta = machine();
const sts = await startLocalSts();
const scratch = scratchAws(sts.info);
// The Node SDK runs in this process: point its default chain at the scratch config only.
for (const k of Object.keys(process.env)) if (k.startsWith("AWS_")) delete process.env[k];
Object.assign(process.env, {
  AWS_CONFIG_FILE: scratch.env.AWS_CONFIG_FILE,
  AWS_SHARED_CREDENTIALS_FILE: scratch.env.AWS_SHARED_CREDENTIALS_FILE,
  AWS_EC2_METADATA_DISABLED: "true",
  // The SDK's notice that its 2027 releases will need Node 22; it says nothing about this run.
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
});
const env = scratch.env;
let micro = { results: [], raw: "" };
try {
  if (want("cold") || want("first")) await spawns(env, sts.info, { cold: want("cold"), first: want("first") });
  if (want("rss")) await rss(env, sts.info);
  if (want("overhead") || want("throughput") || want("e2e")) {
    const sc = await started(env, sts.info);
    try {
      if (want("overhead")) await overhead(sc);
      if (want("throughput")) await throughput(sc);
      if (want("e2e")) await e2e(sc, sts.info, env);
    } finally {
      await sc.stop();
    }
  }
  if (want("awscli")) await awscli(sts.info, env, meta);
} finally {
  await sts.stop();
  scratch.remove();
}
if (want("vsix")) vsix();
if (want("gobench") && !flag("--no-go-bench")) micro = goBench();

for (const k of HOST_KEYS) notes[k] = "measured by the VS Code host run (scripts/bench-host.sh), which make bench runs next when the e2e VS Code is installed";

const bench = {
  schema: 1,
  date: started_at.toISOString(),
  ...meta,
  quick,
  ...Object.fromEntries(Object.entries(values).map(([k, v]) => [k, v === null ? null : round(v)])),
  targets: targets(values, errors),
  baselines,
  notes,
  errors,
  // Keys the VS Code host run merges in (bench/merge.mjs: the value, its note, and the run under
  // "host"); make bench writes them null with a note.
  merge: { host_keys: HOST_KEYS, from: "the VS Code host run", with: "bench/merge.mjs" },
  host: null,
  details,
  go_micro: micro.results,
  wall_s: round(elapsedNs(wall) / 1e9),
};

fs.mkdirSync(path.dirname(outFile), { recursive: true });
fs.writeFileSync(outFile, JSON.stringify(bench, null, 2) + "\n");

console.log(`\nawsflow-sts benchmarks, ${bench.date}`);
console.log(`machine: ${meta.machine.cpu}, ${meta.machine.cores} cores, ${meta.machine.kernel}; node ${meta.versions.node}; ${meta.versions.go ?? "go ?"}\n`);
console.log(table(bench));
if (micro.results.length) console.log("\n" + goTable(micro.results));
const missed = FIGURES.filter((f) => bench.targets[f.key].met === false).map((f) => f.key);
const noted = Object.entries(notes).filter(([k]) => values[k] === null && !HOST_KEYS.includes(k));
for (const [k, n] of noted) console.log(`note: ${k}: ${n}`);
console.log(`\ntargets missed: ${missed.length ? missed.join(", ") : "none"}`);
console.log(`wrote ${path.relative(process.cwd(), outFile)} in ${bench.wall_s} s`);
