// Test only: a scripted language model for Copilot Chat's agent loop (vendor "awsflow-e2e", model
// "scripted"), a log of everything it is sent, and a small command bridge for the e2e driver.
// Plain CommonJS with no dependencies: scripts/e2e.sh packs this folder as it is.
//
// The script (the JSON file named by E2E_LM_SCRIPT, read again on every request, so the driver may
// rewrite it between turns):
//   { "scenarios": [ { "name": "whoami",
//                      "prompt": "Who am I?",              // the user's request, exactly
//                      "promptPattern": "…(\\S+)",          // or a regular expression for it
//                      "calls": [ { "tool": "STSTool", "input": { "command": "GetCallerIdentity" } } ],
//                      "answer": "STSTool answered:\n\n{{result}}" } ],
//     "fallback": "text for a request that matches no scenario" }
// For each request the model finds the newest user message whose request (the text Copilot wraps in
// <userRequest>…</userRequest>) is a scenario's prompt, counts the results of that scenario's tool
// calls after it, and either makes the next call or answers. In a call's input, "{{1}}", "{{2}}", …
// are promptPattern's capture groups. In the answer, {{result}} is the text of the last tool result,
// {{result1}}, {{result2}}, … the text of each, and {{result|until:TEXT}} what comes before TEXT.
// Call ids are awsflowe2e_<scenario>_<step>_<random>, so the state is rebuilt from the messages alone.
//
// The log (E2E_LM_LOG, JSON lines): "activated"; per request a "request" line (model, tool names,
// toolMode), a "toolDefinitions" line when the definitions of the tools matching E2E_LM_TOOL_FILTER
// (default STSTool) change, one "message" line per message with every part (text, toolCall,
// toolResult with its content as text, data, thinking), and a "response" line with what the model
// sent back. That file is exactly what the model saw.
//
// The bridge (E2E_LM_CONTROL, a directory): the driver writes req-<id>.json, either
// {"command": "...", "args": [...]} (vscode.commands.executeCommand) or {"eval": "tools" | "models" |
// "extensions" | "inspect" | "clipboard" | "clearClipboard", "keys": [...]}; the extension writes
// started-<id>.json at once and done-<id>.json {"ok", "result" | "error"} when it settles.
"use strict";
const vscode = require("vscode");
const fs = require("fs");
const path = require("path");

const VENDOR = "awsflow-e2e";
const MODEL_ID = "scripted";

let reqSeq = 0;
let lastToolDefs = "";

function log(obj) {
  const file = process.env.E2E_LM_LOG;
  if (!file) return;
  try {
    fs.appendFileSync(file, JSON.stringify({ t: new Date().toISOString(), ...obj }) + "\n");
  } catch (e) {
    console.error(`[e2e-lm] log write failed: ${e.message}`);
  }
}

function loadScript() {
  const file = process.env.E2E_LM_SCRIPT;
  if (!file) return { scenarios: [], fallback: "E2E_LM_SCRIPT is not set." };
  return JSON.parse(fs.readFileSync(file, "utf8"));
}

function roleName(role) {
  const R = vscode.LanguageModelChatMessageRole;
  for (const k of Object.keys(R)) if (R[k] === role) return k.toLowerCase();
  return String(role);
}

function decodeData(part) {
  const mime = part.mimeType ?? "";
  if (/^text\/|json|xml/.test(mime) && part.data) {
    try {
      return Buffer.from(part.data).toString("utf8");
    } catch {}
  }
  return `<${part.data?.byteLength ?? 0} bytes>`;
}

/** The text of a tool result's content (text parts, data parts as text, anything else as JSON). */
function resultText(content) {
  return (content ?? [])
    .map((c) => {
      if (typeof c?.value === "string") return c.value;
      if (c?.mimeType !== undefined) return decodeData(c);
      if (c?.value !== undefined) return JSON.stringify(c.value);
      return JSON.stringify(c);
    })
    .join("");
}

/**
 * A message part as plain JSON. The host's part classes are minified, so constructor names mean
 * nothing: instanceof first, then the shape.
 */
function serializePart(p) {
  const cls = p?.constructor?.name;
  if (p instanceof vscode.LanguageModelToolCallPart || (p?.callId !== undefined && p?.name !== undefined && "input" in p)) {
    return { type: "toolCall", callId: p.callId, name: p.name, input: p.input };
  }
  if (p instanceof vscode.LanguageModelToolResultPart || (p?.callId !== undefined && Array.isArray(p?.content))) {
    return { type: "toolResult", callId: p.callId, isError: p.isError, text: resultText(p.content) };
  }
  if ((vscode.LanguageModelThinkingPart && p instanceof vscode.LanguageModelThinkingPart) || (Array.isArray(p?.value) && p?.id !== undefined)) {
    return { type: "thinking", text: [].concat(p.value).join("") };
  }
  if (p instanceof vscode.LanguageModelTextPart || typeof p?.value === "string") return { type: "text", text: p.value };
  if (p?.mimeType !== undefined) return { type: "data", mimeType: p.mimeType, text: decodeData(p) };
  return { type: "unknown", cls, json: JSON.stringify(p)?.slice(0, 2000) };
}

function textOf(parts) {
  return parts.filter((p) => p.type === "text").map((p) => p.text).join("");
}

/** What the user typed: Copilot's agent prompt wraps it in <userRequest>…</userRequest>. */
function userRequestOf(text) {
  const m = /<userRequest>\s*([\s\S]*?)\s*<\/userRequest>/.exec(text);
  return m ? m[1] : undefined;
}

/** Replaces "{{N}}" in every string of a call's input with capture group N. */
function fill(value, groups) {
  if (typeof value === "string") return value.replace(/\{\{(\d+)\}\}/g, (_, n) => groups[Number(n)] ?? "");
  if (Array.isArray(value)) return value.map((v) => fill(v, groups));
  if (value && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fill(v, groups)]));
  return value;
}

/** The scenario a request is for, with promptPattern's capture groups; exact prompts first. */
function match(scenarios, request) {
  const exact = scenarios.findIndex((s) => s.prompt !== undefined && s.prompt === request);
  if (exact >= 0) return { index: exact, groups: [request] };
  for (let k = 0; k < scenarios.length; k++) {
    if (!scenarios[k].promptPattern) continue;
    const m = new RegExp(scenarios[k].promptPattern).exec(request);
    if (m) return { index: k, groups: [...m] };
  }
  return undefined;
}

const CALL_RE = /^awsflowe2e_(\d+)_(\d+)_/;

/** What the script says to do for this request: { scenario, index, step, call } or { answer }. */
function decide(script, msgs) {
  const scenarios = script.scenarios ?? [];
  for (let i = msgs.length - 1; i >= 0; i--) {
    const m = msgs[i];
    if (m.role !== "user") continue;
    const text = textOf(m.parts);
    const found = match(scenarios, userRequestOf(text) ?? text.trim());
    if (!found) continue;
    const s = scenarios[found.index];
    // The results of this scenario's calls after that message, in order.
    const results = [];
    for (let j = i + 1; j < msgs.length; j++) {
      for (const p of msgs[j].parts) {
        if (p.type !== "toolResult") continue;
        const c = CALL_RE.exec(p.callId ?? "");
        if (c && Number(c[1]) === found.index) results.push(p.text);
      }
    }
    const calls = s.calls ?? [];
    if (results.length < calls.length) {
      const call = calls[results.length];
      return { scenario: s, index: found.index, step: results.length, call: { ...call, input: fill(call.input ?? {}, found.groups) } };
    }
    // {{result}}, {{resultN}}; "|until:TEXT" keeps what comes before TEXT (a model quotes the point).
    const answer = (s.answer ?? "{{result}}").replace(/\{\{result(\d*)(?:\|until:([^}]*))?\}\}/g, (_, n, until) => {
      const r = (n ? results[Number(n) - 1] : results[results.length - 1]) ?? "";
      const cut = until ? r.indexOf(until) : -1;
      return (cut >= 0 ? r.slice(0, cut) : r).trim();
    });
    return { scenario: s, index: found.index, answer };
  }
  return { answer: script.fallback ?? "The scripted model has no scenario for this request." };
}

class ScriptedProvider {
  provideLanguageModelChatInformation(options, _token) {
    log({ kind: "info", silent: options?.silent });
    return [
      {
        id: MODEL_ID,
        name: "Scripted STS model",
        family: "awsflow-e2e-scripted",
        version: "1.0.0",
        tooltip: "awsflow-sts e2e: answers from a script",
        detail: "e2e",
        maxInputTokens: 200000,
        maxOutputTokens: 16000,
        isUserSelectable: true,
        // toolCalling makes the model usable in agent mode.
        capabilities: { toolCalling: true, imageInput: false },
      },
    ];
  }

  async provideLanguageModelChatResponse(model, messages, options, progress, token) {
    const req = ++reqSeq;
    const msgs = messages.map((m) => ({ role: roleName(m.role), name: m.name, parts: (m.content ?? []).map(serializePart) }));
    const tools = (options?.tools ?? []).map((t) => t.name);
    log({ req, kind: "request", model: model.id, toolMode: options?.toolMode, requestInitiator: options?.requestInitiator, tools, messages: msgs.length });
    const filter = new RegExp(process.env.E2E_LM_TOOL_FILTER || "^STSTool$");
    const defs = JSON.stringify((options?.tools ?? []).filter((t) => filter.test(t.name)));
    if (defs !== lastToolDefs) {
      lastToolDefs = defs;
      log({ req, kind: "toolDefinitions", tools: JSON.parse(defs) });
    }
    msgs.forEach((m, i) => log({ req, kind: "message", i, role: m.role, name: m.name, parts: m.parts }));

    let d;
    try {
      d = decide(loadScript(), msgs);
    } catch (e) {
      d = { answer: `The scripted model could not read its script: ${e.message}` };
    }
    const delayMs = Number(process.env.E2E_LM_DELAY_MS || 0);
    if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
    if (token.isCancellationRequested) {
      log({ req, kind: "response", cancelled: true });
      return;
    }
    if (d.call) {
      // The tool under the name this request offers it by.
      const want = d.call.tool ?? "STSTool";
      const offered = tools.includes(want);
      const callId = `awsflowe2e_${d.index}_${d.step}_${Math.random().toString(36).slice(2, 10)}`;
      progress.report(new vscode.LanguageModelToolCallPart(callId, want, d.call.input));
      log({ req, kind: "response", scenario: d.scenario.name, toolCall: { callId, name: want, input: d.call.input }, offered });
      return;
    }
    // Streamed in a few chunks, as a real model does.
    const text = d.answer;
    const chunk = Math.max(1, Math.ceil(text.length / 3));
    for (let i = 0; i < text.length; i += chunk) progress.report(new vscode.LanguageModelTextPart(text.slice(i, i + chunk)));
    log({ req, kind: "response", scenario: d.scenario?.name ?? null, text });
  }

  provideTokenCount(_model, text, _token) {
    if (typeof text === "string") return Math.ceil(text.length / 4);
    return Math.ceil(JSON.stringify((text?.content ?? []).map(serializePart)).length / 4);
  }
}

function evaluate(ask) {
  switch (ask.eval) {
    case "tools":
      return vscode.lm.tools.map((t) => ({ name: t.name, tags: t.tags }));
    case "models":
      return vscode.lm.selectChatModels({}).then((ms) => ms.map((x) => ({ vendor: x.vendor, id: x.id, name: x.name })));
    case "inspect":
      return Object.fromEntries((ask.keys ?? []).map((k) => [k, vscode.workspace.getConfiguration().inspect(k)]));
    case "extensions":
      return vscode.extensions.all
        .filter((e) => !e.id.startsWith("vscode."))
        .map((e) => ({ id: e.id, active: e.isActive, version: e.packageJSON.version }));
    case "clipboard":
      return vscode.env.clipboard.readText();
    case "clearClipboard":
      return vscode.env.clipboard.writeText("");
    default:
      throw new Error(`unknown eval ${JSON.stringify(ask.eval)}`);
  }
}

function startBridge(context) {
  const dir = process.env.E2E_LM_CONTROL;
  if (!dir) return;
  fs.mkdirSync(dir, { recursive: true });
  const timer = setInterval(() => {
    let names;
    try {
      names = fs.readdirSync(dir);
    } catch {
      return;
    }
    for (const n of names) {
      const m = /^req-(.+)\.json$/.exec(n);
      if (!m) continue;
      const id = m[1];
      const write = (name, o) => {
        fs.writeFileSync(path.join(dir, `${name}-${id}.tmp`), JSON.stringify({ at: Date.now(), ...o }));
        fs.renameSync(path.join(dir, `${name}-${id}.tmp`), path.join(dir, `${name}-${id}.json`));
      };
      let ask;
      try {
        ask = JSON.parse(fs.readFileSync(path.join(dir, n), "utf8"));
        fs.renameSync(path.join(dir, n), path.join(dir, `taken-${id}.json`));
      } catch (e) {
        try {
          fs.renameSync(path.join(dir, n), path.join(dir, `taken-${id}.json`));
        } catch {}
        write("done", { ok: false, error: `bad request: ${e.message}` });
        continue;
      }
      write("started", {});
      Promise.resolve()
        .then(() => (ask.eval ? evaluate(ask) : vscode.commands.executeCommand(ask.command, ...(ask.args ?? []))))
        .then(
          (r) => {
            let result;
            try {
              result = JSON.parse(JSON.stringify(r ?? null));
            } catch {
              result = String(r);
            }
            write("done", { ok: true, result });
          },
          (e) => write("done", { ok: false, error: String(e?.stack ?? e) }),
        );
    }
  }, 100);
  context.subscriptions.push({ dispose: () => clearInterval(timer) });
}

function activate(context) {
  context.subscriptions.push(vscode.lm.registerLanguageModelChatProvider(VENDOR, new ScriptedProvider()));
  startBridge(context);
  log({ kind: "activated", vscode: vscode.version, pid: process.pid });
  console.log(`[e2e-lm] scripted model ${VENDOR}/${MODEL_ID} registered (VS Code ${vscode.version})`);
}

function deactivate() {}

module.exports = { activate, deactivate };
