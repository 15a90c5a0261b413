// The e2e suite: runs inside a real VS Code extension host (code-server), loaded as extensionTestsPath.
// Plain CommonJS so nothing needs compiling. scripts/e2e.sh passes the local STS and paths through env.
"use strict";
const vscode = require("vscode");
const assert = require("node:assert/strict");
const fs = require("node:fs");
const path = require("node:path");
const net = require("node:net");
const { execFileSync } = require("node:child_process");
const { readOutputLog } = require("../lib/output-log.cjs");

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

const ACCOUNT = () => env("E2E_ACCOUNT");
const MFA_SERIAL = () => `arn:aws:iam::${ACCOUNT()}:mfa/alice`;
const ADMIN_ARN = () => `arn:aws:iam::${ACCOUNT()}:role/Admin`;

/** The sidecar's stored sessions (no secrets): the data of the awsflowSts.listSessions command's result. */
async function sessionsData() {
  const r = await vscode.commands.executeCommand("awsflowSts.listSessions", {});
  assert.ok(r && r.data && Array.isArray(r.data.sessions), `listSessions returned ${JSON.stringify(r)}`);
  return r.data;
}

/**
 * Runs call(), which shows quick inputs (the sidecar's MFA code box, a palette command's prompts),
 * while the driver (e2e/run.mjs) answers them step by step. Resolves to the call's value and what
 * each box showed; rejects if a box did not appear or the call failed.
 */
async function withQuickInput(steps, call, waitMs = 20000) {
  const req = path.join(ARTIFACTS, ".quickinput-request");
  const done = path.join(ARTIFACTS, ".quickinput-done");
  fs.rmSync(done, { force: true });
  fs.writeFileSync(req, JSON.stringify({ steps, waitMs }));
  const settled = Promise.resolve().then(call).then((value) => ({ value }), (error) => ({ error }));
  await waitFor("the driver's answer to the quick input", () => fs.existsSync(done), steps.length * (waitMs + 12000));
  const answer = JSON.parse(fs.readFileSync(done, "utf8"));
  fs.rmSync(done, { force: true });
  const r = await Promise.race([settled, sleep(20000).then(() => ({ error: new Error("the call did not end within 20 s of the driver's answer") }))]);
  if (!answer.ok) throw new Error(`quick input: ${answer.error} (boxes seen: ${JSON.stringify(answer.steps)})`);
  if (r.error) throw r.error;
  return { value: r.value, boxes: answer.steps };
}

/** The call's value if it ends within ms without anyone answering a box; else closes the box and fails. */
async function withoutPrompt(what, call, ms = 15000) {
  const r = await Promise.race([Promise.resolve().then(call).then((value) => ({ value })), sleep(ms).then(() => undefined)]);
  if (r) return r.value;
  // Most likely an MFA box is waiting for a code: close it so the suite goes on.
  const req = path.join(ARTIFACTS, ".quickinput-request");
  fs.writeFileSync(req, JSON.stringify({ steps: [{ title: "", escape: true }], waitMs: 3000 }));
  throw new Error(`${what} did not end within ${ms} ms: it waited for an answer nobody gave (an MFA prompt?)`);
}

const MFA_BOX = "AWS STS: MFA code";

/** The extension's output channel as its log file (every file of it the host wrote in this run). */
function outputLog() {
  return readOutputLog([process.env.E2E_USER_DATA, process.env.HOME].filter(Boolean));
}

test("MFA: an AssumeRole that needs a code shows the masked box; Escape cancels the call and stores nothing", async () => {
  // A stored MFA session of the device would answer without a box: none may be there yet.
  for (const s of (await sessionsData()).sessions.filter((s) => s.mfaSerial === MFA_SERIAL())) {
    await vscode.commands.executeCommand("awsflowSts.forgetSession", { SessionName: s.name });
  }
  const { value, boxes } = await withQuickInput([{ title: MFA_BOX, password: true, escape: true }], () =>
    invoke({ command: "AssumeRole", params: { RoleArn: ADMIN_ARN(), RoleSessionName: "e2e-admin-cancel", SerialNumber: MFA_SERIAL() } }),
  );
  const text = textOf(value);
  assert.match(text, /no MFA code was entered/, text.slice(0, 400));
  assert.equal(boxes[0].title, MFA_BOX);
  assert.ok(boxes[0].password, "the MFA box is not a password box");
  assert.match(boxes[0].message, /alice/, `the box does not name the device: ${JSON.stringify(boxes[0])}`);
  const data = await sessionsData();
  const names = data.sessions.map((s) => s.name);
  assert.ok(!names.includes("e2e-admin-cancel"), `a cancelled AssumeRole stored a session: ${names}`);
  assert.ok(!data.sessions.some((s) => s.mfaSerial === MFA_SERIAL()), `a cancelled AssumeRole stored an MFA session: ${names}`);
});

test("MFA: the code typed into the box assumes the MFA-protected Admin role and keeps the MFA session mfa-alice", async () => {
  const { value, boxes } = await withQuickInput([{ title: MFA_BOX, password: true, value: "123456", screenshot: `mfa-${VERSION}.png` }], () =>
    invoke({ command: "AssumeRole", params: { RoleArn: ADMIN_ARN(), RoleSessionName: "e2e-admin", SerialNumber: MFA_SERIAL() } }),
  );
  const text = textOf(value);
  assert.match(text, /stored as session `?e2e-admin`?/, text.slice(0, 400));
  assert.match(text, new RegExp(`assumed-role/Admin/e2e-admin`));
  assertNoSecrets(text);
  assert.doesNotMatch(text, /(?<!\d)123456(?!\d)/, "the result echoed the MFA code");
  assert.equal(boxes.length, 1);
  assert.ok(fs.existsSync(path.join(ARTIFACTS, `mfa-${VERSION}.png`)), "no screenshot of the MFA box");
  const data = await sessionsData();
  const mfa = data.sessions.find((s) => s.name === "mfa-alice");
  assert.ok(mfa, `no MFA session mfa-alice: ${data.sessions.map((s) => s.name)}`);
  assert.equal(mfa.mfaSerial, MFA_SERIAL());
  assert.equal(mfa.command, "GetSessionToken");
  const admin = data.sessions.find((s) => s.name === "e2e-admin");
  assert.ok(admin, "no session e2e-admin");
  assert.equal(admin.source, "mfa-alice");
});

test("MFA: a second AssumeRole with the device reuses mfa-alice without a box", async () => {
  const before = (await sessionsData()).sessions.find((s) => s.name === "mfa-alice");
  const text = textOf(
    await withoutPrompt("AssumeRole with a stored MFA session", () =>
      invoke({ command: "AssumeRole", params: { RoleArn: ADMIN_ARN(), RoleSessionName: "e2e-admin-2", SerialNumber: MFA_SERIAL() } }),
    ),
  );
  assert.match(text, /stored as session `?e2e-admin-2`?/, text.slice(0, 400));
  assertNoSecrets(text);
  const data = await sessionsData();
  const second = data.sessions.find((s) => s.name === "e2e-admin-2");
  assert.ok(second, "no session e2e-admin-2");
  assert.equal(second.source, "mfa-alice", `e2e-admin-2 was made from ${second.source}`);
  assert.match(second.arn ?? "", /assumed-role\/Admin\/e2e-admin-2/);
  const mfa = data.sessions.filter((s) => s.mfaSerial === MFA_SERIAL() && s.command === "GetSessionToken");
  assert.deepEqual(mfa.map((s) => s.name), ["mfa-alice"], "a second MFA session was made");
  assert.equal(mfa[0].createdAt, before.createdAt, "mfa-alice was made again");
  const log = outputLog();
  assert.ok(log.files.length > 0, `no awsflow-sts log file under ${process.env.E2E_USER_DATA} or ${process.env.HOME}`);
  const asked = (log.text.match(/MFA code requested for/g) ?? []).length;
  assert.equal(asked, 2, `the log shows ${asked} MFA requests, expected 2 (cancelled, typed)`);
});

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

/** The variables of a bash script copyEnv wrote: export NAME='value' lines. */
function parseBashExports(script) {
  const vars = {};
  for (const m of script.matchAll(/^export ([A-Z_]+)='([^']*)'$/gm)) vars[m[1]] = m[2];
  return vars;
}

/** GetCallerIdentity through the sidecar's CLI, signed with the given credentials only (no sessions). */
function callerIdentityWith(vars) {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("AWS_")));
  const out = execFileSync(
    env("E2E_SIDECAR"),
    ["call", "GetCallerIdentity", "--endpoint-url", env("E2E_STS_ENDPOINT"), "--region", env("E2E_STS_REGION"), "--json"],
    { encoding: "utf8", env: { ...clean, ...vars, AWS_CONFIG_FILE: "/dev/null", AWS_SHARED_CREDENTIALS_FILE: "/dev/null" }, timeout: 20000 },
  );
  return JSON.parse(out);
}

/**
 * Runs the AWS CLI (E2E_AWS_CLI) in the terminal, pointed at the local STS, and returns what it
 * printed; its stderr when it fails. Each run writes its own file, so the same terminal can run again.
 */
let terminalRuns = 0;
async function terminalRun(terminal, dir, label, args) {
  const n = ++terminalRuns;
  const out = path.join(dir, `${label}-${n}.out`);
  const err = path.join(dir, `${label}-${n}.err`);
  const done = path.join(dir, `${label}-${n}.done`);
  terminal.sendText(
    `AWS_ENDPOINT_URL_STS='${env("E2E_STS_ENDPOINT")}' '${env("E2E_AWS_CLI")}' ${args} --region '${env("E2E_STS_REGION")}' >'${out}' 2>'${err}'; echo $? >'${done}'`,
  );
  await waitFor(`the terminal's ${label} run of the AWS CLI`, () => fs.existsSync(done), 60000);
  await sleep(100);
  const code = fs.readFileSync(done, "utf8").trim();
  if (code !== "0") throw new Error(`aws ${args} exited ${code}: ${fs.readFileSync(err, "utf8").slice(0, 600)}`);
  return fs.readFileSync(out, "utf8").trim();
}

test("export commands with args and confirm:false: clipboard, terminal, credentials file, credential_process; no secret in their results or the log", async () => {
  assert.equal(process.env.AWSFLOW_E2E, "1", "AWSFLOW_E2E=1 is not in the extension host's environment");
  const name = "e2e-export";
  const minted = textOf(await invoke({ command: "AssumeRole", params: { RoleArn: env("E2E_ROLE_ARN"), RoleSessionName: name } }));
  assert.match(minted, /stored as session `?e2e-export/);
  const dir = fs.mkdtempSync(path.join(require("node:os").tmpdir(), "e2e-export-"));
  const results = [];
  const secrets = [];
  try {
    // copyEnv: the clipboard gets the bash script; the result names only the count.
    await vscode.env.clipboard.writeText("");
    const copied = await vscode.commands.executeCommand("awsflowSts.copyEnv", { SessionName: name, shell: "bash", confirm: false });
    results.push(copied);
    assert.match(String(copied), /^Copied \d+ variables for bash$/, `copyEnv returned ${JSON.stringify(copied)}`);
    const clip = await vscode.env.clipboard.readText();
    assert.ok(clip !== "", "the clipboard is empty after copyEnv (vscode.env.clipboard.readText gave nothing)");
    const vars = parseBashExports(clip);
    assert.match(vars.AWS_ACCESS_KEY_ID ?? "", /^ASIA[A-Z0-9]{16}$/, "AWS_ACCESS_KEY_ID on the clipboard");
    assert.match(vars.AWS_SECRET_ACCESS_KEY ?? "", /^[A-Za-z0-9/+]{40}$/, "AWS_SECRET_ACCESS_KEY on the clipboard");
    assert.ok((vars.AWS_SESSION_TOKEN ?? "").length > 20, "AWS_SESSION_TOKEN on the clipboard");
    assert.equal(vars.AWS_REGION, env("E2E_STS_REGION"));
    assert.match(vars.AWS_CREDENTIAL_EXPIRATION ?? "", /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    secrets.push(vars.AWS_SECRET_ACCESS_KEY, vars.AWS_SESSION_TOKEN);
    // The copied credentials are the session's: STS says so when called with them alone.
    const who = callerIdentityWith(vars);
    assert.match(who.data?.arn ?? JSON.stringify(who), new RegExp(`assumed-role/${env("E2E_ROLE_ARN").split("/").pop()}/${name}$`));
    await vscode.env.clipboard.writeText("");

    // openTerminal: a terminal named after the session, bound to it through the sidecar's credentials
    // endpoint: the endpoint's URL and token in its environment, no key of any kind.
    const opened = await vscode.commands.executeCommand("awsflowSts.openTerminal", { SessionName: name, confirm: false });
    results.push(opened);
    assert.match(String(opened), new RegExp(`^Opened terminal "AWS: ${name}" bound to session ${name}`), `openTerminal returned ${JSON.stringify(opened)}`);
    const terminal = await waitFor(`a terminal named "AWS: ${name}"`, () => vscode.window.terminals.find((t) => t.name === `AWS: ${name}`));
    const tenv = terminal.creationOptions.env ?? {};
    // terminalCredentials (on) prepends the endpoint's URL to every terminal's FULL_URI, this one's too.
    assert.equal(tenv.AWS_CONTAINER_CREDENTIALS_FULL_URI, `session/${name}`);
    assert.ok((tenv.AWS_CONTAINER_AUTHORIZATION_TOKEN ?? "").length >= 32, "no endpoint token in the terminal's environment");
    secrets.push(tenv.AWS_CONTAINER_AUTHORIZATION_TOKEN);
    for (const k of ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"]) assert.equal(tenv[k], null, `${k} is not unset in the terminal`);
    assert.ok(!Object.values(tenv).includes(vars.AWS_SECRET_ACCESS_KEY), "the session's secret key is in the terminal's environment");
    // Its shell has the session's URL (not the active session's, which terminalCredentials gives others).
    const shellUri = await terminalShell(terminal, dir, 'printf "%s" "$AWS_CONTAINER_CREDENTIALS_FULL_URI"');
    assert.match(shellUri, new RegExp(`^http://127\\.0\\.0\\.1:\\d+/session/${name}$`), "the terminal's shell has another endpoint URL");
    // The AWS CLI in it is the session, through the endpoint.
    const arn = await terminalRun(terminal, dir, "bound", "sts get-caller-identity --query Arn --output text");
    assert.match(arn, new RegExp(`assumed-role/${env("E2E_ROLE_ARN").split("/").pop()}/${name}$`));
    terminal.dispose();

    // writeProfile: a new profile in a scratch credentials file, mode 0600.
    const credFile = path.join(dir, "credentials");
    const wrote = await vscode.commands.executeCommand("awsflowSts.writeProfile", { SessionName: name, profile: "e2e-written", path: credFile, confirm: false });
    results.push(wrote);
    assert.match(String(wrote), /^Wrote session e2e-export to profile e2e-written in /, `writeProfile returned ${JSON.stringify(wrote)}`);
    let file = fs.readFileSync(credFile, "utf8");
    assert.match(file, /^\[e2e-written\]$/m);
    assert.equal(fs.statSync(credFile).mode & 0o777, 0o600, `mode ${(fs.statSync(credFile).mode & 0o777).toString(8)}`);
    assert.match(file, new RegExp(`^aws_access_key_id\\s*=\\s*${vars.AWS_ACCESS_KEY_ID}$`, "m"));
    assert.ok(file.includes(vars.AWS_SECRET_ACCESS_KEY), "the credentials file does not hold the exported secret");
    // A profile holding long-term keys is replaced only with overwriteLongTermKeys: true.
    const longTerm = "[e2e-longterm]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n";
    fs.appendFileSync(credFile, `\n${longTerm}`);
    const refused = await vscode.commands.executeCommand("awsflowSts.writeProfile", { SessionName: name, profile: "e2e-longterm", path: credFile, confirm: false });
    results.push(refused);
    assert.match(String(refused), /long-term/i, `writeProfile over long-term keys returned ${JSON.stringify(refused)}`);
    file = fs.readFileSync(credFile, "utf8");
    assert.ok(file.includes(longTerm), "the refused write changed the long-term profile");
    const replaced = await vscode.commands.executeCommand("awsflowSts.writeProfile", {
      SessionName: name, profile: "e2e-longterm", path: credFile, confirm: false, overwriteLongTermKeys: true,
    });
    results.push(replaced);
    assert.match(String(replaced), /^Wrote session e2e-export to profile e2e-longterm in .*backed up as /, `returned ${JSON.stringify(replaced)}`);
    file = fs.readFileSync(credFile, "utf8");
    assert.ok(!file.includes("AKIAIOSFODNN7EXAMPLE"), "the long-term keys are still in the file");
    assert.match(file, /^\[e2e-written\]$/m, "the other profile was lost");
    assert.equal(fs.statSync(credFile).mode & 0o777, 0o600);

    // credentialProcess: an untitled JSON document.
    const shown = await vscode.commands.executeCommand("awsflowSts.credentialProcess", { SessionName: name, confirm: false });
    results.push(shown);
    assert.match(String(shown), /credential_process JSON of session e2e-export/, `credentialProcess returned ${JSON.stringify(shown)}`);
    const doc = await waitFor("the credential_process document", () => {
      const d = vscode.window.activeTextEditor?.document;
      return d && d.isUntitled && d.languageId === "json" && d.getText().includes("AccessKeyId") ? d : undefined;
    });
    const json = JSON.parse(doc.getText());
    assert.equal(json.Version, 1);
    assert.equal(json.AccessKeyId, vars.AWS_ACCESS_KEY_ID);
    assert.equal(json.SecretAccessKey, vars.AWS_SECRET_ACCESS_KEY);
    assert.equal(json.SessionToken, vars.AWS_SESSION_TOKEN);
    assert.ok(Date.parse(json.Expiration) > Date.now());
    await vscode.commands.executeCommand("workbench.action.revertAndCloseActiveEditor");

    // Nothing they returned, and nothing in the output channel's log, holds a secret.
    for (const r of results) {
      assertNoSecrets(String(r));
      for (const x of secrets) assert.ok(!String(r).includes(x), "a command result holds an exported secret");
    }
    await sleep(1000);
    const log = outputLog();
    assert.ok(log.files.length > 0, `no awsflow-sts log file under ${process.env.E2E_USER_DATA} or ${process.env.HOME}`);
    assert.match(log.text, /copied the environment variables of session e2e-export/, `log files ${log.files}`);
    for (const x of [...secrets, env("E2E_DEMO_SECRET"), "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"]) {
      assert.ok(!log.text.includes(x), "the output channel's log holds a secret");
    }
    console.log(`[e2e] output channel log: ${log.files.join(", ")} (${log.text.length} chars, no secret)`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
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
  const before = await killSidecar();
  const text = textOf(await invoke({ command: "GetCallerIdentity" }));
  assert.match(text, new RegExp(env("E2E_ACCOUNT")));
  const after = sidecarPids();
  assert.equal(after.length, 1);
  assert.notEqual(after[0], before);
});

/**
 * SIGKILLs this host's sidecar and waits until the extension host has reaped it: pgrep stops seeing
 * a zombie before its parent noticed the exit, and a call sent in between goes to the dead process
 * (and fails as "disconnected") instead of to a restarted one. The next call starts (and re-seeds) another.
 */
async function killSidecar() {
  const pid = await waitFor("a running sidecar", () => sidecarPids()[0]);
  process.kill(pid, "SIGKILL");
  await waitFor("the killed sidecar to go", () => !sidecarPids().includes(pid));
  await waitFor("the extension host to reap the killed sidecar", () => !fs.existsSync(`/proc/${pid}`));
  await sleep(200);
  return pid;
}

test("a session survives a SIGKILLed sidecar (re-seeded from SecretStorage); a forgotten one does not", async () => {
  const name = "e2e-keep";
  const role = env("E2E_ROLE_ARN").split("/").pop();
  const minted = textOf(await invoke({ command: "AssumeRole", params: { RoleArn: env("E2E_ROLE_ARN"), RoleSessionName: name } }));
  assert.match(minted, /stored as session `?e2e-keep/);
  // The keychain copy is written after the sidecar's sessions/changed notification: give it a moment.
  await sleep(1500);
  const killed = await killSidecar();
  const text = textOf(await invoke({ command: "GetCallerIdentity", params: { Session: name } }));
  assert.match(text, new RegExp(`arn:aws:sts::${env("E2E_ACCOUNT")}:assumed-role/${role}/${name}`), text.slice(0, 400));
  assert.notEqual(sidecarPids()[0], killed);
  await sleep(500);
  const restored = outputLog().text.match(/restored \d+ sessions?: [^\n]*/g) ?? [];
  console.log(`[e2e] after the restart: ${restored.at(-1) ?? "(no 'restored' line in the log)"}`);
  assert.ok(restored.some((l) => l.includes(name)), `the log does not say ${name} was restored: ${JSON.stringify(restored)}`);

  const forgot = textOf(await invoke({ command: "ForgetSession", params: { SessionName: name } }));
  assert.match(forgot, /e2e-keep` and its credentials were deleted/, forgot);
  await sleep(1500);
  await killSidecar();
  const list = textOf(await invoke({ command: "ListSessions" }));
  assert.doesNotMatch(list, /e2e-keep/, `a forgotten session came back after a restart:\n${list}`);
  assert.match(list, /e2e-admin/, "the other stored sessions were not restored");
  const gone = textOf(await invoke({ command: "GetCallerIdentity", params: { Session: name } }));
  assert.doesNotMatch(gone, /assumed-role/, gone);
  assert.match(gone, /e2e-keep/);
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

test("palette awsflowSts.assumeRole with SerialNumber and no TokenCode reuses mfa-alice (no code prompt)", async () => {
  const r = await withoutPrompt("awsflowSts.assumeRole with a stored MFA session", () =>
    vscode.commands.executeCommand("awsflowSts.assumeRole", { RoleArn: ADMIN_ARN(), RoleSessionName: "e2e-cmd-admin", SerialNumber: MFA_SERIAL() }),
  );
  const text = typeof r === "string" ? r : r && r.text;
  assert.match(text ?? "", /stored as session `?e2e-cmd-admin/, `assumeRole returned ${JSON.stringify(r)}`);
  const s = (await sessionsData()).sessions.find((x) => x.name === "e2e-cmd-admin");
  assert.equal(s?.source, "mfa-alice");
});

test("palette awsflowSts.getSessionToken with args TokenCode still works (no prompt)", async () => {
  const r = await withoutPrompt("awsflowSts.getSessionToken with TokenCode", () =>
    vscode.commands.executeCommand("awsflowSts.getSessionToken", { SerialNumber: MFA_SERIAL(), TokenCode: "123456", SessionName: "e2e-cmd-gst", DurationSeconds: 900 }),
  );
  const text = typeof r === "string" ? r : r && r.text;
  assert.match(text ?? "", /stored as session `?e2e-cmd-gst/, `getSessionToken returned ${JSON.stringify(r)}`);
  assert.doesNotMatch(text, /(?<!\d)123456(?!\d)/);
});

test("palette GetSessionToken typed through its prompts: the device, then the sidecar's MFA box (not the palette's)", async () => {
  const { value, boxes } = await withQuickInput(
    [
      { title: "GetSessionToken: MFA device", value: MFA_SERIAL() },
      { title: "GetSessionToken: duration", value: "900" },
      { title: MFA_BOX, password: true, value: "123456" },
    ],
    () => vscode.commands.executeCommand("awsflowSts.getSessionToken"),
  );
  const text = typeof value === "string" ? value : value && value.text;
  assert.match(text ?? "", /stored as session/, `getSessionToken returned ${JSON.stringify(value)}`);
  assert.deepEqual(boxes.map((b) => b.title), ["GetSessionToken: MFA device (optional)", "GetSessionToken: duration", MFA_BOX]);
  assert.ok(boxes[2].password);
});

test("palette GetSessionToken: Escape in the sidecar's MFA box ends the command quietly, storing nothing", async () => {
  const before = (await sessionsData()).sessions.map((s) => s.name).sort();
  const { value, boxes } = await withQuickInput(
    [
      { title: "GetSessionToken: MFA device", value: MFA_SERIAL() },
      { title: "GetSessionToken: duration", value: "" },
      { title: MFA_BOX, password: true, escape: true },
    ],
    () => vscode.commands.executeCommand("awsflowSts.getSessionToken"),
  );
  // Dismissed, as closing any of the palette's own prompts is: no result, no error text.
  assert.equal(value, undefined, `getSessionToken returned ${JSON.stringify(value)}`);
  assert.equal(boxes[2].answer, "escape");
  assert.deepEqual((await sessionsData()).sessions.map((s) => s.name).sort(), before, "a session was stored");
});

test("palette AssumeRole typed through its prompts with the MFA device: no code asked (mfa-alice reused)", async () => {
  // The role pick lists the recently used roles (the args-driven palette calls above used Admin).
  const { value, boxes } = await withQuickInput(
    [
      { title: "AssumeRole: role", kind: "pick", value: ADMIN_ARN() },
      { title: "AssumeRole: session name", value: "e2e-palette-admin" },
      { title: "AssumeRole: external id", value: "" },
      { title: "AssumeRole: MFA device", value: MFA_SERIAL() },
    ],
    () => vscode.commands.executeCommand("awsflowSts.assumeRole"),
  );
  const text = typeof value === "string" ? value : value && value.text;
  assert.match(text ?? "", /stored as session `?e2e-palette-admin/, `assumeRole returned ${JSON.stringify(value)} after ${JSON.stringify(boxes)}`);
  assert.ok(!boxes.some((b) => b.password), "a password box was shown");
  const s = (await sessionsData()).sessions.find((x) => x.name === "e2e-palette-admin");
  assert.equal(s?.source, "mfa-alice");
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

// IAM Identity Center: the device flow against the local STS's OIDC side, approved through its
// /_localsts/sso/approve route as the test user; then a role from its portal, and live credentials in
// a terminal through the sidecar's credentials endpoint.
const SSO = "e2e-sso";
const SSO_OTHER = "e2e-sso-other";

/** The visible notification toasts ({message, buttons}), read from the DOM by the driver. */
let lastToastRead;
async function toasts() {
  let r = JSON.parse(await askDriver("notifications", "{}"));
  if (r.error) throw new Error(`reading the notifications: ${r.error}`);
  if (r.toasts.length === 0) {
    // VS Code 1.139 here files them in the notification center without a toast: open it, read it there.
    await vscode.commands.executeCommand("notifications.showList");
    await sleep(300);
    r = JSON.parse(await askDriver("notifications", "{}"));
  }
  lastToastRead = r;
  return r.toasts;
}

/** waitFor a notification; on a timeout, a screenshot and what the DOM held. */
async function waitForToast(what, fn, ms, shot) {
  try {
    return await waitFor(what, fn, ms);
  } catch (e) {
    await askDriver("screenshot", shot).catch(() => undefined);
    throw new Error(`${e.message} (screenshot ${shot}; notification elements: ${JSON.stringify(lastToastRead?.all ?? []).slice(0, 1500)})`);
  }
}

async function screenshot(name) {
  const answer = await askDriver("screenshot", name);
  assert.equal(answer, "ok", answer);
  assert.ok(fs.existsSync(path.join(ARTIFACTS, name)), `no screenshot ${name}`);
}

/** The status bar item naming what, read from the DOM (waits for it). */
async function statusBarItem(what, re) {
  let items = [];
  await waitFor(`a status bar item matching ${re}`, async () => {
    items = JSON.parse(await askDriver("statusbar", ""));
    return items.some((t) => re.test(t));
  }, 15000).catch((e) => {
    throw new Error(`${e.message} (${what}); status bar items: ${JSON.stringify(items)}`);
  });
  return items.find((t) => re.test(t));
}

test("Sign In to IAM Identity Center… shows the code notification; Copy Code copies it; the approved code signs in; the status bar shows the sign-in", async () => {
  await vscode.commands.executeCommand("notifications.clearAll");
  await vscode.env.clipboard.writeText("");
  const signIn = Promise.resolve(
    vscode.commands.executeCommand("awsflowSts.ssoSignIn", {
      startUrl: env("E2E_SSO_START_URL"), region: env("E2E_SSO_REGION"), ssoSession: SSO, confirm: false,
    }),
  ).then((value) => ({ value }), (error) => ({ error }));
  let toast;
  let ended;
  void signIn.then((r) => (ended = r));
  await waitForToast("the code notification", async () => {
    if (ended) throw new Error(`the sign-in ended before any code was shown: ${JSON.stringify(ended.value ?? String(ended.error))}`);
    toast = (await toasts()).find((t) => /confirm the code/.test(t.message));
    return toast;
  }, 30000, `sso-code-timeout-${VERSION}.png`);
  const code = (toast.message.match(/confirm the code ([A-Z0-9-]+)/) ?? [])[1];
  assert.ok(code, `no code in ${JSON.stringify(toast)}`);
  assert.match(toast.message, new RegExp(`Sign in to IAM Identity Center \\(${SSO}\\)`));
  assert.deepEqual(toast.buttons, ["Open Browser", "Copy Code"]);
  // The progress notification beside it can be cancelled.
  assert.ok((await toasts()).some((t) => /Signing in to IAM Identity Center/.test(t.message)), "no sign-in progress notification");
  await screenshot(`sso-code-${VERSION}.png`);

  // Copy Code puts the code on the clipboard; the notification comes back for Open Browser.
  const click = JSON.parse(await askDriver("notifications", JSON.stringify({ contains: "confirm the code", button: "Copy Code" })));
  assert.equal(click.clicked, "Copy Code", JSON.stringify(click));
  await waitFor("the code on the clipboard", async () => (await vscode.env.clipboard.readText()) === code);
  await waitFor("the code notification again", async () => (await toasts()).some((t) => t.message.includes(code)));

  const res = await fetch(env("E2E_SSO_APPROVE_URL"), {
    method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ userCode: code, user: env("E2E_SSO_USER") }),
  });
  assert.equal(res.status, 200, `approve: ${res.status} ${await res.text()}`);
  const r = await Promise.race([signIn, sleep(30000).then(() => ({ error: new Error("the sign-in did not end within 30 s of the approval") }))]);
  if (r.error) throw r.error;
  assert.match(String(r.value), new RegExp(`^Signed in to IAM Identity Center ${SSO} \\(${env("E2E_SSO_START_URL").replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\\)`), String(r.value));
  assert.doesNotMatch(String(r.value), new RegExp(code), "the result repeats the code");

  // Where the AWS CLI and the SDKs read it: ~/.aws/sso/cache/<sha1 of the sso-session name>.json, 0600.
  const cache = path.join(require("node:os").homedir(), ".aws", "sso", "cache", `${require("node:crypto").createHash("sha1").update(SSO).digest("hex")}.json`);
  assert.ok(fs.existsSync(cache), `no token cache ${cache}`);
  assert.equal(fs.statSync(cache).mode & 0o777, 0o600);
  assert.equal(JSON.parse(fs.readFileSync(cache, "utf8")).startUrl, env("E2E_SSO_START_URL"));
  assert.match(fs.readFileSync(process.env.AWS_CONFIG_FILE, "utf8"), new RegExp(`^\\[sso-session ${SSO}\\]$`, "m"), "no [sso-session] section was added");
  const item = await statusBarItem("the sign-in", new RegExp(`${SSO} · (\\d+h|\\d+m)`));
  console.log(`[e2e] status bar: ${item}`);
  // The progress notification ended with the sign-in.
  await waitFor("the progress notification to close", async () => !(await toasts()).some((t) => /Signing in to IAM Identity Center/.test(t.message)));
  // Nothing the log holds is a token of the sign-in.
  const cached = JSON.parse(fs.readFileSync(cache, "utf8"));
  const log = outputLog().text;
  for (const k of ["accessToken", "refreshToken", "clientSecret"]) if (cached[k]) assert.ok(!log.includes(cached[k]), `the log holds the ${k}`);
});

test("Use an Identity Center Role…: account and role picked by name; the session is stored and active", async () => {
  const { value, boxes } = await withQuickInput(
    [
      // The account is typed as its id: the QuickPick matches the description too.
      { title: `Use an Identity Center role (${SSO}): account`, kind: "pick", value: env("E2E_SSO_ACCOUNT") },
      { title: "role in ", kind: "pick", value: env("E2E_SSO_ROLE") },
      { title: `in ${env("E2E_SSO_ACCOUNT")}`, kind: "pick", value: "Store it and use it" },
    ],
    () => vscode.commands.executeCommand("awsflowSts.ssoUseRole"),
  );
  const text = String(value);
  assert.match(text, /^Stored session (\S+) /, `${text} after ${JSON.stringify(boxes)}`);
  assert.match(text, /later commands now run as it/);
  const name = text.match(/^Stored session (\S+) /)[1];
  const data = await sessionsData();
  assert.equal(data.active, name, `the active session is ${data.active}`);
  const s = data.sessions.find((x) => x.name === name);
  assert.match(s?.arn ?? "", new RegExp(`^arn:aws:sts::${env("E2E_SSO_ACCOUNT")}:assumed-role/`), JSON.stringify(s));
  const who = textOf(await invoke({ command: "GetCallerIdentity" }));
  assert.match(who, new RegExp(env("E2E_SSO_ACCOUNT")));
});

test("a new integrated terminal runs as the active session through the credentials endpoint, and follows Switch Session", async () => {
  const dir = fs.mkdtempSync(path.join(require("node:os").tmpdir(), "e2e-live-"));
  const terminal = vscode.window.createTerminal({ name: "e2e-live" });
  try {
    const data = await sessionsData();
    const active = data.sessions.find((x) => x.name === data.active);
    assert.ok(active?.arn, `no active session with an ARN: ${data.active}`);
    const first = await terminalRun(terminal, dir, "live", "sts get-caller-identity --query Arn --output text");
    assert.equal(first, active.arn);
    // The terminal holds no key: only the endpoint's variables.
    const envOut = await terminalShell(terminal, dir, "env | grep -E '^AWS_(ACCESS_KEY_ID|SECRET_ACCESS_KEY|CONTAINER_CREDENTIALS_FULL_URI)=' | sed 's/=.*//' | sort");
    assert.deepEqual(envOut.split("\n"), ["AWS_ACCESS_KEY_ID", "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_SECRET_ACCESS_KEY"]);
    const emptied = await terminalShell(terminal, dir, `printf '%s|%s' "$AWS_ACCESS_KEY_ID" "$AWS_SECRET_ACCESS_KEY"`);
    assert.equal(emptied, "|", "the terminal inherited static keys");

    const switched = await vscode.commands.executeCommand("awsflowSts.switchSession", { SessionName: "e2e-cmd" });
    assert.match(String(switched?.text ?? switched), /e2e-cmd/);
    const second = await terminalRun(terminal, dir, "live", "sts get-caller-identity --query Arn --output text");
    assert.match(second, new RegExp(`:assumed-role/${env("E2E_ROLE_ARN").split("/").pop()}/e2e-cmd$`));
    assert.notEqual(second, first);
    console.log(`[e2e] terminal: ${first} → after Switch Session: ${second}`);
  } finally {
    terminal.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

/**
 * Runs a shell line in the terminal and returns its stdout. The line runs from a script file, so the
 * shell integration's own escape sequences (written around each command line) stay out of the output.
 */
async function terminalShell(terminal, dir, line) {
  const n = ++terminalRuns;
  const script = path.join(dir, `sh-${n}.sh`);
  const out = path.join(dir, `sh-${n}.out`);
  const done = path.join(dir, `sh-${n}.done`);
  fs.writeFileSync(script, `${line}\n`);
  terminal.sendText(`sh '${script}' >'${out}' 2>&1; echo $? >'${done}'`);
  await waitFor("the terminal's shell line", () => fs.existsSync(done), 30000);
  await sleep(100);
  return fs.readFileSync(out, "utf8").trim();
}

test("a tool call that needs a sign-in tells the model the user was asked, and two failing calls show one Sign in notification", async () => {
  fs.appendFileSync(
    process.env.AWS_CONFIG_FILE,
    `\n[profile e2e-sso-dev]\nsso_session = ${SSO_OTHER}\nsso_account_id = ${env("E2E_SSO_ACCOUNT")}\nsso_role_name = ${env("E2E_SSO_ROLE")}\nregion = ${env("E2E_STS_REGION")}\n\n` +
      `[sso-session ${SSO_OTHER}]\nsso_start_url = ${env("E2E_SSO_START_URL")}\nsso_region = ${env("E2E_SSO_REGION")}\nsso_registration_scopes = sso:account:access\n`,
  );
  await vscode.commands.executeCommand("notifications.clearAll");
  textOf(await invoke({ command: "UseSession", params: { SessionName: "base" } }));
  await setSetting("profile", "e2e-sso-dev");
  try {
    const texts = [];
    for (let i = 0; i < 2; i++) texts.push(textOf(await invoke({ command: "GetCallerIdentity" })));
    for (const t of texts) {
      assert.match(t, /STSTool error \(signin/, t.slice(0, 500));
      assert.match(t, new RegExp(`"Sign in to ${SSO_OTHER}" notification`), t.slice(0, 800));
      assert.match(t, /cannot start a sign-in/);
    }
    let shown = [];
    await waitForToast("the Sign in notification", async () => {
      shown = (await toasts()).filter((t) => t.buttons.includes(`Sign in to ${SSO_OTHER}`));
      return shown.length > 0;
    }, 10000, `sso-signin-needed-timeout-${VERSION}.png`);
    await sleep(1000);
    shown = (await toasts()).filter((t) => t.buttons.includes(`Sign in to ${SSO_OTHER}`));
    assert.equal(shown.length, 1, `Sign in notifications: ${JSON.stringify(shown)}`);
    await screenshot(`sso-signin-needed-${VERSION}.png`);
  } finally {
    const c = vscode.workspace.getConfiguration("awsflowSts");
    await c.update("profile", undefined, vscode.ConfigurationTarget.Global);
    await waitFor("awsflowSts.profile back to its default", () => !vscode.workspace.getConfiguration("awsflowSts").get("profile"));
    await vscode.commands.executeCommand("notifications.clearAll");
  }
  const back = textOf(await invoke({ command: "GetCallerIdentity" }));
  assert.match(back, new RegExp(env("E2E_ACCOUNT")), back.slice(0, 300));
});

test("Sign Out of IAM Identity Center… removes the cached token and the sign-in's sessions, without asking to sign in again", async () => {
  const before = (await sessionsData()).sessions.map((s) => s.name);
  const text = String(await vscode.commands.executeCommand("awsflowSts.ssoSignOut", { ssoSession: SSO }));
  assert.match(text, new RegExp(`^Signed out of IAM Identity Center ${SSO}`), text);
  const cache = path.join(require("node:os").homedir(), ".aws", "sso", "cache", `${require("node:crypto").createHash("sha1").update(SSO).digest("hex")}.json`);
  assert.ok(!fs.existsSync(cache), "the token cache is still there");
  const after = (await sessionsData()).sessions.map((s) => s.name);
  const forgotten = before.filter((n) => !after.includes(n));
  assert.ok(forgotten.length >= 1, `no session was forgotten (before ${before}, after ${after})`);
  assert.ok(after.includes("e2e-cmd"), "a session not made from the sign-in was forgotten");
  await statusBarItem("signed out", /SSO: signed out/);
  await sleep(1000);
  assert.ok(!(await toasts()).some((t) => /was signed out/.test(t.message)), "signing out asked to sign in again");
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
