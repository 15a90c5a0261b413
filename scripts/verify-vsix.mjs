// Checks platform-specific VSIX files against the packaging rules and prints a table of target,
// size and file count. Exits non-zero, naming every broken rule, when any VSIX breaks one.
//
//   node scripts/verify-vsix.mjs dist/awsflow-sts-<target>-<version>.vsix ...
//
// Rules: the name says the target, and extension.vsixmanifest agrees; the archive holds exactly the
// allowed files (the manifest, package.json, the bundle, README, CHANGELOG, LICENSE, the icon) and
// exactly one sidecar binary, at bin/<target>/awsflow-sts[.exe], executable (unix mode 0o111 in the
// zip's external attributes) on every non-Windows target; the file is under 10 MB. The README (the
// marketplace page) is the user page, not the repository README: it has the user sections and none
// of the engineers' (make targets, the source tree's layout), and every image and relative link in
// it is a file of the package or an absolute https URL (vsce refuses other images).
import { readFileSync, statSync } from "node:fs";
import { basename } from "node:path";
import { inflateRawSync } from "node:zlib";
import { fileURLToPath } from "node:url";

export const TARGETS = ["linux-x64", "linux-arm64", "darwin-x64", "darwin-arm64", "win32-x64", "win32-arm64"];
export const MAX_BYTES = 10 * 1024 * 1024;

// Paths every VSIX must hold besides its binary (vsce renames README, CHANGELOG and LICENSE).
const REQUIRED = [
  "[Content_Types].xml",
  "extension.vsixmanifest",
  "extension/package.json",
  "extension/readme.md",
  "extension/changelog.md",
  "extension/LICENSE.txt",
  "extension/media/icon.png",
  "extension/out/extension.js",
];
const OPTIONAL = ["extension/out/extension.js.map"];
// The README's pictures: PNGs beside the icon.
const MEDIA = /^extension\/media\/[a-z0-9][a-z0-9-]*\.png$/;

// What the user page has, and what only the repository README has.
export const USER_PAGE_SECTIONS = ["## Getting started", "## Settings", "## Troubleshooting"];
export const ENGINEER_ONLY = ["make test", "make demo", "## Layout", "sidecar/internal/", "extension/src/", "protocol/model.json"];

/** Returns the images and links of a Markdown page: inline, reference-style and HTML img/a. */
export function readmeRefs(md) {
  const text = md.replace(/```[\s\S]*?```/g, "").replace(/`[^`\n]*`/g, "");
  const defs = new Map();
  for (const m of text.matchAll(/^ {0,3}\[([^\]]+)\]:\s*<?([^\s>]+)>?/gm)) defs.set(m[1].toLowerCase(), m[2]);
  const refs = [];
  for (const m of text.matchAll(/(!?)\[((?:[^\[\]]|\[[^\]]*\])*)\]\(\s*<?([^\s)>]*)>?(?:\s+"[^"]*")?\s*\)/g)) {
    refs.push({ image: m[1] === "!", url: m[3] });
  }
  for (const m of text.matchAll(/(!?)\[([^\]]*)\]\[([^\]]*)\]/g)) {
    const url = defs.get((m[3] || m[2]).toLowerCase());
    if (url !== undefined) refs.push({ image: m[1] === "!", url });
  }
  for (const m of text.matchAll(/<img\b[^>]*?\bsrc\s*=\s*["']([^"']*)["']/gi)) refs.push({ image: true, url: m[1] });
  for (const m of text.matchAll(/<a\b[^>]*?\bhref\s*=\s*["']([^"']*)["']/gi)) refs.push({ image: false, url: m[1] });
  return refs;
}

/** Returns the broken rules of a packaged README (text) given the package's file names. */
export function checkReadme(text, names) {
  const problems = [];
  for (const s of USER_PAGE_SECTIONS) {
    if (!text.includes(s)) problems.push(`README is not the user page: no "${s}" section`);
  }
  for (const s of ENGINEER_ONLY) {
    if (text.includes(s)) problems.push(`README is not the user page: it mentions "${s}" (the repository README's)`);
  }
  for (const { image, url } of readmeRefs(text)) {
    const what = `README ${image ? "image" : "link"} ${url || "(empty)"}`;
    if (/^https:\/\//i.test(url)) {
      if (image && /\.svg(\?|#|$)/i.test(url)) problems.push(`${what} is an SVG, which vsce refuses`);
      continue;
    }
    if (!image && (/^(http:|mailto:)/i.test(url) || url.startsWith("#"))) continue;
    if (url === "" || /^[a-z][a-z0-9+.-]*:/i.test(url) || url.startsWith("//") || url.startsWith("/")) {
      problems.push(`${what} is neither a packaged file nor an absolute https URL`);
      continue;
    }
    const file = url.replace(/[?#].*$/, "").split("/").filter((p) => p !== "." && p !== "");
    if (file.includes("..") || !names.has(`extension/${file.join("/")}`)) {
      problems.push(`${what} is not a file of the package (extension/${file.join("/")})`);
    } else if (image && /\.svg$/i.test(url)) {
      problems.push(`${what} is an SVG, which vsce refuses`);
    }
  }
  return problems;
}

/** Reads a zip's central directory: name, unix mode (0 if none), sizes, and a reader for the data. */
export function readZip(buf) {
  let eocd = -1;
  for (let i = buf.length - 22; i >= Math.max(0, buf.length - 22 - 0xffff); i--) {
    if (buf.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new Error("not a zip file (no end of central directory)");
  const count = buf.readUInt16LE(eocd + 10);
  let p = buf.readUInt32LE(eocd + 16);
  const entries = [];
  for (let n = 0; n < count; n++) {
    if (buf.readUInt32LE(p) !== 0x02014b50) throw new Error("corrupt central directory");
    const madeBy = buf.readUInt16LE(p + 4) >> 8; // 3: unix, so the external attributes' high half is st_mode
    const method = buf.readUInt16LE(p + 10);
    const compressed = buf.readUInt32LE(p + 20);
    const nameLen = buf.readUInt16LE(p + 28);
    const extraLen = buf.readUInt16LE(p + 30);
    const commentLen = buf.readUInt16LE(p + 32);
    const external = buf.readUInt32LE(p + 38);
    const local = buf.readUInt32LE(p + 42);
    const name = buf.toString("utf8", p + 46, p + 46 + nameLen);
    const mode = madeBy === 3 ? external >>> 16 : 0;
    entries.push({
      name,
      mode,
      read() {
        const start = local + 30 + buf.readUInt16LE(local + 26) + buf.readUInt16LE(local + 28);
        const data = buf.subarray(start, start + compressed);
        return method === 8 ? inflateRawSync(data) : Buffer.from(data);
      },
    });
    p += 46 + nameLen + extraLen + commentLen;
  }
  return entries;
}

/** Returns the broken rules for one VSIX (empty when it passes) with its size and file count. */
export function checkVsix(file) {
  const problems = [];
  const m = /^awsflow-sts-(.+?)-(\d+\.\d+\.\d+.*)\.vsix$/.exec(basename(file));
  const target = m && TARGETS.includes(m[1]) ? m[1] : undefined;
  if (!target) problems.push(`name is not awsflow-sts-<target>-<version>.vsix with a known target`);
  const size = statSync(file).size;
  if (size >= MAX_BYTES) problems.push(`${size} bytes, limit ${MAX_BYTES}`);
  let entries = [];
  try {
    entries = readZip(readFileSync(file)).filter((e) => !e.name.endsWith("/"));
  } catch (err) {
    problems.push(String(err.message));
  }
  const names = new Set(entries.map((e) => e.name));
  for (const r of REQUIRED) if (!names.has(r)) problems.push(`missing ${r}`);

  const binaries = entries.filter((e) => /(^|\/)awsflow-sts(\.exe)?$/.test(e.name));
  const binPath = target && `extension/bin/${target}/awsflow-sts${target.startsWith("win32-") ? ".exe" : ""}`;
  if (binaries.length !== 1) {
    problems.push(`${binaries.length} sidecar binaries (${binaries.map((e) => e.name).join(", ") || "none"}), want exactly one`);
  }
  if (binPath && !names.has(binPath)) problems.push(`missing ${binPath}`);
  for (const b of binaries) {
    if (b.name === binPath && !target.startsWith("win32-") && (b.mode & 0o111) === 0) {
      problems.push(`${b.name} is not executable (mode ${b.mode.toString(8)})`);
    }
  }
  const allowed = new Set([...REQUIRED, ...OPTIONAL, binPath]);
  for (const e of entries) if (!allowed.has(e.name) && !MEDIA.test(e.name)) problems.push(`forbidden ${e.name}`);

  const readme = entries.find((e) => e.name === "extension/readme.md");
  if (readme) problems.push(...checkReadme(readme.read().toString("utf8"), names));

  const manifest = entries.find((e) => e.name === "extension.vsixmanifest");
  if (manifest && target) {
    const platform = /TargetPlatform="([^"]*)"/.exec(manifest.read().toString("utf8"));
    if (!platform || platform[1] !== target) {
      problems.push(`extension.vsixmanifest TargetPlatform is ${platform ? platform[1] : "missing"}, want ${target}`);
    }
  }
  return { file, target: target ?? "?", size, files: entries.length, problems };
}

function main(files) {
  if (files.length === 0) {
    console.error("usage: node scripts/verify-vsix.mjs VSIX...");
    return 2;
  }
  const results = files.map(checkVsix);
  const rows = [["target", "size", "files", "vsix"], ...results.map((r) => [r.target, `${(r.size / 1048576).toFixed(2)} MB`, String(r.files), r.file])];
  const widths = rows[0].map((_, i) => Math.max(...rows.map((row) => row[i].length)));
  for (const row of rows) console.log(row.map((c, i) => (i === 1 || i === 2 ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join("  ").trimEnd());
  let failed = 0;
  for (const r of results) {
    for (const p of r.problems) console.error(`verify-vsix: ${r.file}: ${p}`);
    if (r.problems.length) failed++;
  }
  if (failed) {
    console.error(`verify-vsix: FAILED: ${failed} of ${results.length} VSIX files break the packaging rules`);
    return 1;
  }
  console.log(`verify-vsix: ok: ${results.length} VSIX files`);
  return 0;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) process.exitCode = main(process.argv.slice(2));
