// What bench.json holds and how the table prints it: every figure, its target, whether it is met,
// and what it is compared with in the same run.
import { round } from "./stats.mjs";

/** Figures the VS Code host run (scripts/bench-host.sh) measures and merges into dist/bench.json. */
export const HOST_KEYS = ["activate_ms", "host_invoke_ms_p50", "host_sdk_tool_ms_p50", "host_first_call_ms", "ratio_host_invoke_vs_sdk_tool"];

/** Every figure of bench.json, in table order, with its unit and (where there is one) its target. */
export const FIGURES = [
  { key: "cold_start_ms_p50", unit: "ms", target: { op: "<=", limit: 15 }, what: "spawn → initialize answered (median of spawns)" },
  { key: "first_call_ms_p50", unit: "ms", target: { op: "<=", limit: 40 }, what: "spawn → first GetCallerIdentity answered" },
  { key: "overhead_us_p50", unit: "µs", target: { op: "<=", limit: 80 }, what: "tool/invoke ListSessions round trip, SidecarClient" },
  { key: "overhead_us_p99", unit: "µs", target: { op: "<=", limit: 1000 }, what: "the same, 99th percentile" },
  { key: "e2e_us_p50", unit: "µs", what: "GetCallerIdentity: SidecarClient → sidecar → local STS" },
  { key: "go_sdk_us_p50", unit: "µs", what: "GetCallerIdentity: aws-sdk-go-v2 in-process" },
  { key: "node_sdk_us_p50", unit: "µs", what: "GetCallerIdentity: @aws-sdk/client-sts in-process" },
  { key: "awscli_ms_p50", unit: "ms", what: "aws sts get-caller-identity, whole process" },
  { key: "ratio_e2e_vs_go_sdk", unit: "×", target: { op: "<=", limit: 1.3 }, what: "median of pairwise e2e/Go SDK ratios, interleaved" },
  { key: "ratio_e2e_vs_node_sdk", unit: "×", target: { op: "<=", limit: 0.8 }, what: "median of pairwise e2e/Node SDK ratios, interleaved" },
  { key: "calls_per_s_c1", unit: "calls/s", target: { op: "errors", limit: 0 }, what: "ListSessions, 1 in flight" },
  { key: "calls_per_s_c64", unit: "calls/s", target: { op: ">=", limit: 20000 }, what: "ListSessions, 64 in flight (no errors)" },
  { key: "calls_per_s_c512", unit: "calls/s", target: { op: "errors", limit: 0 }, what: "ListSessions, 512 in flight" },
  { key: "rss_mb_idle", unit: "MiB", target: { op: "<=", limit: 20 }, what: "sidecar VmRSS after start" },
  { key: "rss_mb_after_100k", unit: "MiB", target: { op: "growth<=", limit: 5 }, what: "sidecar VmRSS after 100k calls" },
  { key: "vsix_mb_linux_x64", unit: "MiB", what: "linux-x64 VSIX from make package" },
  { key: "activate_ms", unit: "ms", what: "extension activation, in the VS Code host" },
  { key: "host_invoke_ms_p50", unit: "ms", what: "STSTool invoke in the VS Code host" },
  { key: "host_sdk_tool_ms_p50", unit: "ms", what: "an SDK-based tool in the VS Code host" },
  { key: "host_first_call_ms", unit: "ms", target: { op: "<=", limit: 150 }, what: "activation → first answered STSTool call in the VS Code host" },
  { key: "ratio_host_invoke_vs_sdk_tool", unit: "×", target: { op: "<=", limit: 1 }, what: "median of pairwise host invoke / SDK tool ratios" },
];

function targetText(t, unit) {
  if (!t) return "";
  switch (t.op) {
    case "<=":
      return `≤ ${t.limit.toLocaleString("en-US")}${unit === "×" ? "" : " " + unit}`;
    case ">=":
      return `≥ ${t.limit.toLocaleString("en-US")} ${unit}, no errors`;
    case "growth<=":
      return `≤ idle + ${t.limit} ${unit}`;
    case "errors":
      return "no errors";
  }
  return "";
}

/** Whether a figure meets its target (null when it has none or was not measured). */
function met(fig, values, errors) {
  const t = fig.target;
  const v = values[fig.key];
  if (!t || v === null || v === undefined) return null;
  switch (t.op) {
    case "<=":
      return v <= t.limit;
    case ">=":
      return v >= t.limit && (errors[fig.key] ?? 0) === 0;
    case "growth<=":
      return values.rss_mb_idle !== null && v - values.rss_mb_idle <= t.limit;
    case "errors":
      return (errors[fig.key] ?? 0) === 0;
  }
  return null;
}

/** The targets block of bench.json: for each figure, its target text, limit and whether it is met. */
export function targets(values, errors) {
  const out = {};
  for (const fig of FIGURES) {
    out[fig.key] = fig.target
      ? { target: targetText(fig.target, fig.unit), op: fig.target.op, limit: fig.target.limit, unit: fig.unit, met: met(fig, values, errors) }
      : { target: null, unit: fig.unit, met: null };
  }
  return out;
}

function fmt(v, unit) {
  if (v === null || v === undefined) return "—";
  const r = round(v);
  const s = Math.abs(r) >= 1000 ? Math.round(r).toLocaleString("en-US") : String(r);
  return unit === "×" ? `${s}×` : `${s} ${unit}`;
}

/** The printed table: figure, value, what it compares with in the same run, target, met. */
export function table(bench) {
  const rows = [["figure", "value", "baseline / compared with (same run)", "target", "met"]];
  for (const fig of FIGURES) {
    const v = bench[fig.key];
    const t = bench.targets[fig.key];
    const mark = t.met === true ? "yes" : t.met === false ? "MISSED" : "";
    const value = v === null ? (bench.notes[fig.key] ? "skipped" : "—") : fmt(v, fig.unit);
    rows.push([fig.key, value, bench.baselines[fig.key] ?? "", t.target ?? "", mark]);
  }
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  const line = (r) => "| " + r.map((c, i) => c.padEnd(widths[i])).join(" | ") + " |";
  const out = [line(rows[0]), "|" + widths.map((w) => "-".repeat(w + 2)).join("|") + "|", ...rows.slice(1).map(line)];
  return out.join("\n");
}

/** The Go micro-benchmarks as a table. */
export function goTable(micro) {
  if (!micro.length) return "";
  const rows = [["Go benchmark", "ns/op", "cpu-ns/op", "B/op", "allocs/op"]];
  const n = (v) => (v === null || v === undefined ? "" : String(round(v)));
  for (const b of micro) rows.push([`${b.pkg}.${b.name}`, n(b.ns_per_op), n(b.cpu_ns_per_op), n(b.bytes_per_op), n(b.allocs_per_op)]);
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  const line = (r) => "| " + r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(" | ") + " |";
  return [line(rows[0]), "|" + widths.map((w) => "-".repeat(w + 2)).join("|") + "|", ...rows.slice(1).map(line)].join("\n");
}

export { fmt };
