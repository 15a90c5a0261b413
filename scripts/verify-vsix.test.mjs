// Tests for verify-vsix.mjs: VSIX-shaped zips built with the zip CLI, one broken rule at a time.
//   node --test scripts/verify-vsix.test.mjs
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { checkVsix, checkReadme } from "./verify-vsix.mjs";

let haveZip = true;
try {
  execFileSync("zip", ["-v"], { stdio: "ignore" });
} catch {
  haveZip = false;
}

const BASE = ["extension/package.json", "extension/readme.md", "extension/changelog.md", "extension/LICENSE.txt", "extension/media/icon.png", "extension/out/extension.js", "[Content_Types].xml"];

// A user page as the packaged README: the user sections, an https picture.
const USER_PAGE = [
  "# AWS STS", "![card](https://example.com/card.png)", "## Getting started", "Install it.",
  "## Settings", "| Setting |", "## Troubleshooting", "Sign in again.",
].join("\n\n");

/** Builds dir/awsflow-sts-<target>-0.1.0.vsix from the given files; mode 0755 for binaries unless told. */
function makeVsix(dir, target, { files = [], drop = [], manifestTarget = target, binaryMode = 0o755, readme = USER_PAGE } = {}) {
  const stage = mkdtempSync(path.join(dir, "stage-"));
  const exe = target.startsWith("win32-") ? ".exe" : "";
  const all = [...BASE, `extension/bin/${target}/awsflow-sts${exe}`, ...files].filter((f) => !drop.includes(f));
  writeFileSync(path.join(stage, "extension.vsixmanifest"), `<Identity Id="awsflow-sts" TargetPlatform="${manifestTarget}"/>`);
  for (const f of all) {
    mkdirSync(path.dirname(path.join(stage, f)), { recursive: true });
    writeFileSync(path.join(stage, f), f === "extension/readme.md" ? readme : "x");
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
  await t.test("the packaged README must be the user page, not the repository README", () => {
    const repo = readFileSync(new URL("../README.md", import.meta.url), "utf8");
    const p = problems("linux-x64", { readme: repo });
    assert.ok(p.some((s) => s.includes('mentions "make test"')), p.join("\n"));
    assert.ok(p.some((s) => s.includes('no "## Troubleshooting" section')), p.join("\n"));
    for (const bad of ["Run `make test` first.", "## Layout", "See sidecar/internal/server."]) {
      assert.ok(problems("linux-x64", { readme: `${USER_PAGE}\n\n${bad}` }).some((s) => s.includes("is not the user page")), bad);
    }
    assert.ok(problems("linux-x64", { readme: "# AWS STS\n\nNothing else." }).some((s) => s.includes('no "## Settings" section')));
  });
  await t.test("the real user page passes with its pictures packaged, and fails without them", () => {
    const page = readFileSync(new URL("../MARKETPLACE.md", import.meta.url), "utf8");
    const pictures = [...page.matchAll(/!\[[^\]]*\]\((media\/[^)\s]+)\)/g)].map((m) => `extension/${m[1]}`);
    assert.ok(pictures.length >= 3, `only ${pictures.length} pictures`);
    assert.deepEqual(problems("darwin-arm64", { readme: page, files: pictures }), []);
    const p = problems("darwin-arm64", { readme: page, files: pictures.slice(1) });
    assert.ok(p.includes(`README image ${pictures[0].slice("extension/".length)} is not a file of the package (${pictures[0]})`), p.join("\n"));
  });
  await t.test("README images must be packaged files or absolute https URLs", () => {
    const ok = (img, files = []) => problems("linux-x64", { readme: `${USER_PAGE}\n\n${img}`, files });
    assert.deepEqual(ok("![a](media/shot.png)", ["extension/media/shot.png"]), []);
    assert.deepEqual(ok("![a](./media/shot.png \"Shot\")", ["extension/media/shot.png"]), []);
    assert.deepEqual(ok('<img src="media/shot.png" width="600">', ["extension/media/shot.png"]), []);
    assert.deepEqual(ok("![a][shot]\n\n[shot]: https://example.com/s.png"), []);
    for (const img of [
      "![a](media/missing.png)",
      "![a](http://example.com/s.png)",
      "![a](data:image/png;base64,AAAA)",
      "![a](file:///tmp/s.png)",
      "![a](//example.com/s.png)",
      "![a](../outside.png)",
      '<img src="media/missing.png">',
      "![a][gone]\n\n[gone]: docs/gone.png",
    ]) {
      assert.ok(ok(img).some((s) => s.startsWith("README image")), img);
    }
    assert.ok(ok("![a](https://example.com/s.svg)").some((s) => s.includes("SVG")));
    assert.ok(ok("[docs](docs/SECURITY.md)").some((s) => s.startsWith("README link docs/SECURITY.md")));
    assert.deepEqual(ok("[r](https://example.com) [s](#settings) `![x](nope.png)`"), []);
  });
  await t.test("pictures are allowed only as media/*.png", () => {
    assert.deepEqual(problems("linux-x64", { files: ["extension/media/shot-1.png"] }), []);
    for (const f of ["extension/media/shot.gif", "extension/media/raw/shot.png", "extension/e2e/artifacts/shot.png"]) {
      assert.ok(problems("linux-x64", { files: [f] }).includes(`forbidden ${f}`), f);
    }
  });
  await t.test("checkReadme alone names each problem once", () => {
    assert.deepEqual(checkReadme(USER_PAGE, new Set()), []);
    assert.equal(checkReadme(`${USER_PAGE}\n![a](x.png)`, new Set()).length, 1);
  });
  await t.test("the manifest must name the same target", () => {
    const p = problems("win32-arm64", { manifestTarget: "win32-x64" });
    assert.ok(p.some((s) => s.includes("TargetPlatform is win32-x64")), p.join("\n"));
  });
});
