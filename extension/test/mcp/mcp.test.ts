// `awsflow-sts mcp` through the official TypeScript SDK's Client and StdioClientTransport, against the
// embedded local STS: the tool list and its generated schema, every command with its text and
// structuredContent, isError results, consent and MFA through elicitation (accepted, declined,
// cancelled, and a client that cannot elicit), WriteProfile, a cancelled call against an endpoint
// that never answers, and no secret in any message the client received.
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { promisify } from "node:util";
import { McpError, LATEST_PROTOCOL_VERSION, type CallToolResult, type ElicitRequest } from "@modelcontextprotocol/sdk/types.js";
import { LocalSts, postJson, repoRoot, scratchDir, sidecarBinary, sidecarSkipReason, startLocalSts, withTimeout } from "../helpers";
import {
  answer,
  closed,
  credentialsFileSecrets,
  McpRun,
  scratchAws,
  secretShapes,
  SilentServer,
  startMcp,
  startSilentServer,
  textOf,
} from "./harness";

const ACCOUNT = "123456789012";
const MEMBER = "111122223333";
const role = (name: string): string => `arn:aws:iam::${ACCOUNT}:role/${name}`;
const MFA_SERIAL = `arn:aws:iam::${ACCOUNT}:mfa/alice`;
const MFA_CODE = "123456";
const TRADE_IN_TOKEN = "localsts-demo-trade-in-1";
/** The commands whose data is the session list ({active, sessions}). */
const SESSION_LIST_COMMANDS = new Set(["ListSessions", "UseSession", "ForgetSession"]);

interface ModelCommand {
  name: string;
  mints?: string;
  readOnly?: boolean;
  frontends?: string[];
  confirm?: { title: string; what: string };
}

/** The commands of protocol/model.json the MCP front end offers. */
function modelCommands(): ModelCommand[] {
  const model = JSON.parse(fs.readFileSync(path.join(repoRoot, "protocol", "model.json"), "utf8")) as { commands: ModelCommand[] };
  return model.commands.filter((c) => !c.frontends || c.frontends.length === 0 || c.frontends.includes("mcp"));
}

/** The MCP tool's generated input schema (protocol/mcp-tool-input-schema.json). */
function generatedSchema(): Record<string, unknown> {
  return JSON.parse(fs.readFileSync(path.join(repoRoot, "protocol", "mcp-tool-input-schema.json"), "utf8")) as Record<string, unknown>;
}

type Result = CallToolResult & { structuredContent?: Record<string, unknown> };

const skip = sidecarSkipReason();

describe("awsflow-sts mcp through the official TypeScript SDK client", { skip, timeout: 60_000 }, () => {
  let sts: LocalSts;
  let scratch: { dir: string; remove(): void };
  let aws: ReturnType<typeof scratchAws>;
  let mcp: McpRun;
  let samlFile: string;
  let tokenFile: string;
  let encodedMessage: string;
  /** Secrets we know of: inputs and the demo keys. None may appear in anything the client received. */
  const secrets: string[] = [];
  /** Every command the tests called with success, to check that none was left out. */
  const called = new Set<string>();
  /** Every client the suite started, so the secrets check can search all they received. */
  const runs: McpRun[] = [];

  const call = async (command: string, params?: Record<string, unknown>, run: McpRun = mcp): Promise<Result> => {
    const args: Record<string, unknown> = { command };
    if (params) {
      args.params = params;
    }
    const res = (await withTimeout(run.client.callTool({ name: "STSTool", arguments: args }), 15_000, command)) as Result;
    return res;
  };
  /** A call that must succeed; returns its text and structuredContent. */
  const ok = async (command: string, params?: Record<string, unknown>, run: McpRun = mcp): Promise<{ text: string; data: Record<string, unknown> }> => {
    const res = await call(command, params, run);
    const text = textOf(res);
    assert.notEqual(res.isError, true, `${command} failed: ${text}`);
    assert.ok(res.structuredContent, `${command} has structuredContent`);
    if (SESSION_LIST_COMMANDS.has(command)) {
      // The session commands' data is the session list, as the extension's tool gets it.
      assert.equal(typeof res.structuredContent.active, "string", `${command}'s data names the default`);
      assert.ok(Array.isArray(res.structuredContent.sessions), `${command}'s data lists the sessions`);
    } else if (command !== "WriteProfile") {
      assert.equal(res.structuredContent.command, command, `${command}'s structuredContent names it`);
    }
    called.add(command);
    return { text, data: res.structuredContent };
  };
  /** A call that must end in an isError result; returns its text. */
  const fails = async (command: string, params?: Record<string, unknown>, run: McpRun = mcp): Promise<string> => {
    const res = await call(command, params, run);
    const text = textOf(res);
    assert.equal(res.isError, true, `${command} should have failed: ${text}`);
    return text;
  };
  const start = async (args: string[], elicitation: boolean, env = aws.env): Promise<McpRun> => {
    const run = await startMcp({ args, env, elicitation, mfaCode: MFA_CODE });
    runs.push(run);
    return run;
  };
  const stsArgs = (): string[] => ["--profile", "demo", "--region", sts.info.region, "--endpoint-url", sts.info.endpoint, "--log-level", "debug"];
  /** The elicitations the run received from the n-th on. */
  const since = (run: McpRun, n: number): ElicitRequest["params"][] => run.elicitations.slice(n);

  before(async () => {
    sts = await startLocalSts();
    scratch = scratchDir();
    aws = scratchAws(scratch.dir, sts.info);
    secrets.push(sts.info.secretAccessKey, TRADE_IN_TOKEN);

    const { samlAssertion } = await postJson<{ samlAssertion: string }>(`${sts.info.endpoint}/_localsts/saml/assertion`, {
      subject: "alice@example.com",
      roleSessionName: "alice",
      roles: [`${role("SamlDev")},arn:aws:iam::${ACCOUNT}:saml-provider/DemoIdP`],
    });
    samlFile = path.join(scratch.dir, "saml.b64");
    fs.writeFileSync(samlFile, samlAssertion, { mode: 0o600 });
    const { token } = await postJson<{ token: string }>(`${sts.info.endpoint}/_localsts/oidc/token`, {
      sub: "repo:example/app:ref:refs/heads/main",
      aud: "demo-client",
      expiresIn: 600,
    });
    tokenFile = path.join(scratch.dir, "web-identity-token");
    fs.writeFileSync(tokenFile, token, { mode: 0o600 });
    secrets.push(samlAssertion, token);
    ({ encodedMessage } = await postJson<{ encodedMessage: string }>(`${sts.info.endpoint}/_localsts/encode-message`, {
      Account: ACCOUNT,
      PrincipalArn: `arn:aws:iam::${ACCOUNT}:user/alice`,
      Action: "ec2:RunInstances",
      Resource: "*",
      ExplicitDeny: true,
      StatementID: "Deny1",
    }));

    mcp = await start(stsArgs(), true);
  });

  after(async () => {
    for (const run of runs) {
      await run.close().catch(() => undefined);
    }
    await sts?.stop();
    scratch?.remove();
  });

  test("initialize: the newest revision the client speaks, serverInfo, instructions from the model", () => {
    assert.equal(mcp.transport.protocolVersion, LATEST_PROTOCOL_VERSION);
    const info = mcp.client.getServerVersion();
    assert.equal(info?.name, "awsflow-sts");
    assert.ok(info?.version, "serverInfo carries the binary's version");
    const caps = mcp.client.getServerCapabilities();
    assert.ok(caps?.tools, "tools capability");
    assert.ok(caps?.logging, "logging capability");
    const instructions = mcp.client.getInstructions() ?? "";
    assert.match(instructions, /secret keys, session tokens, SAML assertions, web identity tokens and issued JWTs are never shown to you/);
  });

  test("ping", async () => {
    assert.deepEqual(await mcp.client.ping(), {});
  });

  test("tools/list: one STSTool with the generated input schema and annotations", async () => {
    const { tools } = await mcp.client.listTools();
    assert.deepEqual(
      tools.map((t) => t.name),
      ["STSTool"],
    );
    const tool = tools[0];
    assert.deepEqual(tool.inputSchema, generatedSchema(), "inputSchema is protocol/mcp-tool-input-schema.json");
    const schemaCommands = (generatedSchema() as { properties: { command: { enum: string[] } } }).properties.command.enum;
    assert.deepEqual([...schemaCommands].sort(), modelCommands().map((c) => c.name).sort(), "the schema offers the model's MCP commands");
    assert.ok(tool.description && tool.description.length > 40, "a description for the model");
    assert.ok(tool.annotations, "annotations");
    // One tool serves read-only and minting commands alike, so as a whole it is not read-only (and
    // deletes nothing in AWS); the per-command hints are in _meta.
    assert.notEqual(tool.annotations.readOnlyHint, true);
    assert.equal(tool.annotations.destructiveHint, false);
    const meta = tool._meta as Record<string, string[]> | undefined;
    const readOnly = modelCommands().filter((c) => c.readOnly).map((c) => c.name);
    assert.deepEqual([...readOnly].sort(), ["DecodeAuthorizationMessage", "GetAccessKeyInfo", "GetCallerIdentity", "ListSessions"]);
    assert.deepEqual([...(meta?.["awsflow-sts/readOnlyCommands"] ?? [])].sort(), [...readOnly].sort(), "the read-only commands");
    const minting = modelCommands().filter((c) => c.mints).map((c) => c.name);
    assert.deepEqual(
      [...(meta?.["awsflow-sts/confirmedCommands"] ?? [])].sort(),
      [...minting, "WriteProfile"].sort(),
      "the commands the user confirms: every minting one, and WriteProfile",
    );
  });

  test("GetCallerIdentity and GetAccessKeyInfo: the same text and data as `awsflow-sts call --json`", async () => {
    const who = await ok("GetCallerIdentity");
    assert.match(who.text, new RegExp(`arn:aws:iam::${ACCOUNT}:user/alice`));
    assert.equal(who.data.arn, `arn:aws:iam::${ACCOUNT}:user/alice`);
    assert.equal(who.data.account, ACCOUNT);
    const key = await ok("GetAccessKeyInfo", { AccessKeyId: sts.info.accessKeyId });
    assert.match(key.text, new RegExp(`belongs to account \`${ACCOUNT}\``));
    assert.equal(key.data.account, ACCOUNT);
    assert.match(String(key.data.accessKeyId), /^AKIA…/, "the key id is masked");

    // The other front end on the same runner: its text and data (but for the request id) match.
    const run = promisify(execFile);
    for (const [command, params, got] of [
      ["GetCallerIdentity", {}, who],
      ["GetAccessKeyInfo", { AccessKeyId: sts.info.accessKeyId }, key],
    ] as const) {
      const { stdout } = await run(
        sidecarBinary,
        ["call", command, "--params", JSON.stringify(params), "--json", ...stsArgs().slice(0, 6)],
        { env: aws.env, timeout: 15_000 },
      );
      const cli = JSON.parse(stdout) as { text: string; data: Record<string, unknown> };
      assert.equal(got.text, cli.text, `${command}: the same text`);
      const strip = (d: Record<string, unknown>): Record<string, unknown> => Object.fromEntries(Object.entries(d).filter(([k]) => k !== "requestId"));
      assert.deepEqual(strip(got.data), strip(cli.data), `${command}: the same data`);
    }
  });

  test("a read-only command asks nobody", async () => {
    const n = mcp.elicitations.length;
    await ok("GetCallerIdentity");
    await ok("ListSessions");
    assert.equal(mcp.elicitations.length, n);
  });

  test("AssumeRole asks for consent with the confirmation text; accepted, it runs", async () => {
    const n = mcp.elicitations.length;
    const dev = await ok("AssumeRole", { RoleArn: role("Dev"), RoleSessionName: "dev" });
    assert.match(dev.text, /\*\*AssumeRole\*\* succeeded: `arn:aws:sts::123456789012:assumed-role\/Dev\/dev`, stored as session `dev`/);
    assert.match(dev.text, /Access key: `ASIA…/);
    assert.equal((dev.data.session as { arn?: string } | undefined)?.arn, `arn:aws:sts::${ACCOUNT}:assumed-role/Dev/dev`);
    assert.equal((dev.data.session as { name?: string } | undefined)?.name, "dev");
    assert.match(String((dev.data.session as { accessKeyId?: string } | undefined)?.accessKeyId), /^ASIA…/, "the key id is masked");
    const asked = since(mcp, n);
    assert.equal(asked.length, 1, "one consent question");
    const confirm = modelCommands().find((c) => c.name === "AssumeRole")?.confirm;
    assert.ok(confirm);
    assert.ok(asked[0].message.includes(confirm.title), `the card's title in: ${asked[0].message}`);
    assert.ok(asked[0].message.includes(role("Dev")), "the role in the question");
    const props = "requestedSchema" in asked[0] ? Object.values(asked[0].requestedSchema.properties) : [];
    assert.ok(
      props.some((p) => p.type === "boolean"),
      "a yes/no field",
    );

    const asDev = await ok("GetCallerIdentity", { Session: "dev" });
    assert.match(asDev.text, /of session `dev`: assumed role/);
    const ops = await ok("AssumeRole", { RoleArn: role("Ops"), RoleSessionName: "ops", Session: "dev" });
    assert.match(ops.text, /assumed-role\/Ops\/ops/);
    const partner = await ok("AssumeRole", { RoleArn: role("Partner"), RoleSessionName: "partner", ExternalId: "partner-ext-1" });
    assert.match(partner.text, /stored as session `partner`/);
  });

  test("declined or cancelled consent: an isError result and nothing called", async () => {
    for (const action of ["decline", "cancel"] as const) {
      mcp.setPolicy(action);
      const n = mcp.elicitations.length;
      try {
        const text = await fails("AssumeRole", { RoleArn: role("Dev"), RoleSessionName: `refused-${action}` });
        assert.match(text, /declined|cancel/i);
        assert.equal(since(mcp, n).length, 1, "asked once");
      } finally {
        mcp.setPolicy("accept");
      }
      const list = await ok("ListSessions");
      assert.doesNotMatch(list.text, new RegExp(`refused-${action}`), "no session was made");
    }
  });

  test("AssumeRole denied by the trust policy: an isError result with AWS's code", async () => {
    const text = await fails("AssumeRole", { RoleArn: role("Locked"), RoleSessionName: "nope" });
    assert.match(text, /AccessDenied/);
    assert.match(text, /Locked/);
  });

  test("bad input: an isError result naming what is wrong, never a crash", async () => {
    const extra = await fails("GetWebIdentityToken", { WebIdentityToken: "x", Audience: ["a"], SigningAlgorithm: "RS256" });
    assert.match(extra, /WebIdentityToken/);
    assert.match(extra, /Audience/, "lists the params the command takes");
    const unknown = await fails("DeleteEverything");
    assert.match(unknown, /AssumeRole/, "names the commands there are");
    const chained = await fails("AssumeRole", { RoleArn: role("Ops"), RoleSessionName: "ops2", Session: "dev", DurationSeconds: 7200 });
    assert.match(chained, /3600|one hour/i);
    const noCommand = (await mcp.client.callTool({ name: "STSTool", arguments: {} })) as Result;
    assert.equal(noCommand.isError, true);
    // An unknown tool is a protocol fault, not a tool result.
    await assert.rejects(mcp.client.callTool({ name: "NoSuchTool", arguments: {} }), McpError);
    assert.deepEqual(await mcp.client.ping(), {}, "the server still answers");
  });

  test("MFA through elicitation: a 6-digit field, and the model's code is never used when the user can be asked", async () => {
    const n = mcp.elicitations.length;
    const admin = await ok("AssumeRole", { RoleArn: role("Admin"), RoleSessionName: "admin", SerialNumber: MFA_SERIAL });
    assert.match(admin.text, /assumed-role\/Admin\/admin/);
    const asked = since(mcp, n);
    const mfa = asked.filter((e) =>
      Object.values("requestedSchema" in e ? e.requestedSchema.properties : {}).some(
        (p) =>
          p.type === "string" &&
          (("pattern" in p && typeof p.pattern === "string" && new RegExp(p.pattern).test("123456") && !new RegExp(p.pattern).test("12345")) ||
            ("minLength" in p && p.minLength === 6 && "maxLength" in p && p.maxLength === 6)),
      ),
    );
    assert.equal(mfa.length, 1, `one MFA question with a 6-digit field among ${JSON.stringify(asked)}`);
    assert.ok(mfa[0].message.includes(MFA_SERIAL), "names the MFA device");

    // The model passes a (correct) code: the user is asked anyway, or the code is refused.
    const m = mcp.elicitations.length;
    const res = await call("GetSessionToken", { SerialNumber: MFA_SERIAL, TokenCode: MFA_CODE, SessionName: "mfa", DurationSeconds: 3600 });
    if (res.isError) {
      assert.match(textOf(res), /TokenCode/);
    } else {
      const codeAsked = since(mcp, m).filter(
        (e) => "requestedSchema" in e && Object.values(e.requestedSchema.properties).some((p) => p.type === "string") && e.message.includes(MFA_SERIAL),
      );
      assert.equal(codeAsked.length, 1, "the user was asked for the code the model passed");
      assert.match(textOf(res), new RegExp(`MFA: ${MFA_SERIAL}`));
      called.add("GetSessionToken");
    }
  });

  test("the other minting commands, each after consent", async () => {
    const minting: [string, Record<string, unknown>, RegExp][] = [
      ["GetSessionToken", { SessionName: "plain", DurationSeconds: 900 }, /\*\*GetSessionToken\*\* succeeded, stored as session `plain`/],
      ["GetFederationToken", { Name: "contractor", PolicyArns: ["arn:aws:iam::aws:policy/ReadOnlyAccess"] }, /federated-user\/contractor`, stored as session `contractor`/],
      ["AssumeRoleWithSAML", { SAMLAssertionFile: samlFile, SessionName: "saml" }, /assumed-role\/SamlDev\/alice`, stored as session `saml`/],
      ["AssumeRoleWithWebIdentity", { RoleArn: role("WebDev"), RoleSessionName: "ci-job", WebIdentityTokenFile: tokenFile }, /assumed-role\/WebDev\/ci-job`, stored as session `ci-job`/],
      ["AssumeRoot", { TargetPrincipal: MEMBER, TaskPolicyArn: "IAMAuditRootUserCredentials" }, /`arn:aws:iam::111122223333:root`, stored as session `root-111122223333`/],
      ["GetDelegatedAccessToken", { TradeInToken: TRADE_IN_TOKEN, SessionName: "delegated" }, /stored as session `delegated`/],
    ];
    const byName = new Map(modelCommands().map((c) => [c.name, c]));
    for (const [command, params, want] of minting) {
      const n = mcp.elicitations.length;
      const { text, data } = await ok(command, params);
      assert.match(text, want);
      const session = data.session as { name?: string; accessKeyId?: string } | undefined;
      assert.ok(session?.name && text.includes(`stored as session \`${session.name}\``), `${command}'s data names its session`);
      assert.match(String(session.accessKeyId), /^ASIA…/, `${command}'s key id is masked`);
      const asked = since(mcp, n);
      const title = byName.get(command)?.confirm?.title;
      if (byName.get(command)?.mints) {
        assert.ok(title, `${command} has a confirmation card`);
        assert.ok(
          asked.some((e) => e.message.includes(title)),
          `${command} asked for consent with "${title}": ${JSON.stringify(asked.map((e) => e.message))}`,
        );
      }
    }
  });

  test("GetWebIdentityToken stores the JWT, never shows it", async () => {
    const jwt = await ok("GetWebIdentityToken", { Audience: ["urn:example:api"], SigningAlgorithm: "RS256" });
    assert.match(jwt.text, /stored as session `web-identity-token`/);
    assert.match(jwt.text, /Token audience: urn:example:api/);
  });

  test("DecodeAuthorizationMessage", async () => {
    const decoded = await ok("DecodeAuthorizationMessage", { EncodedMessage: encodedMessage });
    assert.match(decoded.text, /\*\*Explicit deny\*\*: `ec2:RunInstances`/);
    assert.match(decoded.text, /`Deny1` \(DENY\)/);
  });

  test("ListSessions, UseSession and ForgetSession", async () => {
    const list = await ok("ListSessions");
    for (const name of ["dev", "ops", "partner", "admin", "plain", "contractor", "saml", "ci-job", "web-identity-token", "root-111122223333", "delegated"]) {
      assert.match(list.text, new RegExp(`\`${name}\``), `ListSessions shows ${name}`);
    }
    await ok("UseSession", { SessionName: "dev" });
    assert.match((await ok("GetCallerIdentity")).text, /assumed-role\/Dev\/dev/, "dev is the default now");
    await ok("UseSession", { SessionName: "base" });
    const forget = await ok("ForgetSession", { SessionName: "partner" });
    assert.match(forget.text, /partner/);
    assert.doesNotMatch((await ok("ListSessions")).text, /`partner`/);
  });

  test("WriteProfile: after consent the session goes into the credentials file; the model sees the profile name", async () => {
    const before = fs.readFileSync(aws.credentials, "utf8");
    mcp.setPolicy("decline");
    try {
      const text = await fails("WriteProfile", { SessionName: "dev", Profile: "dev-declined" });
      assert.match(text, /declined/i);
    } finally {
      mcp.setPolicy("accept");
    }
    assert.equal(fs.readFileSync(aws.credentials, "utf8"), before, "declined: the file is untouched");

    const n = mcp.elicitations.length;
    for (const name of ["dev", "ops", "admin", "plain", "contractor", "saml", "ci-job", "root-111122223333", "delegated"]) {
      const { text, data } = await ok("WriteProfile", { SessionName: name, Profile: `mcp-${name}` });
      assert.match(text, new RegExp(`mcp-${name}`));
      assert.equal(data.profile, `mcp-${name}`);
      assert.equal(data.path, aws.credentials, "the shared credentials file");
    }
    const title = modelCommands().find((c) => c.name === "WriteProfile")?.confirm?.title;
    assert.ok(title);
    assert.equal(since(mcp, n).filter((e) => e.message.includes(title)).length, 9, "WriteProfile asked the user each time");
    const written = credentialsFileSecrets(aws.credentials);
    assert.ok(written.get("demo")?.includes(sts.info.secretAccessKey), "the base profile is kept");
    for (const name of ["dev", "ops", "admin", "plain", "contractor", "saml", "ci-job", "root-111122223333", "delegated"]) {
      const own = written.get(`mcp-${name}`) ?? [];
      assert.equal(own.length, 2, `[mcp-${name}] holds a secret key and a session token`);
      secrets.push(...own);
    }
  });

  test("logging/setLevel: log notifications arrive, scrubbed", async () => {
    await mcp.client.setLoggingLevel("debug");
    const n = mcp.logs.length;
    await ok("GetCallerIdentity", { Session: "dev" });
    await withTimeout(
      (async () => {
        while (mcp.logs.length === n) {
          await new Promise((r) => setTimeout(r, 20));
        }
      })(),
      5000,
      "a log notification",
    );
    await mcp.client.setLoggingLevel("error");
  });

  test("progress notifications when the client sends a progress token", async () => {
    const res = (await mcp.client.callTool({ name: "STSTool", arguments: { command: "GetCallerIdentity" } }, undefined, {
      onprogress: () => undefined, // makes the SDK send a progress token
    })) as Result;
    assert.notEqual(res.isError, true);
    // Read from the wire: the SDK handles notifications a tick after responses, so a handler sees
    // progress that arrived in the same read as the result only by luck.
    const request = [...mcp.transport.sent].reverse().find((m) => "method" in m && m.method === "tools/call");
    assert.ok(request && "params" in request && "id" in request);
    const token = (request.params as { _meta?: { progressToken?: unknown } })._meta?.progressToken;
    assert.notEqual(token, undefined, "the client sent a progress token");
    const answered = mcp.transport.received.findIndex((m) => "id" in m && !("method" in m) && m.id === request.id);
    const progress = mcp.transport.received
      .slice(0, answered)
      .filter((m) => "method" in m && m.method === "notifications/progress" && (m.params as { progressToken?: unknown }).progressToken === token)
      .map((m) => ("params" in m ? (m.params as { progress: number; total?: number }) : undefined));
    assert.ok(progress.length >= 1, "at least one progress notification before the result");
    assert.ok(
      progress.every((p, i) => i === 0 || (p && p.progress > (progress[i - 1]?.progress ?? -1))),
      "progress only increases",
    );
  });

  describe("a client without the elicitation capability", () => {
    test("credential-minting commands are refused, naming --allow-credential-commands; read-only ones run", async () => {
      const plain = await start(stsArgs(), false);
      const text = await fails("AssumeRole", { RoleArn: role("Dev"), RoleSessionName: "unasked" }, plain);
      assert.match(text, /--allow-credential-commands/);
      assert.match((await ok("GetCallerIdentity", undefined, plain)).text, /user\/alice/);
      assert.doesNotMatch((await ok("ListSessions", undefined, plain)).text, /unasked/, "nothing was minted");
      await plain.close();
    });

    test("with --allow-credential-commands they run, and the model may pass the MFA code", async () => {
      const allowed = await start([...stsArgs(), "--allow-credential-commands"], false);
      const dev = await ok("AssumeRole", { RoleArn: role("Dev"), RoleSessionName: "allowed" }, allowed);
      assert.match(dev.text, /stored as session `allowed`/);
      const mfa = await ok("GetSessionToken", { SerialNumber: MFA_SERIAL, TokenCode: MFA_CODE, SessionName: "mfa-allowed" }, allowed);
      assert.match(mfa.text, new RegExp(`MFA: ${MFA_SERIAL}`));
      await allowed.close();
    });
  });

  describe("against an STS endpoint that accepts and never answers", () => {
    let silent: SilentServer;
    let hung: McpRun;

    before(async () => {
      silent = await startSilentServer();
      hung = await start(["--profile", "demo", "--region", "us-east-1", "--endpoint-url", silent.url], true);
    });

    after(async () => {
      await hung?.close();
      await silent?.close();
    });

    test("a cancelled call ends within 1 s and its STS connection is dropped", async () => {
      const conn = silent.nextRequest();
      const abort = new AbortController();
      const pending = hung.client.callTool({ name: "STSTool", arguments: { command: "GetCallerIdentity" } }, undefined, { signal: abort.signal });
      const settled = pending.then(
        () => "resolved",
        () => "rejected",
      );
      const socket = await withTimeout(conn, 10_000, "the call reaching the endpoint");
      const t0 = performance.now();
      abort.abort("the user stopped it");
      assert.equal(await withTimeout(settled, 1000, "the cancelled call"), "rejected");
      await withTimeout(closed(socket), 1000, "the server dropping its STS connection");
      assert.ok(performance.now() - t0 < 1000);
      assert.ok(
        hung.transport.sent.some((m) => "method" in m && m.method === "notifications/cancelled"),
        "the client sent notifications/cancelled",
      );
      assert.deepEqual(await withTimeout(hung.client.ping(), 2000, "ping after the cancel"), {}, "the server still answers");
    });

    test("a declined AssumeRole never reaches the endpoint", async () => {
      const before = silent.accepted();
      hung.setPolicy("decline");
      try {
        const text = await fails("AssumeRole", { RoleArn: role("Dev"), RoleSessionName: "never" }, hung);
        assert.match(text, /declined/i);
      } finally {
        hung.setPolicy("accept");
      }
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(silent.accepted(), before, "no connection to STS");
    });
  });

  test("every command the MCP tool offers was called", () => {
    const offered = modelCommands().map((c) => c.name);
    assert.deepEqual(
      offered.filter((c) => !called.has(c)),
      [],
    );
  });

  test("no secret in any message any client received, nor in a log line", () => {
    assert.ok(secrets.length >= 20, `secrets collected: ${secrets.length}`);
    for (const run of runs) {
      const received = run.transport.received.map((m) => JSON.stringify(m)).join("\n");
      assert.ok(received.length > 1000, "the client received messages");
      for (const s of secrets) {
        assert.ok(s.length >= 8);
        assert.ok(!received.includes(s), `a secret (${s.slice(0, 4)}…) reached the client`);
        assert.ok(!run.stderr().includes(s), `a secret (${s.slice(0, 4)}…) reached the log`);
      }
      assert.deepEqual(secretShapes(received), [], "nothing secret-shaped reached the client");
      assert.doesNotMatch(received, /(?<![0-9])123456(?![0-9])/, "the MFA code is not echoed");
    }
  });
});

test("the secret detector finds secret-shaped strings and passes ordinary output", () => {
  assert.equal(secretShapes('{"SecretAccessKey":"abc"} {"sessionToken":"x"}').length, 2);
  assert.equal(secretShapes("key wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY here").length, 1);
  assert.equal(secretShapes("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlc2ln").length, 1);
  assert.deepEqual(secretShapes('{"accessKeyId":"ASIA…7PGX","arn":"arn:aws:sts::123456789012:assumed-role/Dev/dev","SessionToken":""}'), []);
});

// The answer helper is what a user gives: checked here so a change in the SDK's types shows.
test("the elicitation answer fills yes/no and code fields", () => {
  const res = answer(
    {
      message: "m",
      requestedSchema: { type: "object", properties: { ok: { type: "boolean" }, code: { type: "string", minLength: 6, maxLength: 6 } } },
    },
    "123456",
  );
  assert.deepEqual(res, { action: "accept", content: { ok: true, code: "123456" } });
});
