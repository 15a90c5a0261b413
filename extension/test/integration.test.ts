// The Supervisor and SidecarClient driving the real sidecar against the embedded local STS: every
// command, the session methods, secrets staying out of results, cancellation, a crash mid-call with
// a restart, and a clean stop.
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { SidecarClient } from "../src/client";
import { RestartPolicy, Supervisor, SupervisorState } from "../src/supervisor";
import { ERROR_CODES, InvokeResult, Settings } from "../src/protocol.gen";
import {
  HangingServer,
  jsonrpc,
  LocalSts,
  postJson,
  rejection,
  processExists,
  scratchDir,
  sidecarBinary,
  sidecarEnv,
  sidecarSkipReason,
  startHangingServer,
  startLocalSts,
  withTimeout,
} from "./helpers";

const ACCOUNT = "123456789012";
const role = (name: string): string => `arn:aws:iam::${ACCOUNT}:role/${name}`;
const MFA_SERIAL = `arn:aws:iam::${ACCOUNT}:mfa/alice`;
const TRADE_IN_TOKEN = "localsts-demo-trade-in-1";

interface Harness {
  supervisor: Supervisor;
  logs: string[];
  states: [SupervisorState, string | undefined][];
  pids: Set<number>;
}

/** A Supervisor on bin/awsflow-sts with a scrubbed environment, recording its log and states. */
function supervise(dir: string, settings: Settings, keys: { accessKeyId: string; secretAccessKey: string }): Harness {
  const logs: string[] = [];
  const states: [SupervisorState, string | undefined][] = [];
  const pids = new Set<number>();
  const env = sidecarEnv(dir, keys);
  const supervisor = new Supervisor({
    binary: () => sidecarBinary,
    settings: () => settings,
    clientInfo: { name: "integration-test", version: "1" },
    env: () => env,
    log: (line) => logs.push(line),
    onStateChange: (state, detail) => {
      states.push([state, detail]);
      if (state === "running" && supervisor.pid !== undefined) {
        pids.add(supervisor.pid);
      }
    },
  });
  return { supervisor, logs, states, pids };
}

const skip = sidecarSkipReason();

describe("the real sidecar through the Supervisor", { skip, timeout: 120_000 }, () => {
  let sts: LocalSts;
  let scratch: { dir: string; remove(): void };
  let main: Harness;
  let client: SidecarClient;
  let runningBeforeFirstCall: boolean;
  let firstClients: SidecarClient[];
  /** Everything a result showed (what the model or the UI sees), to search for secrets. */
  const seen: string[] = [];
  /** Secret inputs: none may come back in any result. */
  const secrets: string[] = [];

  const invoke = async (command: string, params?: Record<string, unknown>): Promise<InvokeResult> => {
    const res = await withTimeout(client.invoke(command, params), 15_000, command);
    seen.push(res.text, JSON.stringify(res.data));
    return res;
  };

  before(async () => {
    sts = await startLocalSts();
    scratch = scratchDir();
    secrets.push(sts.info.secretAccessKey, TRADE_IN_TOKEN);
    main = supervise(scratch.dir, { endpointUrl: sts.info.endpoint, region: sts.info.region, maxAttempts: 1 }, sts.info);
    runningBeforeFirstCall = main.supervisor.running;
    firstClients = await Promise.all([main.supervisor.client(), main.supervisor.client(), main.supervisor.client()]);
    client = firstClients[0];
  });

  after(async () => {
    await main?.supervisor.stop();
    await sts?.stop();
    scratch?.remove();
  });

  test("starts lazily, once for concurrent callers, and reports running", () => {
    assert.equal(runningBeforeFirstCall, false);
    assert.ok(firstClients.every((c) => c === client), "the three first callers share one start");
    assert.equal(main.supervisor.running, true);
    assert.ok(main.supervisor.pid);
    assert.deepEqual(
      main.states.map(([s]) => s),
      ["starting", "running"],
    );
    assert.match(main.logs.join("\n"), /\[supervisor\] sidecar running: pid \d+, awsflow-sts .*, protocol 1/);
  });

  test("later callers get the same sidecar", async () => {
    const clients = await Promise.all([main.supervisor.client(), main.supervisor.client(), main.supervisor.client()]);
    assert.ok(clients.every((c) => c === client));
  });

  test("GetCallerIdentity and GetAccessKeyInfo", async () => {
    const who = await invoke("GetCallerIdentity");
    assert.match(who.text, /\*\*Caller identity\*\* of the base identity.*IAM user/);
    assert.match(who.text, new RegExp(`arn:aws:iam::${ACCOUNT}:user/alice`));
    const key = await invoke("GetAccessKeyInfo", { AccessKeyId: sts.info.accessKeyId });
    assert.match(key.text, new RegExp(`belongs to account \`${ACCOUNT}\``));
    assert.equal(key.data.command, "GetAccessKeyInfo");
  });

  test("AssumeRole, a chained call as the session, external id, and a denial", async () => {
    const dev = await invoke("AssumeRole", { RoleArn: role("Dev"), RoleSessionName: "dev" });
    assert.match(dev.text, /\*\*AssumeRole\*\* succeeded: `arn:aws:sts::123456789012:assumed-role\/Dev\/dev`, stored as session `dev`/);
    assert.match(dev.text, /Access key: `ASIA…/);
    const asDev = await invoke("GetCallerIdentity", { Session: "dev" });
    assert.match(asDev.text, /of session `dev`: assumed role/);
    const partner = await invoke("AssumeRole", { RoleArn: role("Partner"), RoleSessionName: "partner", ExternalId: "partner-ext-1" });
    assert.match(partner.text, /stored as session `partner`/);

    const denied = await rejection(client.invoke("AssumeRole", { RoleArn: role("Locked"), RoleSessionName: "nope" }));
    assert.equal(denied.code, ERROR_CODES.AWSError);
    assert.equal(denied.kind, "aws");
    assert.equal(denied.data?.awsCode, "AccessDenied");
    assert.ok(denied.data?.hint);
    seen.push(denied.message, JSON.stringify(denied.data));
  });

  test("GetSessionToken with MFA, then the MFA-protected role from it", async () => {
    const mfa = await invoke("GetSessionToken", { SerialNumber: MFA_SERIAL, TokenCode: "123456", SessionName: "mfa", DurationSeconds: 3600 });
    assert.match(mfa.text, /\*\*GetSessionToken\*\* succeeded, stored as session `mfa`/);
    assert.match(mfa.text, new RegExp(`MFA: ${MFA_SERIAL}`));
    const admin = await invoke("AssumeRole", { RoleArn: role("Admin"), RoleSessionName: "admin", Session: "mfa" });
    assert.match(admin.text, /assumed-role\/Admin\/admin/);
    assert.match(admin.text, /Made from: session `mfa`/);
  });

  test("GetFederationToken", async () => {
    const fed = await invoke("GetFederationToken", { Name: "contractor", PolicyArns: ["arn:aws:iam::aws:policy/ReadOnlyAccess"] });
    assert.match(fed.text, /federated-user\/contractor`, stored as session `contractor`/);
  });

  test("AssumeRoleWithSAML from SAMLAssertionFile", async () => {
    const { samlAssertion } = await postJson<{ samlAssertion: string }>(`${sts.info.endpoint}/_localsts/saml/assertion`, {
      subject: "alice@example.com",
      roleSessionName: "alice",
      roles: [`${role("SamlDev")},arn:aws:iam::${ACCOUNT}:saml-provider/DemoIdP`],
    });
    secrets.push(samlAssertion);
    const file = path.join(scratch.dir, "saml.b64");
    fs.writeFileSync(file, samlAssertion, { mode: 0o600 });
    const saml = await invoke("AssumeRoleWithSAML", { SAMLAssertionFile: file, SessionName: "saml" });
    assert.match(saml.text, /\*\*AssumeRoleWithSAML\*\* succeeded: `arn:aws:sts::123456789012:assumed-role\/SamlDev\/alice`, stored as session `saml`/);
    assert.match(saml.text, /SAML provider: arn:aws:iam::123456789012:saml-provider\/DemoIdP/);
  });

  test("AssumeRoleWithWebIdentity from WebIdentityTokenFile", async () => {
    const { token } = await postJson<{ token: string }>(`${sts.info.endpoint}/_localsts/oidc/token`, {
      sub: "repo:example/app:ref:refs/heads/main",
      aud: "demo-client",
      expiresIn: 600,
    });
    secrets.push(token);
    const file = path.join(scratch.dir, "web-identity-token");
    fs.writeFileSync(file, token, { mode: 0o600 });
    const web = await invoke("AssumeRoleWithWebIdentity", { RoleArn: role("WebDev"), RoleSessionName: "ci-job", WebIdentityTokenFile: file });
    assert.match(web.text, /assumed-role\/WebDev\/ci-job`, stored as session `ci-job`/);
    assert.match(web.text, /Token audience: demo-client/);
  });

  test("GetWebIdentityToken", async () => {
    const jwt = await invoke("GetWebIdentityToken", { Audience: ["urn:example:api"], SigningAlgorithm: "RS256" });
    assert.match(jwt.text, /\*\*GetWebIdentityToken\*\* succeeded, stored as session `web-identity-token`/);
    assert.match(jwt.text, /Token audience: urn:example:api/);
    assert.match(jwt.text, /Token algorithm: RS256/);
  });

  test("AssumeRoot", async () => {
    const root = await invoke("AssumeRoot", { TargetPrincipal: "111122223333", TaskPolicyArn: "IAMAuditRootUserCredentials" });
    assert.match(root.text, /`arn:aws:iam::111122223333:root`, stored as session `root-111122223333`/);
    assert.match(root.text, /Task policy: arn:aws:iam::aws:policy\/root-task\/IAMAuditRootUserCredentials/);
  });

  test("GetDelegatedAccessToken, whose token is single use", async () => {
    const delegated = await invoke("GetDelegatedAccessToken", { TradeInToken: TRADE_IN_TOKEN, SessionName: "delegated" });
    assert.match(delegated.text, /\*\*GetDelegatedAccessToken\*\* succeeded: .*stored as session `delegated`/);
    const again = await rejection(client.invoke("GetDelegatedAccessToken", { TradeInToken: TRADE_IN_TOKEN, SessionName: "again" }));
    assert.equal(again.kind, "aws");
    seen.push(again.message, JSON.stringify(again.data));
  });

  test("DecodeAuthorizationMessage", async () => {
    const { encodedMessage } = await postJson<{ encodedMessage: string }>(`${sts.info.endpoint}/_localsts/encode-message`, {
      Account: ACCOUNT,
      PrincipalArn: `arn:aws:iam::${ACCOUNT}:user/alice`,
      Action: "ec2:RunInstances",
      Resource: "*",
      ExplicitDeny: true,
      StatementID: "Deny1",
    });
    const decoded = await invoke("DecodeAuthorizationMessage", { EncodedMessage: encodedMessage });
    assert.match(decoded.text, /\*\*Explicit deny\*\*: `ec2:RunInstances`/);
    assert.match(decoded.text, /`Deny1` \(DENY\)/);
  });

  test("ListSessions, UseSession and ForgetSession as tool commands", async () => {
    const list = await invoke("ListSessions");
    for (const name of ["dev", "partner", "mfa", "admin", "contractor", "saml", "ci-job", "web-identity-token", "root-111122223333", "delegated"]) {
      assert.match(list.text, new RegExp(`\`${name}\``), `ListSessions shows ${name}`);
    }
    const use = await invoke("UseSession", { SessionName: "dev" });
    assert.match(use.text, /dev/);
    const who = await invoke("GetCallerIdentity");
    assert.match(who.text, /assumed-role\/Dev\/dev/, "the default identity is now the dev session");
    const forget = await invoke("ForgetSession", { SessionName: "partner" });
    assert.match(forget.text, /partner/);
    await invoke("UseSession", { SessionName: "base" });
  });

  test("the session methods, and secrets only through sessions/export", async () => {
    const list = await client.listSessions();
    seen.push(JSON.stringify(list));
    assert.equal(list.active, "base");
    const names = list.sessions.map((s) => s.name);
    assert.ok(!names.includes("partner"), "ForgetSession removed partner");
    assert.ok(names.includes("dev"));
    for (const s of list.sessions) {
      assert.match(s.accessKeyId ?? "ASIA…", /…/, `${s.name}'s key id is masked`);
    }

    const used = await client.useSession("dev");
    seen.push(JSON.stringify(used));
    assert.equal(used.active, "dev");
    assert.equal(used.sessions.find((s) => s.name === "dev")?.active, true);
    seen.push(JSON.stringify(await client.useSession("base")));

    let exported = 0;
    for (const s of list.sessions) {
      const exp = await client.exportSession(s.name);
      assert.equal(exp.name, s.name);
      const own = [exp.secretAccessKey, exp.sessionToken, exp.webIdentityToken, exp.accessKeyId].filter((v): v is string => !!v);
      assert.ok(own.length >= 1, `${s.name} exported its secrets`);
      secrets.push(...own);
      exported++;
    }
    assert.equal(exported, list.sessions.length);
    const jwt = await client.exportSession("web-identity-token");
    assert.ok(jwt.webIdentityToken && jwt.webIdentityToken.split(".").length === 3, "the issued JWT is exported");

    const forgotten = await client.forgetSession("dev");
    seen.push(JSON.stringify(forgotten));
    assert.ok(!forgotten.sessions.some((s) => s.name === "dev"));
    const gone = await rejection(client.exportSession("dev"));
    assert.equal(gone.kind, "session");

    const everything = seen.join("\n");
    for (const secret of secrets) {
      assert.ok(secret.length >= 8);
      assert.ok(!everything.includes(secret), `a secret (${secret.slice(0, 4)}…) appeared in a result`);
    }
  });

  test("profiles/list reads the shared config file without keys", async () => {
    const secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
    fs.writeFileSync(
      path.join(scratch.dir, "aws-config"),
      `[profile dev]\nrole_arn = ${role("Dev")}\nsource_profile = default\nregion = eu-west-1\naws_secret_access_key = ${secret}\n`,
    );
    try {
      const list = await client.listProfiles();
      assert.equal(list.configFile, path.join(scratch.dir, "aws-config"));
      assert.deepEqual(
        list.profiles.find((p) => p.name === "dev"),
        { name: "dev", roleArn: role("Dev"), sourceProfile: "default", region: "eu-west-1" },
      );
      assert.ok(!JSON.stringify(list).includes(secret));
    } finally {
      fs.writeFileSync(path.join(scratch.dir, "aws-config"), "");
    }
  });

  test("settings updates reach the running sidecar", async () => {
    await main.supervisor.updateSettings({ endpointUrl: sts.info.endpoint, region: sts.info.region, maxAttempts: 1, logLevel: "debug" });
    const bad = await rejection(main.supervisor.updateSettings({ logLevel: "verbose" }));
    assert.equal(bad.kind, "validation");
    assert.match((await invoke("GetCallerIdentity")).text, /Caller identity/);
  });

  describe("against an STS endpoint that never answers", () => {
    let hanging: HangingServer;
    let slow: Harness;
    let slowScratch: { dir: string; remove(): void };

    before(async () => {
      hanging = await startHangingServer();
      slowScratch = scratchDir();
      slow = supervise(slowScratch.dir, { endpointUrl: hanging.url, region: "us-east-1", maxAttempts: 1 }, sts.info);
      await slow.supervisor.client();
    });

    after(async () => {
      await slow?.supervisor.stop();
      await hanging?.close();
      slowScratch?.remove();
    });

    test("a cancelled call rejects with RequestCancelled within a second", async () => {
      const c = await slow.supervisor.client();
      const source = new jsonrpc.CancellationTokenSource();
      const arrived = hanging.nextRequest();
      const call = c.invoke("GetCallerIdentity", undefined, source.token);
      await withTimeout(arrived, 5000, "the call reaching the endpoint");
      const cancelledAt = Date.now();
      source.cancel();
      const err = await withTimeout(rejection(call), 1000, "the cancelled call");
      assert.ok(Date.now() - cancelledAt < 1000);
      assert.equal(err.code, ERROR_CODES.RequestCancelled);
      assert.equal(err.kind, "cancelled");
      assert.match((await c.invoke("ListSessions")).text, /session/i, "the sidecar still answers");
    });

    test("a sidecar killed mid-call fails that call as disconnected; the next call restarts it", async () => {
      const c = await slow.supervisor.client();
      const oldPid = slow.supervisor.pid;
      assert.ok(oldPid);
      const arrived = hanging.nextRequest();
      const call = c.invoke("GetCallerIdentity");
      await withTimeout(arrived, 5000, "the call reaching the endpoint");
      process.kill(oldPid, "SIGKILL");
      const err = await withTimeout(rejection(call), 5000, "the call cut short");
      assert.equal(err.kind, "disconnected");
      assert.equal(err.message, "the awsflow-sts sidecar stopped while handling tool/invoke; it will be restarted on the next call");

      const again = await withTimeout(slow.supervisor.client(), 10_000, "the restart");
      assert.notEqual(again, c);
      const newPid = slow.supervisor.pid;
      assert.ok(newPid && newPid !== oldPid, `a new process (${String(newPid)} after ${oldPid})`);
      assert.match((await again.invoke("ListSessions")).text, /session/i);
      assert.ok(!processExists(oldPid), "the killed process is gone");
      assert.ok(
        slow.states.some(([s, d]) => s === "stopped" && /exited unexpectedly \(signal SIGKILL\)/.test(d ?? "")),
        JSON.stringify(slow.states),
      );
      assert.match(slow.logs.join("\n"), /\[supervisor\] restarting the sidecar in 200 ms/);
    });

    test("stop() with a call in flight ends the process anyway", async () => {
      const c = await slow.supervisor.client();
      const pid = slow.supervisor.pid;
      assert.ok(pid);
      const arrived = hanging.nextRequest();
      const call = rejection(c.invoke("GetCallerIdentity"));
      await withTimeout(arrived, 5000, "the call reaching the endpoint");
      const started = Date.now();
      await withTimeout(slow.supervisor.stop(300), 5000, "stop");
      assert.ok(Date.now() - started < 3000);
      assert.equal((await call).kind, "disconnected");
      assert.equal(slow.supervisor.running, false);
      assert.equal(slow.supervisor.pid, undefined);
      assert.ok(!processExists(pid), "no process left behind");
      assert.equal(slow.states.at(-1)?.[0], "stopped");
      // shutdown waits for calls in flight, so this took the SIGTERM path.
      assert.match(slow.logs.join("\n"), /did not exit after shutdown; sending SIGTERM/);
    });
  });

  test("restart() replaces the process; stop() leaves none behind", async () => {
    const before = main.supervisor.pid;
    assert.ok(before);
    await main.supervisor.restart();
    const after = main.supervisor.pid;
    assert.ok(after && after !== before);
    assert.ok(!processExists(before));
    await main.supervisor.stop();
    assert.equal(main.supervisor.running, false);
    for (const pid of main.pids) {
      assert.ok(!processExists(pid), `pid ${pid} is gone`);
    }
    // Stopped is not broken: the next call starts it again.
    const c = await main.supervisor.client();
    assert.match((await c.invoke("GetCallerIdentity")).text, /Caller identity/);
  });
});

describe("a sidecar that cannot start", { timeout: 30_000 }, () => {
  test("a missing binary fails with kind failed and a clear message, and is not retried in a loop", async () => {
    const states: SupervisorState[] = [];
    const supervisor = new Supervisor({
      binary: () => "/nonexistent/awsflow-sts",
      settings: () => ({}),
      clientInfo: { name: "t" },
      log: () => undefined,
      onStateChange: (s) => states.push(s),
      policy: new RestartPolicy({ maxRestarts: 1, baseDelayMs: 10 }),
    });
    const err = await rejection(supervisor.client());
    assert.equal(err.kind, "failed");
    assert.match(err.message, /could not be started.*ENOENT.*AWS STS: Restart Sidecar/s);
    assert.equal(states.at(-1), "failed");
    // One retry is allowed (after its backoff), then the policy refuses without spawning.
    assert.match((await rejection(supervisor.client())).message, /could not be started/);
    const refused = await rejection(supervisor.client());
    assert.equal(refused.kind, "failed");
    assert.match(refused.message, /was not restarted: the sidecar stopped unexpectedly 2 times within 3 minutes.*Restart Sidecar/);
    assert.equal(states.filter((s) => s === "starting").length, 2);
    await supervisor.stop();
  });

  test("bad settings are reported from initialize, not as a crash", { skip }, async () => {
    const scratch = scratchDir();
    const logs: string[] = [];
    try {
      const supervisor = new Supervisor({
        binary: () => sidecarBinary,
        settings: () => ({ logLevel: "verbose" }),
        clientInfo: { name: "t" },
        env: () => sidecarEnv(scratch.dir),
        log: (line) => logs.push(line),
      });
      const err = await rejection(supervisor.client());
      assert.equal(err.kind, "validation");
      assert.match(err.message, /settings\.logLevel/);
      // The user must fix the setting; the next call tries again at once, with no crash backoff.
      assert.equal((await rejection(supervisor.client())).kind, "validation");
      assert.doesNotMatch(logs.join("\n"), /restarting the sidecar|exited unexpectedly/);
      await supervisor.stop();
    } finally {
      scratch.remove();
    }
  });
});
