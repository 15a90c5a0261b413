// Merges figures measured elsewhere (the VS Code host run) into dist/bench.json, which `make bench`
// writes with those keys null:
//
//   node bench/merge.mjs host.json [dist/bench.json]
//
// host.json: {"figures": {"host_invoke_ms_p50": 12.3, ...}, "notes": {"activate_ms": "…"},
//             "run": {"date": "…", "vscode": "1.100.3", ...}}
// Only the keys listed in bench.json's merge.host_keys are taken. Each one's note is replaced
// (by the given note, or none), and the run is recorded under "host".
import * as fs from "node:fs";
import * as path from "node:path";
import { repoRoot } from "./lib/procs.mjs";
import { round } from "./lib/stats.mjs";
import { FIGURES, table, targets } from "./lib/report.mjs";

const [hostFile, benchFile = path.join(repoRoot, "dist", "bench.json")] = process.argv.slice(2);
if (!hostFile) {
  console.error("usage: node bench/merge.mjs host.json [dist/bench.json]");
  process.exit(2);
}
const bench = JSON.parse(fs.readFileSync(benchFile, "utf8"));
const host = JSON.parse(fs.readFileSync(hostFile, "utf8"));
const allowed = new Set(bench.merge?.host_keys ?? []);
const merged = [];
for (const [key, value] of Object.entries(host.figures ?? {})) {
  if (!allowed.has(key)) {
    console.error(`merge: ${key} is not a host figure (${[...allowed].join(", ")})`);
    process.exit(1);
  }
  if (value !== null && typeof value !== "number") {
    console.error(`merge: ${key} must be a number or null`);
    process.exit(1);
  }
  bench[key] = value === null ? null : round(value);
  if (host.notes?.[key]) bench.notes[key] = host.notes[key];
  else delete bench.notes[key];
  merged.push(key);
}
bench.host = { ...(host.run ?? {}), merged };
bench.targets = targets(bench, bench.errors ?? {});
fs.writeFileSync(benchFile, JSON.stringify(bench, null, 2) + "\n");
console.log(`merged ${merged.join(", ") || "nothing"} into ${path.relative(process.cwd(), benchFile)}\n`);
console.log(table(bench));
const missed = FIGURES.filter((f) => bench.targets[f.key].met === false).map((f) => f.key);
console.log(`\ntargets missed: ${missed.length ? missed.join(", ") : "none"}`);
