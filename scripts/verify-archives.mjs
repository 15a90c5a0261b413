// Checks the standalone archives `make package` builds (the sidecar binary alone, for use without
// VS Code) and the SHA256SUMS file beside them, and prints a table of platform, size and file count.
// Exits non-zero, naming every broken rule, when an archive or a sum breaks one.
//
//   node scripts/verify-archives.mjs --sums dist/SHA256SUMS dist/awsflow-sts-<version>-<goos>-<goarch>.tar.gz ...
//
// Rules: the name says the platform (linux and darwin as .tar.gz, windows as .zip); the archive holds
// exactly one binary, awsflow-sts (awsflow-sts.exe on windows), at its root, a regular file whose
// header is that platform's executable format for that architecture (ELF, Mach-O or PE; x86-64 or
// arm64), executable (mode 0o111) in a tar; besides it only LICENSE and README.md. The binary for the
// machine running the check is run once and must print its version. SHA256SUMS, in sha256sum's
// format, lists every archive named on the command line, and every file it lists exists beside it
// with that digest.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { gunzipSync } from "node:zlib";
import { readZip } from "./verify-vsix.mjs";

/** The platforms archived, as GOOS-GOARCH: the same six targets as the VSIX files. */
export const PLATFORMS = ["linux-amd64", "linux-arm64", "darwin-amd64", "darwin-arm64", "windows-amd64", "windows-arm64"];

const OPTIONAL = ["LICENSE", "README.md"];

/** Reads a ustar/GNU tar stream: each entry's name, type flag, mode and data. */
export function readTar(buf) {
  const entries = [];
  let p = 0;
  let longName;
  while (p + 512 <= buf.length) {
    const header = buf.subarray(p, p + 512);
    if (header.every((b) => b === 0)) break; // the end-of-archive blocks
    const field = (start, len) => {
      const raw = header.subarray(start, start + len);
      const nul = raw.indexOf(0);
      return raw.toString("utf8", 0, nul < 0 ? len : nul);
    };
    const octal = (start, len) => {
      const s = field(start, len).trim();
      if (!/^[0-7]*$/.test(s)) throw new Error(`corrupt tar header at ${p}: ${JSON.stringify(s)} is not octal`);
      return s === "" ? 0 : parseInt(s, 8);
    };
    let sum = 0;
    for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 32 : header[i];
    if (sum !== octal(148, 8)) throw new Error(`corrupt tar header at ${p} (checksum)`);
    const size = octal(124, 12);
    const type = field(156, 1) || "0";
    const prefix = field(257, 6) === "ustar" ? field(345, 155) : "";
    const data = buf.subarray(p + 512, p + 512 + size);
    if (data.length !== size) throw new Error(`truncated tar entry at ${p}`);
    p += 512 + Math.ceil(size / 512) * 512;
    if (type === "L") {
      longName = data.toString("utf8").replace(/\0+$/, "");
      continue;
    }
    const name = longName ?? (prefix ? `${prefix}/${field(0, 100)}` : field(0, 100));
    longName = undefined;
    entries.push({ name, type, mode: octal(100, 8), read: () => Buffer.from(data) });
  }
  return entries;
}

/** Names the executable format and architecture of a binary's header, or undefined if unknown. */
export function binaryKind(head) {
  if (head.length >= 20 && head.readUInt32BE(0) === 0x7f454c46) {
    if (head[4] !== 2 || head[5] !== 1) return "elf-not-64-bit-little-endian";
    const machine = { 0x3e: "amd64", 0xb7: "arm64" }[head.readUInt16LE(18)];
    return `linux-${machine ?? `machine-0x${head.readUInt16LE(18).toString(16)}`}`;
  }
  if (head.length >= 8 && head.readUInt32LE(0) === 0xfeedfacf) {
    const cpu = { 0x01000007: "amd64", 0x0100000c: "arm64" }[head.readUInt32LE(4)];
    return `darwin-${cpu ?? `cpu-0x${head.readUInt32LE(4).toString(16)}`}`;
  }
  if (head.length >= 0x40 && head.toString("latin1", 0, 2) === "MZ") {
    const pe = head.readUInt32LE(0x3c);
    if (pe + 6 > head.length || head.readUInt32BE(pe) !== 0x50450000) return "mz-without-pe";
    const machine = { 0x8664: "amd64", 0xaa64: "arm64" }[head.readUInt16LE(pe + 4)];
    return `windows-${machine ?? `machine-0x${head.readUInt16LE(pe + 4).toString(16)}`}`;
  }
  return undefined;
}

/** The GOOS-GOARCH of the machine running this, when it is one of PLATFORMS. */
function hostPlatform() {
  const os = { linux: "linux", darwin: "darwin", win32: "windows" }[process.platform];
  const arch = { x64: "amd64", arm64: "arm64" }[process.arch];
  return os && arch ? `${os}-${arch}` : undefined;
}

/**
 * Returns the broken rules for one archive (empty when it passes) with its platform, version, size
 * and file count. runHost false skips running the binary built for this machine.
 */
export function checkArchive(file, { runHost = true } = {}) {
  const problems = [];
  const m = /^awsflow-sts-(.+)-(linux|darwin|windows)-(amd64|arm64)\.(tar\.gz|zip)$/.exec(basename(file));
  const platform = m ? `${m[2]}-${m[3]}` : undefined;
  const version = m?.[1];
  if (!m) problems.push("name is not awsflow-sts-<version>-<goos>-<goarch>.tar.gz or .zip with a known platform");
  const windows = m?.[2] === "windows";
  if (m && windows !== (m[4] === "zip")) problems.push(`a ${m[2]} archive must be a ${windows ? ".zip" : ".tar.gz"}`);
  const size = statSync(file).size;

  let entries = [];
  const buf = readFileSync(file);
  try {
    if (file.endsWith(".zip")) {
      entries = readZip(buf).map((e) => ({ ...e, type: e.name.endsWith("/") ? "5" : "0" }));
    } else {
      entries = readTar(gunzipSync(buf));
    }
  } catch (err) {
    problems.push(String(err.message));
  }

  const binName = windows ? "awsflow-sts.exe" : "awsflow-sts";
  const binaries = entries.filter((e) => /(^|\/)awsflow-sts(\.exe)?$/.test(e.name));
  if (binaries.length !== 1) {
    problems.push(`${binaries.length} sidecar binaries (${binaries.map((e) => e.name).join(", ") || "none"}), want exactly one`);
  }
  const names = entries.map((e) => e.name);
  for (const n of new Set(names)) if (names.indexOf(n) !== names.lastIndexOf(n)) problems.push(`${n} appears more than once`);
  const allowed = new Set([binName, ...OPTIONAL]);
  for (const e of entries) if (!allowed.has(e.name)) problems.push(`forbidden ${e.name}`);

  const bin = entries.find((e) => e.name === binName);
  if (m && !bin) problems.push(`missing ${binName}`);
  let data;
  if (bin) {
    if (bin.type !== "0") problems.push(`${binName} is not a regular file (tar type ${bin.type})`);
    if (!file.endsWith(".zip") && (bin.mode & 0o111) === 0) problems.push(`${binName} is not executable (mode ${bin.mode.toString(8)})`);
    data = bin.read();
    const kind = binaryKind(data.subarray(0, 4096));
    if (platform && kind !== platform) problems.push(`${binName} is ${kind ?? "no known executable format"}, want ${platform}`);
  }
  for (const e of entries) if (e !== bin && e.type !== "0") problems.push(`${e.name} is not a regular file (tar type ${e.type})`);

  if (runHost && data && platform && platform === hostPlatform() && problems.length === 0) {
    const dir = mkdtempSync(join(tmpdir(), "verify-archives-"));
    try {
      const exe = join(dir, binName);
      writeFileSync(exe, data);
      chmodSync(exe, 0o755);
      const out = execFileSync(exe, ["version"], { encoding: "utf8", timeout: 10_000 });
      if (!out.startsWith("awsflow-sts ") || !out.includes(version)) {
        problems.push(`${binName} version prints ${JSON.stringify(out.trim())}, want awsflow-sts ${version}`);
      }
    } catch (err) {
      problems.push(`${binName} version failed: ${err.message}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return { file, platform: platform ?? "?", version, size, files: entries.length, problems };
}

/** Returns the broken rules of a SHA256SUMS file: digests that do not match, files it lacks. */
export function checkSums(sumsFile, mustList = []) {
  const problems = [];
  const dir = dirname(sumsFile);
  const listed = new Map();
  let text = "";
  try {
    text = readFileSync(sumsFile, "utf8");
  } catch (err) {
    return { problems: [String(err.message)], count: 0 };
  }
  const lines = text.split("\n");
  if (lines.pop() !== "") problems.push("does not end with a newline");
  for (const [i, line] of lines.entries()) {
    const m = /^([0-9a-f]{64}) [ *]([^/\\]+)$/.exec(line);
    if (!m) {
      problems.push(`line ${i + 1} is not "<sha256>  <file name>": ${JSON.stringify(line.slice(0, 100))}`);
      continue;
    }
    if (listed.has(m[2])) problems.push(`${m[2]} is listed twice`);
    listed.set(m[2], m[1]);
    let digest;
    try {
      digest = createHash("sha256").update(readFileSync(join(dir, m[2]))).digest("hex");
    } catch {
      problems.push(`${m[2]} is listed but missing`);
      continue;
    }
    if (digest !== m[1]) problems.push(`${m[2]}: sha256 ${digest}, SHA256SUMS says ${m[1]}`);
  }
  for (const f of mustList) {
    if (resolve(dirname(f)) !== resolve(dir)) problems.push(`${f} is not beside ${sumsFile}`);
    else if (!listed.has(basename(f))) problems.push(`${basename(f)} is not listed`);
  }
  return { problems, count: listed.size };
}

function main(args) {
  const i = args.indexOf("--sums");
  const sums = i >= 0 ? args[i + 1] : undefined;
  const files = i >= 0 ? [...args.slice(0, i), ...args.slice(i + 2)] : args;
  if (!sums || files.length === 0) {
    console.error("usage: node scripts/verify-archives.mjs --sums SHA256SUMS ARCHIVE...");
    return 2;
  }
  const results = files.map((f) => checkArchive(f));
  const rows = [["platform", "size", "files", "archive"], ...results.map((r) => [r.platform, `${(r.size / 1048576).toFixed(2)} MB`, String(r.files), r.file])];
  const widths = rows[0].map((_, c) => Math.max(...rows.map((row) => row[c].length)));
  for (const row of rows) console.log(row.map((c, k) => (k === 1 || k === 2 ? c.padStart(widths[k]) : c.padEnd(widths[k]))).join("  ").trimEnd());
  let failed = 0;
  for (const r of results) {
    for (const p of r.problems) console.error(`verify-archives: ${r.file}: ${p}`);
    if (r.problems.length) failed++;
  }
  const s = checkSums(sums, files);
  for (const p of s.problems) console.error(`verify-archives: ${sums}: ${p}`);
  if (failed || s.problems.length) {
    console.error(`verify-archives: FAILED: ${failed} of ${results.length} archives break the packaging rules${s.problems.length ? `; ${sums} is wrong` : ""}`);
    return 1;
  }
  console.log(`verify-archives: ok: ${results.length} archives; ${sums} matches its ${s.count} files`);
  return 0;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) process.exitCode = main(process.argv.slice(2));
