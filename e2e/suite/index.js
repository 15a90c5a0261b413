// The e2e suite: runs inside a real VS Code extension host (code-server), loaded as extensionTestsPath.
// Plain CommonJS so nothing needs compiling. scripts/e2e.sh passes the local STS and paths through env.
"use strict";
const vscode = require("vscode");
const assert = require("node:assert/strict");
const fs = require("node:fs");
const path = require("node:path");
const net = require("node:net");
const { execFileSync } = require("node:child_process");

const env = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set (run through scripts/e2e.sh)`);
  return v;
};
const ARTIFACTS = env("E2E_ARTIFACTS");
// The VS Code version this run is on (scripts/e2e.sh): names the results and the screenshot.
const VERSION = process.env.E2E_VSCODE_VERSION || vscode.version;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const tests = [];
const test = (name, fn, opts = {}) => tests.push({ name, fn, ...opts });

function textOf(result) {
  return result.content.map((p) => (p instanceof vscode.LanguageModelTextPart || typeof p.value === "string" ? p.value : "")).join("");
}
function invoke(input, token) {
  return vscode.lm.invokeTool("STSTool", { input, toolInvocationToken: undefined }, token);
}
async function waitFor(what, fn, ms = 10000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}
async function setSetting(key, value) {
  const c = vscode.workspace.getConfiguration("awsflowSts");
  await c.update(key, value, vscode.ConfigurationTarget.Global);
  await waitFor(`awsflowSts.${key} = ${JSON.stringify(value)}`, () =>
    JSON.stringify(vscode.workspace.getConfiguration("awsflowSts").get(key)) === JSON.stringify(value));
}
/** Pids of sidecars this extension host started (its own children only, never another window's). */
function sidecarPids() {
  try {
    return execFileSync("pgrep", ["-P", String(process.pid), "-f", "awsflow-sts serve"], { encoding: "utf8" })
      .split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}
function assertNoSecrets(text) {
  assert.ok(!text.includes(env("E2E_DEMO_SECRET")), "the demo secret key reached the tool output");
  // A 40-character secret access key (base64 alphabet), standing alone.
  const secretLike = text.match(/(?<![A-Za-z0-9/+=])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])/g) ?? [];
  assert.deepEqual(secretLike, [], "secret-looking 40-char strings in the tool output");
  assert.ok(!/FwoGZXIvYXdzE|IQoJb3JpZ2lu/.test(text), "a session-token-looking string in the tool output");
}

test("STSTool is registered with the generated input schema", async () => {
  const ext = vscode.extensions.getExtension("awsflow.awsflow-sts");
  assert.ok(ext, "extension awsflow.awsflow-sts is not loaded");
  const tool = vscode.lm.tools.find((t) => t.name === "STSTool");
  assert.ok(tool, `STSTool not in vscode.lm.tools (${vscode.lm.tools.map((t) => t.name).join(", ")})`);
  const schema = JSON.parse(fs.readFileSync(env("E2E_SCHEMA"), "utf8"));
  assert.deepEqual(tool.inputSchema, schema);
  for (const tag of ["aws", "sts", "iam", "credentials", "identity"]) assert.ok(tool.tags.includes(tag), `tag ${tag} missing`);
});

test("settings point the extension at the local STS and the built sidecar", async () => {
  await setSetting("endpointUrl", env("E2E_STS_ENDPOINT"));
  await setSetting("region", env("E2E_STS_REGION"));
  await setSetting("sidecarPath", env("E2E_SIDECAR"));
  await setSetting("confirmCredentialCommands", false);
  await setSetting("maxAttempts", 1);
});

test("invokeTool GetCallerIdentity returns the account", async () => {
  const text = textOf(await invoke({ command: "GetCallerIdentity" }));
  assert.match(text, new RegExp(env("E2E_ACCOUNT")));
  assert.match(text, /Caller identity/);
  assert.equal(sidecarPids().length, 1, "one sidecar child of the extension host");
});

test("invokeTool AssumeRole stores a session and shows no secret", async () => {
  const text = textOf(await invoke({ command: "AssumeRole", params: { RoleArn: env("E2E_ROLE_ARN"), RoleSessionName: "e2e" } }));
  assert.match(text, /stored as session `?e2e/);
  assert.match(text, /ASIA…/);
  assertNoSecrets(text);
});

test("invokeTool GetCallerIdentity with Session e2e is the assumed role", async () => {
  const text = textOf(await invoke({ command: "GetCallerIdentity", params: { Session: "e2e" } }));
  const role = env("E2E_ROLE_ARN").split("/").pop();
  assert.match(text, new RegExp(`arn:aws:sts::${env("E2E_ACCOUNT")}:assumed-role/${role}/e2e`));
  assertNoSecrets(text);
});

/** POSTs JSON to one of the local STS's own /_localsts/ routes. */
async function localsts(route, body) {
  const res = await fetch(env("E2E_STS_ENDPOINT") + route, {
    method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body),
  });
  assert.equal(res.status, 200, `${route}: ${res.status}`);
  return res.json();
}

test("invokeTool runs every command against the local STS, and no secret reaches its text", async () => {
  const acct = env("E2E_ACCOUNT");
  const role = (name) => `arn:aws:iam::${acct}:role/${name}`;
  const dir = fs.mkdtempSync(path.join(require("node:os").tmpdir(), "e2e-"));
  const { samlAssertion } = await localsts("/_localsts/saml/assertion", {
    subject: "alice@example.com", roleSessionName: "alice",
    roles: [`${role("SamlDev")},arn:aws:iam::${acct}:saml-provider/DemoIdP`],
  });
  const { token } = await localsts("/_localsts/oidc/token", { sub: "e2e-job", aud: "demo-client", expiresIn: 600 });
  const { encodedMessage } = await localsts("/_localsts/encode-message", {
    Account: acct, PrincipalArn: `arn:aws:iam::${acct}:user/alice`, Action: "ec2:RunInstances", Resource: "*",
    ExplicitDeny: true, StatementID: "DenyE2E",
  });
  fs.writeFileSync(path.join(dir, "saml"), samlAssertion);
  fs.writeFileSync(path.join(dir, "token"), token);
  const secrets = [samlAssertion, token, env("E2E_TRADE_IN")];
  const calls = [
    [{ command: "GetAccessKeyInfo", params: { AccessKeyId: "ASIAY34FZKBOKMUTVV7A" } }, /account `\d{12}`/],
    [{ command: "AssumeRoleWithSAML", params: { SAMLAssertionFile: path.join(dir, "saml"), SessionName: "e2e-saml" } }, /stored as session `e2e-saml`/],
    [{ command: "AssumeRoleWithWebIdentity", params: { RoleArn: role("WebDev"), RoleSessionName: "e2e-web", WebIdentityTokenFile: path.join(dir, "token") } }, /Token subject: e2e-job/],
    [{ command: "AssumeRoot", params: { TargetPrincipal: "111122223333", TaskPolicyArn: "IAMAuditRootUserCredentials" } }, /arn:aws:iam::111122223333:root/],
    [{ command: "DecodeAuthorizationMessage", params: { EncodedMessage: encodedMessage } }, /Explicit deny[\s\S]*ec2:RunInstances[\s\S]*DenyE2E/],
    [{ command: "GetDelegatedAccessToken", params: { TradeInToken: env("E2E_TRADE_IN"), SessionName: "e2e-delegated" } }, /stored as session `e2e-delegated`/],
    [{ command: "GetFederationToken", params: { Name: "e2e-fed", PolicyArns: ["arn:aws:iam::aws:policy/ReadOnlyAccess"] } }, /federated-user\/e2e-fed/],
    [{ command: "GetSessionToken", params: { SerialNumber: `arn:aws:iam::${acct}:mfa/alice`, TokenCode: "123456", SessionName: "e2e-mfa", DurationSeconds: 900 } }, /stored as session `e2e-mfa`/],
    [{ command: "GetWebIdentityToken", params: { Audience: ["urn:e2e"], SigningAlgorithm: "ES384" } }, /Token algorithm: ES384/],
    [{ command: "AssumeRole", params: { RoleArn: role("Locked"), RoleSessionName: "e2e-denied" } }, /AccessDenied[\s\S]*trust policy/],
    [{ command: "ListSessions" }, /e2e-saml[\s\S]*e2e-web/],
    [{ command: "UseSession", params: { SessionName: "e2e-web" } }, /Later commands now run as session `e2e-web`/],
    [{ command: "GetCallerIdentity" }, /assumed-role\/WebDev\/e2e-web/],
    [{ command: "UseSession", params: { SessionName: "base" } }, /the base identity/],
    [{ command: "ForgetSession", params: { SessionName: "e2e-fed" } }, /e2e-fed` and its credentials were deleted/],
  ];
  for (const [input, want] of calls) {
    const text = textOf(await invoke(input));
    assert.match(text, want, `${input.command}: ${text.slice(0, 400)}`);
    assertNoSecrets(text);
    for (const s of secrets) assert.ok(!text.includes(s), `${input.command} echoed an input secret`);
    assert.doesNotMatch(text, /(?<!\d)123456(?!\d)/, `${input.command} echoed the MFA code`);
  }
  fs.rmSync(dir, { recursive: true, force: true });
});

test("executeCommand awsflowSts.whoAmI and awsflowSts.listSessions return results", async () => {
  const who = await vscode.commands.executeCommand("awsflowSts.whoAmI");
  assert.ok(who && typeof who.text === "string", `whoAmI returned ${JSON.stringify(who)}`);
  assert.match(who.text, new RegExp(env("E2E_ACCOUNT")));
  const list = await vscode.commands.executeCommand("awsflowSts.listSessions", {});
  assert.ok(list && typeof list.text === "string", `listSessions returned ${JSON.stringify(list)}`);
  assert.match(list.text, /e2e/);
  assertNoSecrets(list.text);
});

test("a cancelled invocation is cancelled while its STS call hangs", async () => {
  // An endpoint that accepts connections and never answers: the call can only end by cancellation.
  const sockets = new Set();
  const server = net.createServer((s) => { sockets.add(s); s.on("error", () => {}); });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  const hang = `http://127.0.0.1:${server.address().port}`;
  try {
    await setSetting("endpointUrl", hang);
    await vscode.commands.executeCommand("awsflowSts.restartSidecar");
    const cts = new vscode.CancellationTokenSource();
    const started = Date.now();
    const p = invoke({ command: "GetCallerIdentity" }, cts.token);
    await waitFor("the sidecar to connect to the hanging endpoint", () => sockets.size > 0, 10000);
    cts.cancel();
    let err;
    try {
      const r = await Promise.race([p, sleep(8000).then(() => "timeout")]);
      assert.notEqual(r, "timeout", "invokeTool did not settle within 8 s of cancellation");
      err = new Error(`resolved instead of cancelling: ${textOf(r)}`);
    } catch (e) {
      err = e;
    }
    assert.ok(err instanceof Error);
    assert.match(`${err.name} ${err.message}`, /cancel/i, `expected a cancellation, got ${err.name}: ${err.message}`);
    console.log(`[e2e] cancelled after ${Date.now() - started} ms: ${err.name}: ${err.message}`);
  } finally {
    for (const s of sockets) s.destroy();
    server.close();
    await setSetting("endpointUrl", env("E2E_STS_ENDPOINT"));
    await vscode.commands.executeCommand("awsflowSts.restartSidecar");
  }
  const text = textOf(await invoke({ command: "GetCallerIdentity" }));
  assert.match(text, new RegExp(env("E2E_ACCOUNT")));
});

test("a killed sidecar is restarted and the next invocation succeeds", async () => {
  const before = await waitFor("a running sidecar", () => sidecarPids()[0]);
  process.kill(before, "SIGKILL");
  await waitFor("the killed sidecar to go", () => !sidecarPids().includes(before));
  const text = textOf(await invoke({ command: "GetCallerIdentity" }));
  assert.match(text, new RegExp(env("E2E_ACCOUNT")));
  const after = sidecarPids();
  assert.equal(after.length, 1);
  assert.notEqual(after[0], before);
});

/** Asks the driver (e2e/run.mjs) for something only the page has; it answers through a file. */
async function askDriver(kind, body) {
  const req = path.join(ARTIFACTS, `.${kind}-request`);
  const done = path.join(ARTIFACTS, `.${kind}-done`);
  fs.rmSync(done, { force: true });
  fs.writeFileSync(req, body);
  await waitFor(`the driver's ${kind}`, () => fs.existsSync(done), 20000);
  const answer = fs.readFileSync(done, "utf8");
  fs.rmSync(done, { force: true });
  return answer;
}

test("palette command awsflowSts.assumeRole with arguments creates a session", async () => {
  const r = await vscode.commands.executeCommand("awsflowSts.assumeRole", { RoleArn: env("E2E_ROLE_ARN"), RoleSessionName: "e2e-cmd" });
  const text = typeof r === "string" ? r : r && r.text;
  assert.ok(typeof text === "string", `assumeRole returned ${JSON.stringify(r)}`);
  assert.match(text, /e2e-cmd/);
  assertNoSecrets(text);
  const list = textOf(await invoke({ command: "ListSessions" }));
  assert.match(list, /e2e-cmd/);
  assertNoSecrets(list);
});

test("UseSession shows the active session in the status bar (read from the DOM)", async () => {
  const text = textOf(await invoke({ command: "UseSession", params: { SessionName: "e2e-cmd" } }));
  assert.match(text, /e2e-cmd/);
  let items = [];
  await waitFor("a status bar item naming the session e2e-cmd", async () => {
    items = JSON.parse(await askDriver("statusbar", ""));
    return items.some((t) => t.includes("e2e-cmd"));
  }, 15000).catch((e) => {
    throw new Error(`${e.message}; status bar items: ${JSON.stringify(items)}`);
  });
  const item = items.find((t) => t.includes("e2e-cmd"));
  assert.match(item, new RegExp(env("E2E_ACCOUNT")), `status bar item ${JSON.stringify(item)}`);
  console.log(`[e2e] status bar: ${item}`);
});

test("screenshot of the workbench with the awsflow-sts output channel", async () => {
  await vscode.commands.executeCommand("notifications.clearAll");
  await vscode.commands.executeCommand("awsflowSts.showLog");
  await sleep(1500);
  // The driver (e2e/run.mjs) watches for the request, takes the screenshot and answers.
  const req = path.join(ARTIFACTS, ".screenshot-request");
  const done = path.join(ARTIFACTS, ".screenshot-done");
  fs.rmSync(done, { force: true });
  fs.writeFileSync(req, `workbench-${VERSION}.png`);
  await waitFor("the driver's screenshot", () => fs.existsSync(done), 20000);
  const answer = fs.readFileSync(done, "utf8");
  assert.equal(answer, "ok", answer);
});

exports.run = async function run() {
  let passed = 0;
  let failed = 0;
  const results = [];
  for (const t of tests) {
    const start = Date.now();
    try {
      await t.fn();
      passed++;
      results.push({ name: t.name, ok: true, ms: Date.now() - start });
      console.log(`[e2e] ok ${t.name} (${Date.now() - start} ms)`);
    } catch (err) {
      failed++;
      results.push({ name: t.name, ok: false, ms: Date.now() - start, error: String(err && err.stack || err) });
      console.log(`[e2e] FAIL ${t.name}: ${err && err.stack || err}`);
    }
  }
  fs.writeFileSync(path.join(ARTIFACTS, `results-${VERSION}.json`), JSON.stringify({ passed, failed, results }, null, 2));
  if (failed > 0) throw new Error(`${failed} e2e test(s) failed`);
};
