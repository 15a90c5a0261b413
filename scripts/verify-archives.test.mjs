// Tests for verify-archives.mjs: archives built with the tar and zip CLIs around binaries that carry
// only an executable header, one broken rule at a time, and SHA256SUMS files written by sha256sum.
//   node --test scripts/verify-archives.test.mjs
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { appendFileSync, chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { binaryKind, checkArchive, checkSums } from "./verify-archives.mjs";

const have = (cmd, arg) => {
  try {
    execFileSync(cmd, [arg], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
};
const missing = ["tar", "zip", "sha256sum"].filter((c) => !have(c, c === "zip" ? "-v" : "--version"));

/** A file that starts like a goos/goarch executable and holds nothing else. */
function header(platform) {
  const [os, arch] = platform.split("-");
  const b = Buffer.alloc(0x100);
  if (os === "linux") {
    b.writeUInt32BE(0x7f454c46, 0);
    b[4] = 2; // 64-bit
    b[5] = 1; // little-endian
    b[6] = 1;
    b.writeUInt16LE(arch === "amd64" ? 0x3e : 0xb7, 18);
  } else if (os === "darwin") {
    b.writeUInt32LE(0xfeedfacf, 0);
    b.writeUInt32LE(arch === "amd64" ? 0x01000007 : 0x0100000c, 4);
  } else {
    b.write("MZ", 0, "latin1");
    b.writeUInt32LE(0x80, 0x3c);
    b.writeUInt32BE(0x50450000, 0x80);
    b.writeUInt16LE(arch === "amd64" ? 0x8664 : 0xaa64, 0x84);
  }
  return b;
}

/**
 * Builds dir/awsflow-sts-1.2.3-<platform>.<tar.gz|zip> the way package.sh does, with a binary whose
 * header is binaryAs's (default: the platform's own).
 */
function makeArchive(dir, platform, { binaryAs = platform, binaryMode = 0o755, files = [], drop = [], ext } = {}) {
  const stage = mkdtempSync(path.join(dir, "stage-"));
  const windows = platform.startsWith("windows-");
  const bin = windows ? "awsflow-sts.exe" : "awsflow-sts";
  const all = [bin, "LICENSE", "README.md", ...files].filter((f) => !drop.includes(f));
  for (const f of all) {
    mkdirSync(path.dirname(path.join(stage, f)), { recursive: true });
    writeFileSync(path.join(stage, f), /awsflow-sts(\.exe)?$/.test(f) ? header(binaryAs) : "text\n");
    chmodSync(path.join(stage, f), /awsflow-sts(\.exe)?$/.test(f) ? binaryMode : 0o644);
  }
  ext ??= windows ? "zip" : "tar.gz";
  const out = path.join(dir, `awsflow-sts-1.2.3-${platform}.${ext}`);
  rmSync(out, { force: true });
  if (ext === "zip") execFileSync("zip", ["-q", "-X", out, ...all], { cwd: stage });
  else execFileSync("tar", ["-czf", out, "--owner=0", "--group=0", ...all], { cwd: stage });
  return out;
}

test("verify-archives", { skip: missing.length > 0 && `not installed: ${missing.join(", ")}` }, async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), "verify-archives-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const problems = (platform, opts) => checkArchive(makeArchive(dir, platform, opts), { runHost: false }).problems;
  const has = (p, s) => assert.ok(p.some((x) => x.includes(s)), `${JSON.stringify(s)} not in:\n${p.join("\n")}`);

  await t.test("the header check tells every platform apart", () => {
    const all = ["linux-amd64", "linux-arm64", "darwin-amd64", "darwin-arm64", "windows-amd64", "windows-arm64"];
    for (const p of all) assert.equal(binaryKind(header(p)), p);
    assert.equal(binaryKind(Buffer.from("#!/bin/sh\necho hi\n")), undefined);
  });
  await t.test("good archives pass, with their file counts", () => {
    for (const p of ["linux-arm64", "darwin-amd64", "darwin-arm64", "windows-amd64", "windows-arm64"]) {
      const r = checkArchive(makeArchive(dir, p), { runHost: false });
      assert.deepEqual(r.problems, [], p);
      assert.equal(r.files, 3);
      assert.equal(r.platform, p);
      assert.equal(r.version, "1.2.3");
    }
    assert.deepEqual(problems("linux-amd64", { drop: ["LICENSE", "README.md"] }), []);
    assert.deepEqual(problems("windows-arm64", { binaryMode: 0o644 }), []); // zip modes mean nothing on Windows
  });
  await t.test("another architecture's or system's binary is refused", () => {
    has(problems("linux-arm64", { binaryAs: "linux-amd64" }), "awsflow-sts is linux-amd64, want linux-arm64");
    has(problems("darwin-amd64", { binaryAs: "linux-amd64" }), "awsflow-sts is linux-amd64, want darwin-amd64");
    has(problems("windows-arm64", { binaryAs: "windows-amd64" }), "awsflow-sts.exe is windows-amd64, want windows-arm64");
  });
  await t.test("a non-executable binary in a tar is refused", () => {
    has(problems("linux-amd64", { binaryMode: 0o644 }), "not executable");
  });
  await t.test("a missing binary, a second binary and other files are refused", () => {
    has(problems("darwin-arm64", { drop: ["awsflow-sts"] }), "0 sidecar binaries");
    const two = problems("linux-amd64", { files: ["linux-arm64/awsflow-sts"] });
    has(two, "2 sidecar binaries");
    has(two, "forbidden linux-arm64/awsflow-sts");
    has(problems("windows-amd64", { files: ["awsflow-sts"] }), "forbidden awsflow-sts");
    has(problems("linux-amd64", { files: ["CHANGELOG.md"] }), "forbidden CHANGELOG.md");
  });
  await t.test("the archive kind must suit the system", () => {
    has(problems("windows-amd64", { ext: "tar.gz" }), "a windows archive must be a .zip");
    has(problems("linux-amd64", { ext: "zip" }), "a linux archive must be a .tar.gz");
  });
  await t.test("the binary for this machine is run", { skip: !(process.platform === "linux" && process.arch === "x64") && "not linux-amd64" }, () => {
    // A file with only an ELF header cannot run: the run check must say so.
    has(checkArchive(makeArchive(dir, "linux-amd64")).problems, "awsflow-sts version failed");
  });
  await t.test("SHA256SUMS must list every archive with its digest", () => {
    const sumsDir = mkdtempSync(path.join(dir, "sums-"));
    const a = makeArchive(sumsDir, "linux-amd64");
    const b = makeArchive(sumsDir, "windows-arm64");
    const sums = path.join(sumsDir, "SHA256SUMS");
    writeFileSync(sums, execFileSync("sha256sum", [path.basename(a), path.basename(b)], { cwd: sumsDir }));
    assert.deepEqual(checkSums(sums, [a, b]), { problems: [], count: 2 });

    const c = makeArchive(sumsDir, "darwin-arm64");
    has(checkSums(sums, [a, b, c]).problems, "awsflow-sts-1.2.3-darwin-arm64.tar.gz is not listed");
    appendFileSync(b, "tampered");
    has(checkSums(sums, [a, b]).problems, "awsflow-sts-1.2.3-windows-arm64.zip: sha256");
    rmSync(a);
    has(checkSums(sums, [b]).problems, "awsflow-sts-1.2.3-linux-amd64.tar.gz is listed but missing");
    writeFileSync(sums, "not a sum\n");
    has(checkSums(sums, []).problems, "line 1 is not");
  });
});
