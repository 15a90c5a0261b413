// `make bench` (and alone): sessions at scale. N AssumeRoles pipelined against the embedded local
// STS, each stored as its own session, then what holding them costs: the sessions/changed bytes
// the client received (linear in N when each notification carries only its change), the
// characters ListSessions puts into the model's context, and GetCallerIdentity latency with N and
// with TOTAL sessions held. Every --variant (a sidecar binary) runs the same steps in this run,
// so a baseline binary (the previous commit's) is measured beside the current one.
//
//   node bench/scale.mjs [--n 2000] [--total 10000] [--variant name=path/to/awsflow-sts ...]
//                        [--out dist/bench-scale.json]
//
// A variant whose N calls take longer than --budget seconds (default 120) stops there and skips
// the larger step, reported as not measured rather than waited for.
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import * as readline from "node:readline";
import { clientInfo, extensionSettings, repoRoot, scratchAws, SidecarClient, sidecarBinary, startLocalSts, withTimeout } from "./lib/procs.mjs";
import { elapsedNs, median, now, round } from "./lib/stats.mjs";

const argv = process.argv.slice(2);
const option = (name, def) => {
  const i = argv.indexOf(name);
  return i >= 0 && argv[i + 1] ? argv[i + 1] : def;
};
const n = Number(option("--n", "2000"));
const total = Number(option("--total", "10000"));
const budgetS = Number(option("--budget", "120"));
const outFile = path.resolve(repoRoot, option("--out", "dist/bench-scale.json"));
const variants = [];
for (let i = 0; i < argv.length; i++) {
  if (argv[i] === "--variant") {
    const [name, bin] = argv[++i].split("=");
    variants.push({ name, bin: path.resolve(bin) });
  }
}
if (variants.length === 0) variants.push({ name: "current", bin: sidecarBinary });

const CONCURRENCY = 8;
const LATENCY_SAMPLES = 300;

function progress(msg) {
  process.stderr.write(`bench scale: ${msg}\n`);
}

function spawnVariant(bin, env, counter) {
  const proc = spawn(bin, ["serve", "--log-level", "warn"], { env, stdio: ["pipe", "pipe", "pipe"] });
  proc.on("error", () => {});
  readline.createInterface({ input: proc.stderr, crlfDelay: Infinity }).on("line", () => {});
  const client = SidecarClient.connect(proc.stdout, proc.stdin, {
    onNotification: (method, params) => {
      if (method !== "sessions/changed") return;
      counter.notifications++;
      counter.bytes += Buffer.byteLength(JSON.stringify(params));
    },
  });
  const exited = new Promise((resolve) => proc.once("close", resolve));
  return {
    client,
    async stop() {
      try {
        await withTimeout(client.shutdown(), 10_000, "shutdown");
      } catch {
        proc.kill("SIGKILL");
      }
      client.dispose();
      await withTimeout(exited, 10_000, "exit").catch(() => proc.kill("SIGKILL"));
    },
  };
}

/** Makes sessions from..to-1, CONCURRENCY calls in flight; stops early past the budget. */
async function mint(client, role, from, to, deadline) {
  let next = from;
  let failed = 0;
  const loop = async () => {
    while (next < to && now() < deadline) {
      const i = next++;
      try {
        await client.invoke("AssumeRole", { RoleArn: role, RoleSessionName: `scale-${i}`, SessionName: `scale-${String(i).padStart(5, "0")}` });
      } catch {
        failed++;
      }
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, loop));
  return { made: next - from, failed };
}

async function callerLatencyMs(client) {
  for (let i = 0; i < 30; i++) await client.invoke("GetCallerIdentity", {});
  const samples = [];
  for (let i = 0; i < LATENCY_SAMPLES; i++) {
    const t0 = now();
    await client.invoke("GetCallerIdentity", {});
    samples.push(elapsedNs(t0) / 1e6);
  }
  return round(median(samples));
}

async function listChars(client) {
  const r = await client.invoke("ListSessions", {});
  return r.text.length + JSON.stringify(r.data).length;
}

async function measure(v, sts) {
  const aws = scratchAws(sts.info);
  const counter = { notifications: 0, bytes: 0 };
  const sc = spawnVariant(v.bin, aws.env, counter);
  const out = { variant: v.name, n, total };
  try {
    await withTimeout(sc.client.initialize(clientInfo, extensionSettings(sts.info)), 10_000, "initialize");
    const role = sts.info.roleArn;
    const t0 = now();
    const first = await mint(sc.client, role, 0, n, t0 + BigInt(budgetS * 1e9));
    const seconds = elapsedNs(t0) / 1e9;
    Object.assign(out, {
      made: first.made,
      failed: first.failed,
      seconds: round(seconds),
      calls_per_s: round(first.made / seconds),
      notifications: counter.notifications,
      notification_bytes: counter.bytes,
      bytes_per_session: round(counter.bytes / Math.max(1, first.made)),
    });
    if (first.made < n) {
      out.note = `stopped after ${first.made} of ${n} calls at the ${budgetS} s budget`;
      return out;
    }
    out.list_chars_at_n = await listChars(sc.client);
    out.caller_ms_at_n = await callerLatencyMs(sc.client);
    const t1 = now();
    const rest = await mint(sc.client, role, n, total, t1 + BigInt(budgetS * 1e9));
    if (n + rest.made < total) {
      out.note = `the step to ${total} stopped after ${n + rest.made} sessions at the ${budgetS} s budget`;
      return out;
    }
    out.seconds_to_total = round(elapsedNs(t1) / 1e9);
    out.notification_bytes_at_total = counter.bytes;
    out.list_chars_at_total = await listChars(sc.client);
    out.caller_ms_at_total = await callerLatencyMs(sc.client);
    return out;
  } finally {
    await sc.stop();
    aws.remove();
  }
}

const sts = await startLocalSts();
const results = [];
try {
  for (const v of variants) {
    progress(`${v.name}: ${n} AssumeRoles, then up to ${total} sessions (${v.bin})`);
    results.push(await measure(v, sts));
  }
} finally {
  await sts.stop();
}

const rows = [
  ["AssumeRoles pipelined (8 in flight)", (r) => `${r.made}/${n}`],
  ["total time, s", (r) => r.seconds],
  ["sessions/changed notifications", (r) => r.notifications],
  ["notification bytes", (r) => r.notification_bytes],
  ["notification bytes per session", (r) => r.bytes_per_session],
  [`ListSessions characters, ${n} sessions`, (r) => r.list_chars_at_n],
  [`GetCallerIdentity median ms, ${n} sessions`, (r) => r.caller_ms_at_n],
  [`time to ${total} sessions, s`, (r) => r.seconds_to_total],
  [`notification bytes at ${total}`, (r) => r.notification_bytes_at_total],
  [`ListSessions characters, ${total} sessions`, (r) => r.list_chars_at_total],
  [`GetCallerIdentity median ms, ${total} sessions`, (r) => r.caller_ms_at_total],
];
const width = Math.max(...rows.map(([label]) => label.length));
console.log(`\nSessions at scale (${n} then ${total} sessions; local STS)\n`);
console.log(`${"".padEnd(width)}  ${results.map((r) => r.variant.padStart(14)).join("")}`);
for (const [label, get] of rows) {
  console.log(`${label.padEnd(width)}  ${results.map((r) => String(get(r) ?? "—").padStart(14)).join("")}`);
}
if (results.length > 1) {
  const [base, cur] = [results[0], results[results.length - 1]];
  const ratio = (a, b) => (a && b ? `${round(a / b)}×` : "—");
  console.log(`\n${cur.variant} vs ${base.variant}: time ${ratio(base.seconds, cur.seconds)} less, notification bytes ${ratio(base.notification_bytes, cur.notification_bytes)} fewer, ListSessions ${ratio(base.list_chars_at_n, cur.list_chars_at_n)} shorter`);
}
for (const r of results) if (r.note) console.log(`${r.variant}: ${r.note}`);
fs.mkdirSync(path.dirname(outFile), { recursive: true });
fs.writeFileSync(outFile, JSON.stringify({ n, total, results }, null, 2) + "\n");
