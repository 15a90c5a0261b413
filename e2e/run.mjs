// Drives the workbench: opens code-server's page in Debian's chromium (playwright-core), with the
// extension under development and the suite as extensionTestsPath, and waits for the exit code the
// workbench hands to codeAutomationExit. Also answers the suite's screenshot, status bar, notification
// and quick input (MFA code box, palette prompts) requests, each through a file in E2E_ARTIFACTS.
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
  // vscode.env.clipboard in the web workbench is navigator.clipboard: the suite reads back what copyEnv wrote.
  permissions: ["clipboard-read", "clipboard-write"],
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
  // A page error repeated with the same first line is printed once, then counted (E2E_VERBOSE: all).
  const repeats = new Map();
  page.on("console", (m) => {
    const t = m.text();
    // The extension host's console reaches the page as "%c INFO color: … [e2e] …".
    const e2e = t.indexOf("[e2e]");
    if (e2e >= 0) {
      console.log(t.slice(e2e));
      return;
    }
    if (!process.env.E2E_VERBOSE && m.type() !== "error") return;
    const text = t.replace(/^%c\s*\S+\s*color:\s*\S+\s*/, "");
    const first = text.split("\n")[0];
    const seen = repeats.get(first) ?? 0;
    repeats.set(first, seen + 1);
    if (seen === 0 || process.env.E2E_VERBOSE) console.log(`[page ${m.type()}] ${text}`);
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
  // The suite reads the notification toasts through the DOM: [{message, buttons}] of each one shown.
  // With a body {contains, button} it first clicks that button of the toast whose message contains
  // `contains` (the code notification's Copy Code), and answers what was shown before the click.
  const ntReq = path.join(artifacts, ".notifications-request");
  const ntDone = path.join(artifacts, ".notifications-done");
  let ntBusy = false;
  const ntPoll = setInterval(async () => {
    if (ntBusy || !fs.existsSync(ntReq)) return;
    ntBusy = true;
    let ask = {};
    try {
      ask = JSON.parse(fs.readFileSync(ntReq, "utf8") || "{}");
    } catch {}
    fs.rmSync(ntReq);
    try {
      // The toasts, or the notification center's list when the suite opened it (VS Code 1.139 files
      // extension notifications there without a toast in this headless window).
      const ITEMS = ".notifications-toasts .notification-toast, .notifications-center .notification-list-item";
      const toasts = await page.$$eval(ITEMS, (els) =>
        els
          .filter((e) => e.getClientRects().length > 0)
          .map((e) => ({
            message: (e.querySelector(".notification-list-item-message")?.textContent ?? "").replace(/\s+/g, " ").trim(),
            buttons: [...e.querySelectorAll(".notification-list-item-buttons-container .monaco-button")].map((b) => (b.textContent ?? "").trim()),
          })),
      );
      let clicked;
      if (ask.button) {
        const toast = page.locator(ITEMS, { hasText: ask.contains ?? "" }).filter({ visible: true }).first();
        await toast.locator(".notification-list-item-buttons-container .monaco-button", { hasText: ask.button }).first().click({ timeout: 5000 });
        clicked = ask.button;
      }
      // Every toast element, shown or not, for a test that found none.
      const all = await page.$$eval(".notification-toast, .notifications-toasts, .notifications-center, .notification-list-item", (els) =>
        els.map((e) => ({ cls: String(e.className), rects: e.getClientRects().length, text: (e.textContent ?? "").slice(0, 100) })),
      );
      fs.writeFileSync(ntDone, JSON.stringify({ toasts, clicked, all }));
    } catch (e) {
      fs.writeFileSync(ntDone, JSON.stringify({ toasts: [], error: e.message.split("\n")[0] }));
    } finally {
      ntBusy = false;
    }
  }, 200);
  // The suite's quick input handshake: as it starts a call that shows input boxes (the sidecar's
  // mfa/tokenCode box titled "AWS STS: MFA code", or a palette command's prompts), it writes
  // .quickinput-request: {steps: [{title, kind: "input" | "pick", password, value | escape,
  // screenshot}], waitMs}. For each step the driver waits for a visible quick input of that kind whose
  // title contains `title`, screenshots it when asked, then types `value` and presses Enter (or
  // presses Escape). It answers in .quickinput-done with what each box showed: never what was typed.
  const qiReq = path.join(artifacts, ".quickinput-request");
  const qiDone = path.join(artifacts, ".quickinput-done");
  let qiBusy = false;
  const qiPoll = setInterval(async () => {
    if (qiBusy || !fs.existsSync(qiReq)) return;
    qiBusy = true;
    let ask = {};
    try {
      ask = JSON.parse(fs.readFileSync(qiReq, "utf8") || "{}");
    } catch {}
    fs.rmSync(qiReq);
    const answer = { steps: [] };
    try {
      const widget = page.locator(".quick-input-widget");
      const box = widget.locator(".quick-input-box input");
      let last;
      for (const step of ask.steps ?? []) {
        const kind = step.kind ?? "input";
        await page.waitForFunction(
          ({ title, kind, password }) => {
            const shown = (el) => !!el && el.getClientRects().length > 0 && getComputedStyle(el).visibility !== "hidden";
            const w = document.querySelector(".quick-input-widget");
            if (!shown(w)) return false;
            const input = w.querySelector(".quick-input-box input");
            if (!shown(input)) return false;
            if (password !== undefined && (input.type === "password") !== password) return false;
            const rows = [...w.querySelectorAll(".quick-input-list .monaco-list-row")].filter(shown);
            if ((kind === "pick") !== rows.length > 0) return false;
            return (w.querySelector(".quick-input-title")?.textContent ?? "").includes(title ?? "");
          },
          { title: step.title, kind, password: step.password },
          { timeout: Number(ask.waitMs || 20000), polling: 100 },
        );
        const seen = {
          title: ((await widget.locator(".quick-input-title").textContent()) ?? "").trim(),
          message: ((await widget.locator(".quick-input-message").textContent().catch(() => "")) ?? "").trim(),
          placeholder: (await box.getAttribute("placeholder")) ?? "",
          password: (await box.getAttribute("type")) === "password",
          kind,
        };
        if (step.screenshot) {
          await page.screenshot({ path: path.join(artifacts, step.screenshot) });
          seen.screenshot = path.join(artifacts, step.screenshot);
          console.log(`e2e: screenshot ${seen.screenshot}`);
        }
        if (step.escape) {
          await box.press("Escape");
          seen.answer = "escape";
        } else {
          await box.fill(String(step.value ?? ""));
          await box.press("Enter");
          seen.answer = "enter";
        }
        answer.steps.push(seen);
        last = seen;
      }
      // Done once the last box closed (or another one with a different title replaced it).
      if (last) {
        await page.waitForFunction(
          (title) => {
            const w = document.querySelector(".quick-input-widget");
            return !w || w.getClientRects().length === 0 || (w.querySelector(".quick-input-title")?.textContent ?? "").trim() !== title;
          },
          last.title,
          { timeout: 10000, polling: 100 },
        );
      }
      answer.ok = true;
    } catch (e) {
      answer.error = e.message.split("\n")[0];
      console.log(`e2e: quick input: ${answer.error} (after ${answer.steps.length} step(s))`);
    } finally {
      fs.writeFileSync(qiDone, JSON.stringify(answer));
      qiBusy = false;
    }
  }, 200);
  const t0 = Date.now();
  await page.goto(url);
  const timer = setTimeout(() => finish(), timeoutMs);
  await finished;
  clearTimeout(timer);
  clearInterval(poll);
  clearInterval(sbPoll);
  clearInterval(qiPoll);
  clearInterval(ntPoll);
  // Where the workbench keeps SecretStorage (the extension's copy of the sessions): an encrypted
  // localStorage entry when the server mints the key part (POST <base>/mint-key), else only memory.
  const secrets = await page
    .evaluate(() => {
      const v = localStorage.getItem("secrets.provider");
      return v === null ? "no localStorage entry (secrets live in this page's memory only)" : `localStorage entry of ${v.length} chars (encrypted)`;
    })
    .catch((e) => `unknown (${e.message.split("\n")[0]})`);
  console.log(`e2e: workbench SecretStorage: ${secrets}`);
  for (const [first, n] of repeats) if (n > 1) console.log(`e2e: page ${JSON.stringify(first.slice(0, 160))} ${n} times in all`);
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
