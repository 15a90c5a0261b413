// Tests for verify-vsix.mjs: VSIX-shaped zips built with the zip CLI, one broken rule at a time.
//   node --test scripts/verify-vsix.test.mjs
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { checkVsix } from "./verify-vsix.mjs";

let haveZip = true;
try {
  execFileSync("zip", ["-v"], { stdio: "ignore" });
} catch {
  haveZip = false;
}

const BASE = ["extension/package.json", "extension/readme.md", "extension/changelog.md", "extension/LICENSE.txt", "extension/media/icon.png", "extension/out/extension.js", "[Content_Types].xml"];

/** Builds dir/awsflow-sts-<target>-0.1.0.vsix from the given files; mode 0755 for binaries unless told. */
function makeVsix(dir, target, { files = [], drop = [], manifestTarget = target, binaryMode = 0o755 } = {}) {
  const stage = mkdtempSync(path.join(dir, "stage-"));
  const exe = target.startsWith("win32-") ? ".exe" : "";
  const all = [...BASE, `extension/bin/${target}/awsflow-sts${exe}`, ...files].filter((f) => !drop.includes(f));
  writeFileSync(path.join(stage, "extension.vsixmanifest"), `<Identity Id="awsflow-sts" TargetPlatform="${manifestTarget}"/>`);
  for (const f of all) {
    mkdirSync(path.dirname(path.join(stage, f)), { recursive: true });
    writeFileSync(path.join(stage, f), "x");
    chmodSync(path.join(stage, f), /awsflow-sts(\.exe)?$/.test(f) ? binaryMode : 0o644);
  }
  const out = path.join(dir, `awsflow-sts-${target}-0.1.0.vsix`);
  rmSync(out, { force: true });
  execFileSync("zip", ["-q", "-X", out, "extension.vsixmanifest", ...all], { cwd: stage });
  return out;
}

test("verify-vsix", { skip: !haveZip && "the zip CLI is not installed" }, async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), "verify-vsix-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const problems = (target, opts) => checkVsix(makeVsix(dir, target, opts)).problems;

  await t.test("a good VSIX passes, with its file count", () => {
    const r = checkVsix(makeVsix(dir, "linux-arm64"));
    assert.deepEqual(r.problems, []);
    assert.equal(r.files, 9);
    assert.deepEqual(problems("win32-x64", { binaryMode: 0o644 }), []);
  });
  await t.test("another platform's binary is refused", () => {
    const p = problems("linux-x64", { files: ["extension/bin/darwin-arm64/awsflow-sts"] });
    assert.ok(p.some((s) => s.includes("2 sidecar binaries")), p.join("\n"));
    assert.ok(p.some((s) => s.includes("forbidden extension/bin/darwin-arm64/awsflow-sts")));
  });
  await t.test("a missing binary is refused", () => {
    const p = problems("darwin-x64", { drop: ["extension/bin/darwin-x64/awsflow-sts"] });
    assert.ok(p.some((s) => s.includes("0 sidecar binaries")), p.join("\n"));
  });
  await t.test("a non-executable unix binary is refused", () => {
    const p = problems("darwin-arm64", { binaryMode: 0o644 });
    assert.ok(p.some((s) => s.includes("not executable")), p.join("\n"));
  });
  await t.test("sources, node_modules and other paths are refused", () => {
    for (const f of ["extension/extension/src/extension.ts", "extension/node_modules/x/index.js", "extension/protocol/model.json", "extension/sidecar/cmd/awsflow-sts/main.go", "extension/scripts/package.sh"]) {
      assert.ok(problems("linux-x64", { files: [f] }).includes(`forbidden ${f}`), f);
    }
  });
  await t.test("a required file is missing", () => {
    assert.ok(problems("linux-x64", { drop: ["extension/out/extension.js"] }).includes("missing extension/out/extension.js"));
  });
  await t.test("the manifest must name the same target", () => {
    const p = problems("win32-arm64", { manifestTarget: "win32-x64" });
    assert.ok(p.some((s) => s.includes("TargetPlatform is win32-x64")), p.join("\n"));
  });
});
