// Drives the workbench: opens code-server's page in Debian's chromium (playwright-core), with the
// extension under development and the suite as extensionTestsPath, and waits for the exit code the
// workbench hands to codeAutomationExit. Also answers the suite's screenshot and status bar requests.
// Usage: node e2e/run.mjs  (env: E2E_URL_BASE, E2E_WORKSPACE, E2E_EXT_DEV_PATH, E2E_TESTS_PATH,
// E2E_ARTIFACTS, E2E_BROWSER_PROFILE, E2E_TIMEOUT_MS)
import { createRequire } from "node:module";
import fs from "node:fs";
import path from "node:path";

const require = createRequire(new URL("./.tools/package.json", import.meta.url));
const { chromium } = require("playwright-core");

const base = new URL(process.env.E2E_URL_BASE); // http://127.0.0.1:PORT
const remote = (p) => `vscode-remote://${base.host}${p}`;
const artifacts = process.env.E2E_ARTIFACTS;
const payload = [["extensionTestsPath", remote(process.env.E2E_TESTS_PATH)]];
if (process.env.E2E_EXT_DEV_PATH) payload.unshift(["extensionDevelopmentPath", remote(process.env.E2E_EXT_DEV_PATH)]);
const url = `${base.origin}/?folder=${encodeURIComponent(process.env.E2E_WORKSPACE)}&payload=${encodeURIComponent(JSON.stringify(payload))}`;
const timeoutMs = Number(process.env.E2E_TIMEOUT_MS || 120000);

const context = await chromium.launchPersistentContext(process.env.E2E_BROWSER_PROFILE, {
  executablePath: process.env.E2E_CHROMIUM || "/usr/bin/chromium",
  headless: true,
  viewport: { width: 1400, height: 900 },
  args: [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
  ],
});
let exitCode;
let finish;
const finished = new Promise((r) => (finish = r));
try {
  const page = context.pages()[0] ?? (await context.newPage());
  page.on("console", (m) => {
    const t = m.text();
    // The extension host's console reaches the page as "%c INFO color: … [e2e] …".
    const e2e = t.indexOf("[e2e]");
    if (e2e >= 0) console.log(t.slice(e2e));
    else if (process.env.E2E_VERBOSE || m.type() === "error") console.log(`[page ${m.type()}] ${t.replace(/^%c\s*\S+\s*color:\s*\S+\s*/, "")}`);
  });
  page.on("pageerror", (e) => console.log(`[page error] ${e.message}`));
  await page.exposeFunction("codeAutomationExit", (code) => {
    exitCode = Number(code);
    finish();
  });
  // The suite asks for the screenshot through a file, so it is taken while the workbench shows its state.
  const req = path.join(artifacts, ".screenshot-request");
  const done = path.join(artifacts, ".screenshot-done");
  const poll = setInterval(async () => {
    if (!fs.existsSync(req)) return;
    const name = fs.readFileSync(req, "utf8").trim() || "workbench.png";
    fs.rmSync(req);
    try {
      await page.screenshot({ path: path.join(artifacts, name) });
      fs.writeFileSync(done, "ok");
      console.log(`e2e: screenshot ${path.join(artifacts, name)}`);
    } catch (e) {
      fs.writeFileSync(done, `screenshot failed: ${e.message}`);
    }
  }, 200);
  // The suite reads the status bar through the DOM: the text of every status bar item.
  const sbReq = path.join(artifacts, ".statusbar-request");
  const sbDone = path.join(artifacts, ".statusbar-done");
  let sbBusy = false;
  const sbPoll = setInterval(async () => {
    if (sbBusy || !fs.existsSync(sbReq)) return;
    sbBusy = true;
    fs.rmSync(sbReq);
    try {
      const texts = await page.$$eval(".statusbar-item", (els) =>
        els.map((e) => [e.textContent, e.getAttribute("aria-label")].filter(Boolean).join(" | ").replace(/\s+/g, " ").trim()));
      fs.writeFileSync(sbDone, JSON.stringify(texts));
    } catch (e) {
      fs.writeFileSync(sbDone, JSON.stringify([`statusbar read failed: ${e.message}`]));
    } finally {
      sbBusy = false;
    }
  }, 200);
  const t0 = Date.now();
  await page.goto(url);
  const timer = setTimeout(() => finish(), timeoutMs);
  await finished;
  clearTimeout(timer);
  clearInterval(poll);
  clearInterval(sbPoll);
  if (exitCode === undefined) {
    await page.screenshot({ path: path.join(artifacts, "timeout.png") }).catch(() => {});
    console.log(`e2e: no exit code from the workbench within ${timeoutMs} ms (see timeout.png)`);
  } else {
    console.log(`e2e: workbench exit code ${exitCode} after ${Date.now() - t0} ms`);
  }
} finally {
  await context.close().catch(() => {});
}
process.exit(exitCode === undefined ? 124 : exitCode);
