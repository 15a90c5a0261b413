// Before/after comparison for a performance change: runs the same short measurements against two
// (or more) variants — a sidecar binary and a bundle of the extension's client each — alternating
// round by round so every variant sees the same machine state, and prints a benchstat-style table
// (median of the rounds' figures, their spread, and the change against the first variant).
//
//   node bench/ab.mjs --variant before=/tmp/sidecar-old:/tmp/client-old.cjs \
//                     --variant after=bin/awsflow-sts:bench/.build/client.cjs [--rounds 6]
//
// Either half of a variant may be empty to use the default (bin/awsflow-sts, bench/.build/client.cjs).
import { createRequire } from "node:module";
import { spawn } from "node:child_process";
import * as path from "node:path";
import * as readline from "node:readline";
import { cpuSeconds, extensionSettings, clientInfo, repoRoot, scratchAws, startLocalSts, withTimeout } from "./lib/procs.mjs";
import { elapsedNs, now, round, summarize } from "./lib/stats.mjs";

const require = createRequire(import.meta.url);
const argv = process.argv.slice(2);
const variants = [];
let rounds = 6;
for (let i = 0; i < argv.length; i++) {
  if (argv[i] === "--variant") {
    const [name, spec] = argv[++i].split("=");
    const [bin, client] = spec.split(":");
    variants.push({
      name,
      bin: path.resolve(bin || path.join(repoRoot, "bin", "awsflow-sts")),
      client: require(path.resolve(client || path.join(repoRoot, "bench", ".build", "client.cjs"))),
    });
  } else if (argv[i] === "--rounds") {
    rounds = Number(argv[++i]);
  }
}
if (variants.length < 2) {
  console.error("usage: node bench/ab.mjs --variant NAME=BIN:CLIENT --variant NAME=BIN:CLIENT [--rounds N]");
  process.exit(2);
}

function spawnWith(v, env) {
  const proc = spawn(v.bin, ["serve", "--log-level", "info"], { env, stdio: ["pipe", "pipe", "pipe"] });
  readline.createInterface({ input: proc.stderr, crlfDelay: Infinity }).on("line", () => {});
  const client = v.client.SidecarClient.connect(proc.stdout, proc.stdin);
  const exited = new Promise((resolve) => proc.once("close", resolve));
  return { proc, client, exited };
}

async function measure(v, env, info) {
  const t0 = now();
  const sc = spawnWith(v, env);
  await withTimeout(sc.client.initialize(clientInfo, extensionSettings(info)), 10_000, "initialize");
  const cold = elapsedNs(t0) / 1e6;
  const out = { cold_ms: cold };
  const seq = async (n, fn) => {
    const s = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const t = now();
      await fn();
      s[i] = elapsedNs(t) / 1e3;
    }
    return summarize(s);
  };
  const list = () => sc.client.invoke("ListSessions");
  await seq(1000, list);
  const cpu0 = cpuSeconds(sc.proc.pid);
  const node0 = process.cpuUsage();
  const o = await seq(4000, list);
  const nodeCpu = process.cpuUsage(node0);
  out.overhead_us_p50 = o.p50;
  out.overhead_us_p99 = o.p99;
  out.sidecar_cpu_us_per_call = ((cpuSeconds(sc.proc.pid) - cpu0) * 1e6) / 4000;
  out.node_cpu_us_per_call = (nodeCpu.user + nodeCpu.system) / 4000;
  for (const c of [64]) {
    let done = 0;
    const t = now();
    const deadline = t + 1_500_000_000n;
    await Promise.all(
      Array.from({ length: c }, async () => {
        while (now() < deadline) {
          await list();
          done++;
        }
      }),
    );
    out[`calls_per_s_c${c}`] = done / (elapsedNs(t) / 1e9);
  }
  const gci = () => sc.client.invoke("GetCallerIdentity");
  await seq(100, gci);
  out.e2e_us_p50 = (await seq(600, gci)).p50;
  await sc.client.shutdown().catch(() => {});
  sc.client.dispose();
  await sc.exited;
  return out;
}

const sts = await startLocalSts();
const scratch = scratchAws(sts.info);
const results = variants.map(() => []);
try {
  for (let r = 0; r < rounds; r++) {
    // Alternate the order too, so neither variant always runs first.
    const order = r % 2 === 0 ? variants.map((_, i) => i) : variants.map((_, i) => variants.length - 1 - i);
    for (const i of order) {
      results[i].push(await measure(variants[i], scratch.env, sts.info));
      process.stderr.write(".");
    }
  }
} finally {
  process.stderr.write("\n");
  await sts.stop();
  scratch.remove();
}

const metrics = Object.keys(results[0][0]);
const rows = [["metric", ...variants.map((v) => v.name), ...variants.slice(1).map((v) => `Δ ${v.name}`)]];
for (const m of metrics) {
  const stats = results.map((rs) => summarize(rs.map((x) => x[m])));
  const cells = stats.map((s) => `${round(s.p50)} ±${round(((s.max - s.min) / 2 / s.p50) * 100)}%`);
  const deltas = stats.slice(1).map((s) => `${s.p50 >= stats[0].p50 ? "+" : ""}${round(((s.p50 - stats[0].p50) / stats[0].p50) * 100)}%`);
  rows.push([m, ...cells, ...deltas]);
}
const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
for (const r of rows) console.log(r.map((c, i) => c.padEnd(widths[i])).join("  "));
console.log(`(${rounds} rounds each, alternating; median of the rounds, ± half the range as % of the median)`);
