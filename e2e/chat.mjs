// The chat scenarios of `make e2e` (VS Code 1.139.1 only): Copilot Chat's own agent loop calls STSTool
// from the installed awsflow-sts VSIX, with the model replaced by the scripted one in
// extension/test/fake-lm (installed next to it). scripts/e2e.sh starts the local STS and a VS Code
// server with both extensions; this driver opens the workbench in Debian's chromium (playwright-core),
// writes the model's script, sends each prompt, clicks the confirmation cards and the stop button,
// and checks what the chat shows (DOM), what the model was sent (the model log) and what the sidecar
// holds and logged (awsflowSts commands through the scripted model's bridge, the output channel's log).
//   1. "Who am I?"                      GetCallerIdentity, no card; the answer shows account and ARN
//   2. "Assume role Dev …, switch to it" the card (title and message checked) → Allow Once → the session
//                                       is stored and active, in the status bar; the model got the
//                                       masked key id and the expiry
//   3. "Assume role Dev …" → Skip       STSTool is not invoked; the sessions are unchanged
//   4. AssumeRole of Locked (denied)    the model gets an actionable error; an encoded authorization
//                                       failure message in the prompt is decoded
//   5. role chaining through Session, then GetCallerIdentity as the new session
//   6. a GetCallerIdentity that hangs, stopped with the chat's stop button: $/cancelRequest reaches
//      the sidecar and the call ends within a second
//   then: no secret the local STS issued (read back with sessions/export) is in the model log, the
//   chat view or the output channel.
// Screenshots (chat-*.png), the model log (chat-lm-log.jsonl), the chat view's text
// (chat-transcript.txt) and results-chat-<version>.json go to E2E_ARTIFACTS. Prints one line per test
// and "N passed, N failed".
// Env (from scripts/e2e.sh): E2E_URL_BASE, E2E_WORKSPACE, E2E_USER_DATA, E2E_ARTIFACTS,
// E2E_BROWSER_PROFILE, E2E_LM_SCRIPT, E2E_LM_LOG, E2E_LM_CONTROL, E2E_STS_ENDPOINT, E2E_STS_REGION,
// E2E_ROLE_ARN, E2E_ACCOUNT, E2E_DEMO_SECRET, E2E_VSCODE_VERSION; E2E_CHAT_TIMEOUT_MS (default 600000).
import { createRequire } from "node:module";
import fs from "node:fs";
import path from "node:path";
import net from "node:net";
import { readOutputLog } from "./lib/output-log.cjs";

const require = createRequire(new URL("./.tools/package.json", import.meta.url));
const { chromium } = require("playwright-core");

const env = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set (run through scripts/e2e.sh)`);
  return v;
};
const ART = env("E2E_ARTIFACTS");
const USER_DATA = env("E2E_USER_DATA");
const LM_LOG = env("E2E_LM_LOG");
const LM_SCRIPT = env("E2E_LM_SCRIPT");
const CTRL = env("E2E_LM_CONTROL");
const STS = env("E2E_STS_ENDPOINT");
const REGION = env("E2E_STS_REGION");
const ACCOUNT = env("E2E_ACCOUNT");
const ROLE_DEV = env("E2E_ROLE_ARN");
const VERSION = process.env.E2E_VSCODE_VERSION || "1.139.1";
const role = (name) => `arn:aws:iam::${ACCOUNT}:role/${name}`;
const VENDOR = "awsflow-e2e";
const MODEL_ID = "scripted";

const t0 = Date.now();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const say = (...a) => console.log(`e2e chat: ${a.join(" ")}`);
const verbose = (...a) => process.env.E2E_VERBOSE && say(...a);

// ── the model's script ──────────────────────────────────────────────────────────────────────────────
const CARD_TITLE = "Assume AWS role?";
const KEPT = "The credentials stay in the awsflow-sts sidecar; chat sees only the masked access key id.";
/** The AssumeRole card as extension/src/invocation.ts confirmation() writes it (Markdown). */
function assumeRoleCard(roleArn, sessionName, fromSession) {
  return {
    title: CARD_TITLE,
    message: [
      `Assume role \`${roleArn}\` for the default 1 hour.`,
      fromSession ? `Signed with the credentials of session \`${fromSession}\`.` : "Signed with the default identity (the active session, or your configured AWS profile).",
      `Stored as session \`${sessionName}\`.`,
      KEPT,
    ].join("\n\n"),
    codes: [roleArn, ...(fromSession ? [fromSession] : []), sessionName],
  };
}

const ANSWER = (name) => `Scripted answer (${name})`;
const S = {
  whoami: {
    prompt: "Who am I?",
    calls: [{ tool: "STSTool", input: { command: "GetCallerIdentity" } }],
    answer: `${ANSWER("whoami")}: STSTool says\n\n{{result}}`,
  },
  assume: {
    prompt: "Assume role Dev as session chat-dev and switch to it.",
    calls: [
      { tool: "STSTool", input: { command: "AssumeRole", params: { RoleArn: ROLE_DEV, RoleSessionName: "chat-dev" } } },
      { tool: "STSTool", input: { command: "UseSession", params: { SessionName: "chat-dev" } } },
    ],
    answer: `${ANSWER("assume")}:\n\n{{result1}}\n\n{{result2}}`,
  },
  skip: {
    prompt: "Assume role Dev as session chat-skip.",
    calls: [{ tool: "STSTool", input: { command: "AssumeRole", params: { RoleArn: ROLE_DEV, RoleSessionName: "chat-skip" } } }],
    answer: `${ANSWER("skip")}: the tool result was\n\n{{result}}`,
  },
  denied: {
    prompt: "Assume role Locked as session chat-locked.",
    calls: [{ tool: "STSTool", input: { command: "AssumeRole", params: { RoleArn: role("Locked"), RoleSessionName: "chat-locked" } } }],
    answer: `${ANSWER("denied")}:\n\n{{result}}`,
  },
  decode: {
    // The model takes the encoded message out of the pasted error.
    promptPattern: "^Why was I denied\\?[\\s\\S]*Encoded authorization failure message: ([A-Za-z0-9_\\-]+)",
    calls: [{ tool: "STSTool", input: { command: "DecodeAuthorizationMessage", params: { EncodedMessage: "{{1}}" } } }],
    answer: `${ANSWER("decode")}:\n\n{{result|until:Decoded message:}}`,
  },
  chain: {
    prompt: "From session chat-dev, assume role Ops as session chat-ops, then tell me who that is.",
    calls: [
      { tool: "STSTool", input: { command: "AssumeRole", params: { RoleArn: role("Ops"), RoleSessionName: "chat-ops", Session: "chat-dev" } } },
      { tool: "STSTool", input: { command: "GetCallerIdentity", params: { Session: "chat-ops" } } },
    ],
    answer: `${ANSWER("chain")}:\n\n{{result1}}\n\n{{result2}}`,
  },
  stop: {
    prompt: "Who am I? (this call hangs until it is stopped)",
    calls: [{ tool: "STSTool", input: { command: "GetCallerIdentity" } }],
    answer: `${ANSWER("stop")}: {{result}}`,
  },
};
const NAMES = Object.keys(S);
const INDEX = Object.fromEntries(NAMES.map((n, i) => [n, i]));
fs.writeFileSync(
  LM_SCRIPT,
  JSON.stringify({ scenarios: NAMES.map((name) => ({ name, ...S[name] })), fallback: "Scripted answer (fallback): no scenario matches this request." }, null, 2),
);

// ── settings: the remote's Machine settings file (a web window ignores machine-scoped user settings) ─
const MACHINE = path.join(USER_DATA, "Machine", "settings.json");
function writeMachineSettings(endpointUrl) {
  let base = {};
  try {
    base = JSON.parse(fs.readFileSync(path.join(USER_DATA, "User", "settings.json"), "utf8"));
  } catch {}
  fs.mkdirSync(path.dirname(MACHINE), { recursive: true });
  const settings = {
    ...base,
    "awsflowSts.endpointUrl": endpointUrl,
    "awsflowSts.region": REGION,
    // Debug: the sidecar logs every request (method, id, duration, error code) and each $/cancelRequest.
    "awsflowSts.logLevel": "debug",
  };
  fs.writeFileSync(`${MACHINE}.tmp`, JSON.stringify(settings, null, 2));
  fs.renameSync(`${MACHINE}.tmp`, MACHINE);
}
writeMachineSettings(STS);

// ── the scripted model's command bridge ─────────────────────────────────────────────────────────────
let reqId = 0;
/** Asks fake-lm to run a command or an eval; resolves with its answer ({ok, result | error}). */
async function bridge(ask, ms = 30000) {
  const id = `${process.pid}-${++reqId}`;
  fs.writeFileSync(path.join(CTRL, `req-${id}.tmp`), JSON.stringify(ask));
  fs.renameSync(path.join(CTRL, `req-${id}.tmp`), path.join(CTRL, `req-${id}.json`));
  const end = Date.now() + ms;
  const f = path.join(CTRL, `done-${id}.json`);
  for (;;) {
    if (fs.existsSync(f)) return JSON.parse(fs.readFileSync(f, "utf8"));
    if (Date.now() > end) {
      const started = fs.existsSync(path.join(CTRL, `started-${id}.json`));
      return { ok: false, error: `no answer within ${ms} ms (${started ? "started" : "never picked up: is the scripted model's extension active?"})` };
    }
    await sleep(50);
  }
}
/** Runs a command in the extension host and returns its result; throws with the command's error. */
async function cmd(command, ...args) {
  const r = await bridge({ command, args });
  if (!r.ok) throw new Error(`${command}: ${r.error}`);
  return r.result;
}
async function evalIn(what, extra = {}, ms) {
  const r = await bridge({ eval: what, ...extra }, ms);
  if (!r.ok) throw new Error(`eval ${what}: ${r.error}`);
  return r.result;
}
/** Sends a prompt in agent mode to the scripted model; `done` settles when the turn ends or a card waits. */
function openChat(query) {
  const started = Date.now();
  const done = bridge(
    { command: "workbench.action.chat.open", args: [{ mode: "agent", query, modelSelector: { vendor: VENDOR, id: MODEL_ID }, blockOnResponse: true }] },
    120000,
  );
  return { started, done };
}
async function sessions() {
  const r = await cmd("awsflowSts.listSessions", {});
  if (!r?.data || !Array.isArray(r.data.sessions)) throw new Error(`awsflowSts.listSessions returned ${JSON.stringify(r)}`);
  return r.data;
}
async function waitFor(what, fn, ms = 15000, every = 100) {
  const end = Date.now() + ms;
  let last;
  for (;;) {
    last = await fn();
    if (last) return last;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(every);
  }
}
async function waitSetting(key, value) {
  await waitFor(`${key} = ${JSON.stringify(value)} in the extension host`, async () => {
    const r = await evalIn("inspect", { keys: [key] });
    const i = r?.[key] ?? {};
    return JSON.stringify(i.globalRemoteValue ?? i.globalValue) === JSON.stringify(value);
  }, 20000, 250);
}

// ── the model log and the output channel ────────────────────────────────────────────────────────────
function lmLog() {
  if (!fs.existsSync(LM_LOG)) return [];
  return fs.readFileSync(LM_LOG, "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l));
}
/** The first request that carried the result of scenario `name`'s call number `step`: {req, callId, text}. */
function resultSeen(name, step = 0) {
  const prefix = `awsflowe2e_${INDEX[name]}_${step}_`;
  for (const l of lmLog()) {
    if (l.kind !== "message") continue;
    const p = l.parts.find((x) => x.type === "toolResult" && (x.callId ?? "").startsWith(prefix));
    if (p) return { req: l.req, callId: p.callId, text: p.text, isError: p.isError };
  }
  return undefined;
}
/** The model's tool calls for a scenario, in order: [{req, input}]. */
function callsMade(name) {
  return lmLog().filter((l) => l.kind === "response" && l.toolCall && l.scenario === name).map((l) => ({ req: l.req, ...l.toolCall }));
}
/** The extension's output channel (its log files in this run's user data). */
function outputLog() {
  return readOutputLog([USER_DATA]);
}
/** The sidecar's JSON log lines in the output channel, with their time in ms. */
function sidecarLines() {
  const out = [];
  for (const line of outputLog().text.split("\n")) {
    const i = line.indexOf('{"level"');
    if (i < 0) continue;
    try {
      const j = JSON.parse(line.slice(i));
      // zap's ISO 8601 time: 2026-01-02T15:04:05.000Z or …+0100.
      j.ms = Date.parse(String(j.time).replace(/([+-]\d\d)(\d\d)$/, "$1:$2"));
      out.push(j);
    } catch {}
  }
  return out;
}

/**
 * Waits until the output channel's log file holds everything the sidecar did so far: runs a
 * ListSessions now and waits for its line.
 */
async function logCaughtUp() {
  const at = Date.now();
  await sessions();
  await waitFor("the sidecar's log to reach the present", () => sidecarLines().some((l) => l.command === "ListSessions" && l.ms >= at - 5), 15000, 200);
}

// ── the browser ─────────────────────────────────────────────────────────────────────────────────────
const base = new URL(env("E2E_URL_BASE"));
const context = await chromium.launchPersistentContext(env("E2E_BROWSER_PROFILE"), {
  executablePath: process.env.E2E_CHROMIUM || "/usr/bin/chromium",
  headless: true,
  viewport: { width: 1600, height: 1000 },
  // vscode.env.clipboard in the web workbench is navigator.clipboard: the export below reads it back.
  permissions: ["clipboard-read", "clipboard-write"],
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
const page = context.pages()[0] ?? (await context.newPage());
const pageLog = fs.createWriteStream(path.join(ART, "chat-page-console.log"));
page.on("console", (m) => pageLog.write(`[${m.type()}] ${m.text()}\n`));
page.on("pageerror", (e) => pageLog.write(`[pageerror] ${e.message}\n`));

const shots = [];
async function shot(name) {
  // Copilot's "Set BYOK utility models" notice above the input is noise here.
  const notice = page.locator(".interactive-input-part .chat-input-notification-dismiss").first();
  if (await notice.isVisible().catch(() => false)) await notice.click({ timeout: 2000 }).catch(() => {});
  const file = path.join(ART, `chat-${name}.png`);
  await page.screenshot({ path: file });
  shots.push(path.basename(file));
  return file;
}
async function dump(name) {
  const html = await page.evaluate(() => document.querySelector(".interactive-session")?.outerHTML ?? "(no chat view)");
  fs.writeFileSync(path.join(ART, `chat-${name}.html`), html);
}

const SEL = {
  response: ".interactive-session .interactive-item-container.interactive-response",
  card: ".interactive-input-part .chat-tool-confirmation-carousel",
  stop: ".interactive-input-part .chat-execute-toolbar a.codicon-stop-circle",
};

/** The chat view's text, kept after each turn: the list is virtualized, so old turns leave the DOM. */
const transcript = [];
async function keepTranscript(label) {
  const text = await page.evaluate(() => document.querySelector(".interactive-session")?.textContent ?? "").catch(() => "");
  transcript.push(`── ${label}\n${text}`);
  fs.writeFileSync(path.join(ART, "chat-transcript.txt"), transcript.join("\n\n") + "\n");
}

/** Waits for the last response to hold `marker` and stop loading; returns the model's text (markdown parts only). */
async function waitForAnswer(marker, ms = 30000) {
  await page.waitForFunction(
    ({ sel, marker }) => {
      const rs = document.querySelectorAll(sel);
      const last = rs[rs.length - 1];
      return !!last && !last.classList.contains("chat-response-loading") && last.textContent.includes(marker);
    },
    { sel: SEL.response, marker },
    { timeout: ms, polling: 100 },
  );
  return page.evaluate((sel) => {
    const rs = document.querySelectorAll(sel);
    const last = rs[rs.length - 1];
    return [...last.querySelectorAll(":scope > .value > .chat-markdown-part")].map((e) => e.innerText.trim()).join("\n\n");
  }, SEL.response);
}

/** The tool rows of the last response: their text and state icon (check, circle-slash, error). */
async function toolRows() {
  return page.evaluate((sel) => {
    const rs = document.querySelectorAll(sel);
    const last = rs[rs.length - 1];
    return [...(last?.querySelectorAll(".chat-tool-invocation-part") ?? [])].map((e) => ({
      text: e.textContent.replace(/\s+/g, " ").trim().slice(0, 160),
      icon: [...e.querySelectorAll(".codicon")]
        .map((i) => [...i.classList].find((c) => c.startsWith("codicon-") && c !== "codicon-modifier-spin"))
        .filter(Boolean)[0],
    }));
  }, SEL.response);
}

/** Waits for the confirmation card above the chat input; returns its title, message, code spans and buttons. */
async function waitForCard(ms = 30000) {
  await page.waitForFunction(
    (card) => {
      const c = document.querySelector(card);
      return !!c && c.getClientRects().length > 0 && !!c.querySelector(".chat-confirmation-widget-title") && !!c.querySelector(".chat-confirmation-widget-message .chat-markdown-part");
    },
    SEL.card,
    { timeout: ms, polling: 100 },
  );
  await sleep(300); // let the card finish rendering before it is read and photographed
  return page.evaluate((card) => {
    const c = document.querySelector(card);
    const msg = c.querySelector(".chat-confirmation-widget-message .chat-markdown-part");
    return {
      title: c.querySelector(".chat-confirmation-widget-title")?.innerText.trim(),
      message: msg?.innerText,
      codes: [...(msg?.querySelectorAll("code") ?? [])].map((e) => e.innerText),
      input: c.querySelector(".chat-confirmation-widget-message .editor .view-lines")?.innerText.replace(/\u00a0/g, " ").trim(),
      buttons: [...c.querySelectorAll(".chat-confirmation-widget-buttons .monaco-text-button")].map((e) => e.innerText.trim()),
    };
  }, SEL.card);
}
const normalize = (s) => String(s ?? "").replace(/\u00a0/g, " ").split("\n").map((l) => l.trim()).join("\n").replace(/\n{3,}/g, "\n\n").trim();
function assertCard(seen, want) {
  if (seen.title !== want.title) throw new Error(`card title ${JSON.stringify(seen.title)}, expected ${JSON.stringify(want.title)}`);
  const text = want.message.replace(/`/g, "");
  if (normalize(seen.message) !== text) throw new Error(`card message:\n${normalize(seen.message)}\nexpected:\n${text}`);
  if (JSON.stringify(seen.codes) !== JSON.stringify(want.codes)) throw new Error(`card code spans ${JSON.stringify(seen.codes)}, expected ${JSON.stringify(want.codes)}`);
}
async function cardGone(ms = 10000) {
  await page.waitForFunction((card) => {
    const c = document.querySelector(card);
    return !c || c.getClientRects().length === 0;
  }, SEL.card, { timeout: ms, polling: 100 });
}
/**
 * Clicks a card's button and waits for the card to go. The card re-renders while it is up (its risk
 * badge), which can swallow a click: then the click is tried again, up to three times in all.
 */
async function answerCard(what, click) {
  for (let attempt = 1; ; attempt++) {
    await click();
    try {
      await cardGone(4000);
      return;
    } catch (e) {
      if (attempt === 3) throw new Error(`the card stayed up after ${attempt} clicks on ${what}`);
      say(`  the card is still up after clicking ${what}: clicking again`);
      await page.keyboard.press("Escape").catch(() => {});
      await sleep(300);
    }
  }
}
/** "Allow Once" is in the dropdown of the main button (which is "Allow in this Session"). */
async function allowOnce() {
  await answerCard("Allow Once", async () => {
    await page.click(`${SEL.card} .chat-confirmation-widget-buttons .monaco-button-dropdown .monaco-dropdown-button`);
    const once = page.locator('.context-view .monaco-menu .action-label[aria-label="Allow Once"]');
    await once.waitFor({ state: "visible", timeout: 5000 });
    await sleep(200);
    await once.click();
  });
}
async function skip() {
  await answerCard("Skip", () => page.click(`${SEL.card} .chat-confirmation-widget-buttons a.monaco-button.secondary:has-text("Skip")`));
}
/** Cards seen since the last reset, recorded in the page as they appear. */
async function watchCards() {
  await page.evaluate((card) => {
    window.__e2eCards = [];
    if (window.__e2eCardObserver) return;
    let shown = false;
    window.__e2eCardObserver = new MutationObserver(() => {
      const c = document.querySelector(card);
      const now = !!c && c.getClientRects().length > 0;
      if (now && !shown) window.__e2eCards.push(c.querySelector(".chat-confirmation-widget-title")?.textContent ?? "");
      shown = now;
    });
    window.__e2eCardObserver.observe(document.body, { childList: true, subtree: true, attributes: true });
  }, SEL.card);
}
const cardsSeen = () => page.evaluate(() => window.__e2eCards ?? []);
async function statusBar() {
  return page.$$eval(".statusbar-item", (els) =>
    els.map((e) => [e.textContent, e.getAttribute("aria-label")].filter(Boolean).join(" | ").replace(/\s+/g, " ").trim()));
}
/** After a failure: a pending card is skipped and a running turn stopped, so the next test starts clean. */
async function settle() {
  await page.keyboard.press("Escape").catch(() => {});
  if (await page.locator(SEL.card).isVisible().catch(() => false)) await skip().catch(() => {});
  if (await page.locator(SEL.stop).isVisible().catch(() => false)) await page.click(SEL.stop).catch(() => {});
  await sleep(1000);
}
const assert = (ok, message) => {
  if (!ok) throw new Error(message);
};

// ── tests ───────────────────────────────────────────────────────────────────────────────────────────
const tests = [];
const test = (name, fn) => tests.push({ name, fn });
const facts = {};

test("1. Who am I? → GetCallerIdentity without a card; the answer shows the account and ARN", async () => {
  await watchCards();
  const { done } = openChat(S.whoami.prompt);
  const text = await waitForAnswer(ANSWER("whoami"));
  await shot("1-whoami-answer");
  const d = await done;
  assert(d.ok && d.result?.type !== "confirmation", `chat.open ended with ${JSON.stringify(d)}`);
  assert((await cardsSeen()).length === 0, `a confirmation card appeared: ${JSON.stringify(await cardsSeen())}`);
  assert(text.includes(`Account: ${ACCOUNT}`), `the answer does not show the account:\n${text}`);
  const arn = new RegExp(`ARN: arn:aws:iam::${ACCOUNT}:user/\\S+`).exec(text);
  assert(arn, `the answer does not show the caller's ARN:\n${text}`);
  const calls = callsMade("whoami");
  assert(calls.length === 1 && calls[0].input.command === "GetCallerIdentity", `the model's calls: ${JSON.stringify(calls)}`);
  const seen = resultSeen("whoami");
  assert(seen && seen.text.includes(ACCOUNT), `the model never got a GetCallerIdentity result: ${JSON.stringify(seen)}`);
  const rows = await toolRows();
  assert(rows.some((r) => r.text.includes("Checking the caller identity") && r.icon === "codicon-check-compact"), `tool rows: ${JSON.stringify(rows)}`);
  say(`  answer: ${arn[0]}, Account: ${ACCOUNT}`);
});

test("2. Assume role → our card → Allow Once → session stored, active, in the status bar; the model got the masked key id and expiry", async () => {
  await watchCards();
  const before = await sessions();
  const { done } = openChat(S.assume.prompt);
  const card = await waitForCard();
  await shot("2-assume-card");
  const pending = await done;
  assert(pending.ok && pending.result?.type === "confirmation" && pending.result?.toolId === "STSTool", `chat.open while the card waits: ${JSON.stringify(pending)}`);
  assertCard(card, assumeRoleCard(ROLE_DEV, "chat-dev"));
  assert(card.buttons.some((b) => /Allow/.test(b)) && card.buttons.includes("Skip"), `card buttons ${JSON.stringify(card.buttons)}`);
  assert(before.sessions.every((s) => s.name !== "chat-dev"), "chat-dev existed before Allow Once");
  await allowOnce();
  const text = await waitForAnswer(ANSWER("assume"));
  await shot("2-assume-answer");
  assert(/AssumeRole succeeded/.test(text) && text.includes(`assumed-role/Dev/chat-dev`), `the answer does not quote the stored session:\n${text}`);
  // The sidecar holds it, as the default identity.
  const after = await sessions();
  const s = after.sessions.find((x) => x.name === "chat-dev");
  assert(s, `no session chat-dev in the sidecar: ${after.sessions.map((x) => x.name)}`);
  assert(s.arn === `arn:aws:sts::${ACCOUNT}:assumed-role/Dev/chat-dev`, `chat-dev's ARN ${s.arn}`);
  assert(after.active === "chat-dev", `the active identity is ${after.active}`);
  // The status bar (DOM) names it.
  let items = [];
  await waitFor("a status bar item naming session chat-dev", async () => {
    items = await statusBar();
    return items.some((t) => t.includes("chat-dev") && t.includes(ACCOUNT));
  }).catch((e) => {
    throw new Error(`${e.message}; status bar: ${JSON.stringify(items)}`);
  });
  const item = items.find((t) => t.includes("chat-dev")).split(" | ")[0];
  // The model's next request carried the masked key id and the expiry, not the key id itself.
  const seen = resultSeen("assume", 0);
  assert(seen, "no request carried the AssumeRole result");
  const call = callsMade("assume")[0];
  assert(seen.req === call.req + 1, `the AssumeRole result came with request #${seen.req}, the call was made in #${call.req}`);
  const masked = /ASIA…[A-Z0-9]{4}/.exec(seen.text)?.[0];
  assert(masked, `no masked key id (ASIA…XXXX) in what the model got:\n${seen.text}`);
  assert(masked === s.accessKeyId, `the model got key ${masked}, the sidecar lists ${s.accessKeyId}`);
  assert(seen.text.includes(s.expiration), `the model did not get the expiry ${s.expiration}:\n${seen.text}`);
  facts.assume = { masked, expiration: s.expiration, statusBar: item, req: seen.req };
  say(`  card: ${JSON.stringify(card.title)} / ${JSON.stringify(normalize(card.message).split("\n")[0])}`);
  say(`  sidecar: chat-dev ${s.arn} (active); status bar: ${item}`);
  say(`  model request #${seen.req} carried: key ${masked}, expires ${s.expiration}`);
  // Back to the base identity, so the next scenarios sign as the demo user.
  await cmd("awsflowSts.switchSession", { SessionName: "base" });
  await cmd("notifications.clearAll");
});

test("3. The same card → Skip: STSTool is not invoked and the sidecar's sessions are unchanged", async () => {
  await watchCards();
  const before = await sessions();
  // The sidecar logs each STSTool command it runs ("command done" / "command failed", with the command).
  const assumes = (since) => sidecarLines().filter((l) => /^command /.test(l.msg ?? "") && l.command === "AssumeRole" && l.ms >= since);
  const { started, done } = openChat(S.skip.prompt);
  const card = await waitForCard();
  await shot("3-skip-card");
  await done;
  assertCard(card, assumeRoleCard(ROLE_DEV, "chat-skip"));
  await skip();
  const text = await waitForAnswer(ANSWER("skip"));
  await shot("3-skip-answer");
  const seen = resultSeen("skip");
  assert(seen && /chose to skip/.test(seen.text), `the model's tool result: ${JSON.stringify(seen)}`);
  const rows = await toolRows();
  assert(rows.some((r) => r.icon === "codicon-circle-slash-compact"), `tool rows: ${JSON.stringify(rows)}`);
  await sleep(1000);
  const after = await sessions();
  const key = (d) => JSON.stringify({ active: d.active, s: d.sessions.map((x) => [x.name, x.createdAt, x.accessKeyId]) });
  assert(key(after) === key(before), `the sessions changed:\nbefore ${key(before)}\nafter  ${key(after)}`);
  await logCaughtUp();
  const ran = assumes(started);
  assert(ran.length === 0, `the sidecar ran AssumeRole during the skipped turn: ${JSON.stringify(ran)}`);
  say(`  the model got: ${JSON.stringify(seen.text)}; sessions unchanged (${after.sessions.map((x) => x.name).join(", ")}); no AssumeRole reached the sidecar`);
  assert(text.includes("chose to skip"), `the answer: ${text}`);
});

test("4. A denied AssumeRole gives the model an actionable error; an encoded failure message is decoded", async () => {
  await watchCards();
  // a) Locked trusts only another account.
  const { done } = openChat(S.denied.prompt);
  const card = await waitForCard();
  await shot("4-denied-card");
  await done;
  assertCard(card, assumeRoleCard(role("Locked"), "chat-locked"));
  await allowOnce();
  const text = await waitForAnswer(ANSWER("denied"));
  await shot("4-denied-answer");
  const seen = resultSeen("denied");
  assert(seen, "no request carried the denied AssumeRole's result");
  for (const want of [/AccessDenied/, new RegExp(`role/Locked`), /What to do/, /trust policy names this caller/, /sts:AssumeRole/]) {
    assert(want.test(seen.text), `the model's error does not match ${want}:\n${seen.text}`);
  }
  assert(text.includes("role/Locked"), `the answer does not name the role:\n${text}`);
  assert(!(await sessions()).sessions.some((x) => x.name === "chat-locked"), "a denied AssumeRole stored chat-locked");
  say(`  the model got: ${JSON.stringify(seen.text.slice(0, 200))}…`);

  // b) An EC2 error with an encoded authorization failure message, minted by the local STS.
  const resource = `arn:aws:ec2:${REGION}:${ACCOUNT}:instance/*`;
  const res = await fetch(`${STS}/_localsts/encode-message`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      account: ACCOUNT, principalArn: `arn:aws:iam::${ACCOUNT}:user/alice`, action: "ec2:RunInstances", resource,
      explicitDeny: true, statementId: "DenyLargeInstances", sourcePolicy: `arn:aws:organizations::${ACCOUNT}:policy/o-demo/service_control_policy/p-demo`,
      context: { "ec2:InstanceType": ["p5.48xlarge"] },
    }),
  });
  const body = await res.text();
  assert(res.status === 200, `POST /_localsts/encode-message: ${res.status} ${body}`);
  const { encodedMessage } = JSON.parse(body);
  await watchCards();
  const decode = openChat(
    `Why was I denied? An error occurred (UnauthorizedOperation) when calling the RunInstances operation: You are not authorized to perform this operation. Encoded authorization failure message: ${encodedMessage}`,
  );
  const answer = await waitForAnswer(ANSWER("decode"));
  await shot("4-decode-answer");
  await decode.done;
  assert((await cardsSeen()).length === 0, `a card appeared for DecodeAuthorizationMessage: ${JSON.stringify(await cardsSeen())}`);
  const calls = callsMade("decode");
  assert(calls.length === 1 && calls[0].input.command === "DecodeAuthorizationMessage" && calls[0].input.params?.EncodedMessage === encodedMessage,
    `the model's call: ${JSON.stringify(calls).slice(0, 300)}`);
  for (const want of ["Explicit deny", "ec2:RunInstances", resource, "DenyLargeInstances"]) {
    assert(answer.includes(want), `the answer does not name ${want}:\n${answer.slice(0, 800)}`);
  }
  say(`  decoded: ${JSON.stringify(answer.split("\n").find((l) => l.includes("ec2:RunInstances")))}`);
});

test("5. Role chaining through Session, then GetCallerIdentity as that session → the assumed-role ARN", async () => {
  await watchCards();
  const { done } = openChat(S.chain.prompt);
  const card = await waitForCard();
  await shot("5-chain-card");
  await done;
  assertCard(card, assumeRoleCard(role("Ops"), "chat-ops", "chat-dev"));
  await allowOnce();
  const text = await waitForAnswer(ANSWER("chain"));
  await shot("5-chain-answer");
  const arn = `arn:aws:sts::${ACCOUNT}:assumed-role/Ops/chat-ops`;
  const who = resultSeen("chain", 1);
  assert(who && who.text.includes(arn), `GetCallerIdentity as chat-ops gave the model:\n${who?.text}`);
  assert(text.includes(arn), `the answer does not show ${arn}:\n${text}`);
  const s = (await sessions()).sessions.find((x) => x.name === "chat-ops");
  assert(s && s.source === "chat-dev" && s.chained === true, `session chat-ops: ${JSON.stringify(s)}`);
  say(`  chat-ops made from ${s.source} (chained); GetCallerIdentity as chat-ops: ${arn}`);
});

test("6. A hanging call stopped with the chat's stop button: $/cancelRequest reaches the sidecar, the call ends within a second", async () => {
  // An endpoint that accepts connections and never answers: the call can only end by cancellation.
  const sockets = new Set();
  const server = net.createServer((sock) => {
    sockets.add(sock);
    sock.on("error", () => {});
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  const hang = `http://127.0.0.1:${server.address().port}`;
  try {
    const updates = () => sidecarLines().filter((l) => l.method === "settings/update").length;
    const updatesBefore = updates();
    writeMachineSettings(hang);
    await waitSetting("awsflowSts.endpointUrl", hang);
    // The extension passes the change to the running sidecar (settings/update) before any later call.
    await waitFor("the sidecar's settings/update", () => updates() > updatesBefore, 15000, 200);
    await watchCards();
    await page.evaluate((stop) => {
      window.__e2eStopAt = undefined;
      window.__e2eTurnEndAt = undefined;
      document.addEventListener("click", (e) => {
        if (window.__e2eStopAt === undefined && e.target instanceof Element && e.target.closest(stop)) window.__e2eStopAt = Date.now();
      }, true);
    }, SEL.stop);
    const { done } = openChat(S.stop.prompt);
    await waitFor("the sidecar to connect to the hanging endpoint", () => sockets.size > 0, 20000);
    await page.locator(SEL.stop).waitFor({ state: "visible", timeout: 10000 });
    await sleep(500); // the call is in flight in the sidecar
    await shot("6-stop-running");
    const rowsRunning = await toolRows();
    // Record when the turn stops loading, in the page, while the click happens.
    await page.evaluate((sel) => {
      const check = () => {
        const rs = document.querySelectorAll(sel);
        const last = rs[rs.length - 1];
        if (window.__e2eStopAt !== undefined && last && !last.classList.contains("chat-response-loading") && window.__e2eTurnEndAt === undefined) {
          window.__e2eTurnEndAt = Date.now();
        }
      };
      new MutationObserver(check).observe(document.body, { childList: true, subtree: true, attributes: true, attributeFilter: ["class"] });
    }, SEL.response);
    await page.click(SEL.stop);
    await page.waitForFunction(() => window.__e2eTurnEndAt !== undefined, null, { timeout: 15000, polling: 50 });
    const { stopAt, turnEndAt } = await page.evaluate(() => ({ stopAt: window.__e2eStopAt, turnEndAt: window.__e2eTurnEndAt }));
    assert(stopAt, "the stop button's click was not seen in the page");
    const d = await Promise.race([done, sleep(10000).then(() => ({ ok: true, result: "still pending 10 s after the stop" }))]);
    verbose(`chat.open after the stop: ${JSON.stringify(d)}`);
    await sleep(300);
    await shot("6-stop-answer");
    // The sidecar's log: "cancel requested" for the tool/invoke in flight, then that request ending as cancelled.
    let cancel, ended;
    await waitFor("the sidecar's log of the cancelled tool/invoke", () => {
      const lines = sidecarLines();
      ended = lines.find((l) => l.method === "tool/invoke" && l.code === -32800 && l.ms >= stopAt - 5000);
      cancel = ended && lines.find((l) => l.msg === "cancel requested" && l.id === ended.id);
      return ended && cancel;
    }, 15000, 200).catch((e) => {
      throw new Error(`${e.message}; tool/invoke lines: ${JSON.stringify(sidecarLines().filter((l) => l.method === "tool/invoke" || l.msg === "cancel requested").slice(-4))}`);
    });
    const endedMs = ended.ms - stopAt;
    const cancelMs = cancel.ms - stopAt;
    const turnMs = turnEndAt - stopAt;
    facts.stop = { stopToCancelRequestMs: cancelMs, stopToToolEndMs: endedMs, stopToTurnEndMs: turnMs, sidecarCallMs: ended.duration_ms };
    say(`  stop click → $/cancelRequest in the sidecar ${cancelMs} ms → tool/invoke ended (code -32800, "${ended.msg}") ${endedMs} ms; chat turn over ${turnMs} ms after the click`);
    const rows = await toolRows();
    assert(rows.length > 0 && rows.every((r) => r.icon !== "codicon-check-compact"), `tool rows after stop: ${JSON.stringify(rows)} (while running: ${JSON.stringify(rowsRunning)})`);
    assert(!resultSeen("stop") || !/Caller identity/.test(resultSeen("stop").text), "the stopped call returned a result to the model");
    assert(endedMs < 1000, `the call ended ${endedMs} ms after the stop click (limit 1000 ms)`);
  } finally {
    for (const sock of sockets) sock.destroy();
    server.close();
    writeMachineSettings(STS);
  }
  await waitSetting("awsflowSts.endpointUrl", STS);
  const who = await waitFor("GetCallerIdentity against the local STS again", async () => {
    const r = await bridge({ command: "awsflowSts.whoAmI", args: [] });
    return r.ok && String(r.result?.text ?? "").includes(ACCOUNT) ? r.result.text : undefined;
  }, 20000, 500);
  verbose(`after the stop: ${who.split("\n")[0]}`);
});

test("No secret the local STS issued (read back with sessions/export) is in the model log, the chat view or the output channel", async () => {
  await keepTranscript("final");
  const list = await sessions();
  const names = list.sessions.map((s) => s.name);
  for (const want of ["chat-dev", "chat-ops"]) assert(names.includes(want), `session ${want} is gone: ${names}`);
  const secrets = [{ what: "the demo user's secret key", value: env("E2E_DEMO_SECRET") }];
  const keyIds = [];
  for (const s of list.sessions.filter((x) => x.kind === "credentials" && !x.expired)) {
    await evalIn("clearClipboard");
    const r = await cmd("awsflowSts.copyEnv", { SessionName: s.name, shell: "bash", confirm: false });
    assert(/^Copied \d+ variables for bash$/.test(String(r)), `copyEnv ${s.name} returned ${JSON.stringify(r)}`);
    const clip = await evalIn("clipboard");
    const vars = Object.fromEntries([...String(clip).matchAll(/^export ([A-Z_]+)='([^']*)'$/gm)].map((m) => [m[1], m[2]]));
    assert(/^[A-Za-z0-9/+]{40}$/.test(vars.AWS_SECRET_ACCESS_KEY ?? ""), `no secret key exported for ${s.name}`);
    assert((vars.AWS_SESSION_TOKEN ?? "").length > 20, `no session token exported for ${s.name}`);
    secrets.push({ what: `${s.name}'s secret key`, value: vars.AWS_SECRET_ACCESS_KEY }, { what: `${s.name}'s session token`, value: vars.AWS_SESSION_TOKEN });
    keyIds.push({ what: `${s.name}'s unmasked access key id`, value: vars.AWS_ACCESS_KEY_ID });
  }
  await evalIn("clearClipboard");
  const exported = list.sessions.filter((x) => x.kind === "credentials" && !x.expired).map((x) => x.name);
  // The model log raw and as the strings it holds (JSON escapes would hide a match).
  const lmRaw = fs.readFileSync(LM_LOG, "utf8");
  const lmStrings = [];
  const collect = (v) => {
    if (typeof v === "string") lmStrings.push(v);
    else if (v && typeof v === "object") Object.values(v).forEach(collect);
  };
  lmLog().forEach(collect);
  const places = {
    "the model log": lmRaw + "\n" + lmStrings.join("\n"),
    "the chat view": transcript.join("\n"),
    "the output channel": outputLog().text,
  };
  await logCaughtUp();
  places["the output channel"] = outputLog().text;
  assert(places["the output channel"].length > 0, `no awsflow-sts output channel log under ${USER_DATA}`);
  const found = [];
  for (const [where, text] of Object.entries(places)) {
    for (const s of secrets) if (text.includes(s.value)) found.push(`${s.what} is in ${where}`);
  }
  // What chat sees carries masked key ids only.
  for (const where of ["the model log", "the chat view"]) {
    for (const k of keyIds) if (k.value && places[where].includes(k.value)) found.push(`${k.what} is in ${where}`);
  }
  assert(found.length === 0, found.join("\n"));
  const requests = lmLog().filter((l) => l.kind === "request").length;
  say(`  ${secrets.length} secrets (the demo key; secret key and session token of ${exported.join(", ")}): none in the model log (${requests} requests, ${Math.round(lmRaw.length / 1024)} KB), the chat view (${places["the chat view"].length} chars) or the output channel (${places["the output channel"].length} chars); no unmasked key id reached chat`);
});

// ── run ─────────────────────────────────────────────────────────────────────────────────────────────
const results = [];
let finished = false;
function report() {
  const passed = results.filter((r) => r.ok).length;
  const failed = results.length - passed;
  fs.writeFileSync(path.join(ART, `results-chat-${VERSION}.json`), JSON.stringify({ passed, failed, results, facts, screenshots: shots }, null, 2));
  return { passed, failed };
}
const timeoutMs = Number(process.env.E2E_CHAT_TIMEOUT_MS || 600000);
const watchdog = setTimeout(async () => {
  if (finished) return;
  say(`FAIL: the chat scenarios did not finish within ${timeoutMs} ms (see chat-timeout.png)`);
  await shot("timeout").catch(() => {});
  for (const t of tests.slice(results.length)) results.push({ name: t.name, ok: false, ms: 0, error: `not finished within ${timeoutMs} ms` });
  const { passed, failed } = report();
  console.log(`${passed} passed, ${failed} failed`);
  await context.close().catch(() => {});
  process.exit(1);
}, timeoutMs);

let setupError;
try {
  const url = `${base.origin}/?folder=${encodeURIComponent(env("E2E_WORKSPACE"))}`;
  await page.goto(url);
  await page.waitForSelector(".monaco-workbench", { timeout: 90000 });
  await waitFor("the scripted model's extension to activate (its log's first line)", () => lmLog().some((l) => l.kind === "activated"), 90000, 200);
  say(`workbench up, scripted model active after ${Date.now() - t0} ms`);
  const inspected = await evalIn("inspect", { keys: ["awsflowSts.endpointUrl", "awsflowSts.logLevel", "awsflowSts.confirmCredentialCommands"] });
  const value = (k) => inspected[k]?.globalRemoteValue ?? inspected[k]?.globalValue ?? inspected[k]?.defaultValue;
  assert(value("awsflowSts.endpointUrl") === STS, `awsflowSts.endpointUrl is ${JSON.stringify(inspected["awsflowSts.endpointUrl"])} (the Machine settings ${MACHINE} did not apply)`);
  assert(value("awsflowSts.confirmCredentialCommands") !== false, "awsflowSts.confirmCredentialCommands is off: the cards would not show");
  const exts = await evalIn("extensions");
  const ours = exts.find((e) => e.id === "awsflow.awsflow-sts");
  assert(ours, `awsflow.awsflow-sts is not installed: ${JSON.stringify(exts)}`);
  // Copilot Chat (built in) stays off until chat is set up once: the Language Models editor does it.
  const manage = await bridge({ command: "workbench.action.chat.manage", args: [] }, 20000);
  assert(manage.ok, `workbench.action.chat.manage: ${manage.error}`);
  await sleep(1000);
  await page.keyboard.press("Escape");
  await waitFor("GitHub.copilot-chat to be active", async () => (await evalIn("extensions")).some((e) => e.id.toLowerCase() === "github.copilot-chat" && e.active), 60000, 500);
  await cmd("workbench.action.maximizeAuxiliaryBar");
  const models = await evalIn("models");
  assert(models.some((m) => m.vendor === VENDOR && m.id === MODEL_ID), `the scripted model is not offered: ${JSON.stringify(models)}`);
  const tools = await evalIn("tools");
  assert(tools.some((t) => t.name === "STSTool"), "STSTool is not in vscode.lm.tools");
  say(`Copilot Chat ready after ${Date.now() - t0} ms; awsflow-sts ${ours.version} from the VSIX; model ${VENDOR}/${MODEL_ID}`);
} catch (e) {
  setupError = e;
  say(`setup failed: ${e.message.split("\n")[0]}`);
  await shot("fail-setup").catch(() => {});
}

for (const t of tests) {
  if (setupError) {
    results.push({ name: t.name, ok: false, ms: 0, error: `not run: setup failed: ${setupError.message}` });
    console.log(`FAIL ${t.name}\n     not run: setup failed`);
    continue;
  }
  const start = Date.now();
  try {
    await t.fn();
    results.push({ name: t.name, ok: true, ms: Date.now() - start });
    console.log(`ok   ${t.name} (${Date.now() - start} ms)`);
  } catch (e) {
    const slug = /^(\d+)\./.exec(t.name)?.[1] ?? "secrets";
    await shot(`fail-${slug}`).catch(() => {});
    await dump(`fail-${slug}`).catch(() => {});
    results.push({ name: t.name, ok: false, ms: Date.now() - start, error: String(e.stack ?? e) });
    console.log(`FAIL ${t.name} (${Date.now() - start} ms)\n     ${String(e.message).split("\n").slice(0, 8).join("\n     ")}\n     (screenshot chat-fail-${slug}.png)`);
    await settle().catch(() => {});
  }
  await keepTranscript(t.name).catch(() => {});
}
finished = true;
clearTimeout(watchdog);
const { passed, failed } = report();
if (facts.stop) say(`stop → end of the tool call: ${facts.stop.stopToToolEndMs} ms (the sidecar's log; $/cancelRequest after ${facts.stop.stopToCancelRequestMs} ms; the chat turn over after ${facts.stop.stopToTurnEndMs} ms)`);
say(`artifacts: ${shots.join(", ")}, chat-lm-log.jsonl, chat-transcript.txt`);
console.log(`${passed} passed, ${failed} failed`);
await context.close().catch(() => {});
process.exit(failed ? 1 : 0);
