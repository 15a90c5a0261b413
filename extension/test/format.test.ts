import { test, describe } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { SidecarError } from "../src/client";
import { commandInfo, isMinting } from "../src/contract";
import { errorText } from "../src/errortext";
import { confirmation, invocationMessage } from "../src/invocation";
import { validateParams } from "../src/precheck";
import { expiryWarning, statusBarText, timeLeft } from "../src/sessiontext";
import { COMMANDS, SessionInfo, SessionList } from "../src/protocol.gen";
import { repoRoot } from "./helpers";

const DEV = "arn:aws:iam::123456789012:role/Dev";

/** Every secret value a test passes; none may appear in any text. */
const SECRETS = {
  SAMLAssertion: "PHNhbWxwOlJlc3BvbnNlIHNlY3JldA==",
  WebIdentityToken: "eyJhbGciOiJSUzI1NiJ9.secret-payload.sig",
  TradeInToken: "localsts-demo-trade-in-1",
  TokenCode: "908172", // not 123456: that is part of the demo account id
};

/** Representative params for every command, secrets included where the command takes them. */
const SAMPLE: Record<string, Record<string, unknown>> = {
  AssumeRole: { RoleArn: DEV, RoleSessionName: "dev", TokenCode: SECRETS.TokenCode, SerialNumber: "arn:aws:iam::123456789012:mfa/alice" },
  AssumeRoleWithSAML: { SAMLAssertion: SECRETS.SAMLAssertion, SessionName: "saml" },
  AssumeRoleWithWebIdentity: { RoleArn: DEV, WebIdentityToken: SECRETS.WebIdentityToken },
  AssumeRoot: { TargetPrincipal: "111122223333", TaskPolicyArn: "IAMAuditRootUserCredentials" },
  DecodeAuthorizationMessage: { EncodedMessage: "abc" },
  GetAccessKeyInfo: { AccessKeyId: "ASIAY34FZKBOKMUTVV7A" },
  GetCallerIdentity: { Session: "dev" },
  GetDelegatedAccessToken: { TradeInToken: SECRETS.TradeInToken },
  GetFederationToken: { Name: "contractor" },
  GetSessionToken: { SerialNumber: "arn:aws:iam::123456789012:mfa/alice", TokenCode: SECRETS.TokenCode },
  GetWebIdentityToken: { Audience: ["urn:example:api"], SigningAlgorithm: "RS256" },
  ListSessions: {},
  UseSession: { SessionName: "dev" },
  ForgetSession: { SessionName: "dev" },
};

function assertNoSecret(text: string): void {
  for (const [name, value] of Object.entries(SECRETS)) {
    assert.ok(!text.includes(value), `${name} leaked into: ${text}`);
  }
}

interface ModelCommand {
  name: string;
  params: { name: string; default?: number }[];
  oneOf?: string[][];
}
const model = JSON.parse(fs.readFileSync(path.join(repoRoot, "protocol", "model.json"), "utf8")) as { commands: ModelCommand[] };

describe("commandInfo and isMinting", () => {
  test("know every command of the contract", () => {
    for (const c of COMMANDS) {
      assert.equal(commandInfo(c.name)?.name, c.name);
    }
    assert.equal(commandInfo("WhoAmI"), undefined);
  });

  test("minting commands are exactly those with mints set", () => {
    const minting = COMMANDS.filter((c) => isMinting(c.name)).map((c) => c.name);
    assert.deepEqual(minting.sort(), [
      "AssumeRole",
      "AssumeRoleWithSAML",
      "AssumeRoleWithWebIdentity",
      "AssumeRoot",
      "GetDelegatedAccessToken",
      "GetFederationToken",
      "GetSessionToken",
      "GetWebIdentityToken",
    ]);
    assert.equal(isMinting("GetCallerIdentity"), false);
    assert.equal(isMinting("Nope"), false);
  });

  test("the generated oneOf groups and default durations match model.json", () => {
    for (const c of model.commands) {
      const info = commandInfo(c.name);
      assert.deepEqual(info?.oneOf ?? [], c.oneOf ?? [], `oneOf of ${c.name}`);
      const def = c.params.find((p) => p.name === "DurationSeconds")?.default;
      assert.equal(info?.defaultDurationSeconds, def, `DurationSeconds default of ${c.name}`);
    }
  });
});

describe("invocationMessage", () => {
  test("has a phrase for every command and never shows a secret", () => {
    const seen = new Set<string>();
    for (const c of COMMANDS) {
      const msg = invocationMessage(c.name, SAMPLE[c.name]);
      assert.ok(msg.length > 0 && !msg.startsWith("Running STSTool"), `${c.name}: ${msg}`);
      assertNoSecret(msg);
      seen.add(msg);
    }
    assert.equal(seen.size, COMMANDS.length, "one distinct phrasing per command");
  });

  test("reads as the examples", () => {
    assert.equal(invocationMessage("AssumeRole", { RoleArn: DEV, RoleSessionName: "dev" }), `Assuming role ${DEV} as session dev`);
    assert.equal(invocationMessage("GetCallerIdentity", { Session: "dev" }), "Checking the caller identity of session dev");
    assert.equal(invocationMessage("GetCallerIdentity", undefined), "Checking the caller identity");
    assert.equal(invocationMessage("DecodeAuthorizationMessage", { EncodedMessage: "x".repeat(5000) }), "Decoding an authorization failure message");
    assert.equal(invocationMessage("ListSessions", undefined), "Listing sessions");
    assert.equal(invocationMessage("UseSession", { SessionName: "base" }), "Switching back to the base identity");
  });

  test("shows file params by path and inline secrets not at all", () => {
    const file = invocationMessage("AssumeRoleWithWebIdentity", { RoleArn: DEV, WebIdentityTokenFile: "/tmp/token" });
    assert.match(file, /\/tmp\/token/);
    const saml = invocationMessage("AssumeRoleWithSAML", { SAMLAssertionFile: "/tmp/saml.b64" });
    assert.match(saml, /\/tmp\/saml\.b64/);
    const inline = invocationMessage("AssumeRoleWithSAML", { SAMLAssertion: SECRETS.SAMLAssertion });
    assert.match(inline, /given inline/);
    assertNoSecret(inline);
  });

  test("adds Session and Region of STS commands", () => {
    assert.equal(
      invocationMessage("AssumeRole", { RoleArn: DEV, RoleSessionName: "ops", Session: "dev", Region: "eu-west-1" }),
      `Assuming role ${DEV} as session ops (from session dev, in eu-west-1)`,
    );
  });

  test("copes with an unknown command and odd values", () => {
    assert.equal(invocationMessage("WhoAmI", undefined), "Running STSTool command WhoAmI");
    assert.equal(invocationMessage("AssumeRole", { RoleArn: 42 }), "Assuming role 42");
    assert.equal(invocationMessage("AssumeRole", { RoleArn: { x: 1 } }), "Assuming role (no role given)");
    assert.ok(invocationMessage("AssumeRole", { RoleArn: "a".repeat(1000) }).length < 200);
  });
});

describe("confirmation", () => {
  test("only minting commands ask", () => {
    for (const c of COMMANDS) {
      const card = confirmation(c.name, SAMPLE[c.name]);
      assert.equal(card !== undefined, isMinting(c.name), c.name);
      if (card) {
        assert.match(card.title, /\?$/);
        assert.match(card.message, /stays? in the awsflow-sts sidecar/);
        assertNoSecret(card.title + card.message);
      }
    }
  });

  test("names the role, session, duration and identity", () => {
    const card = confirmation("AssumeRole", { RoleArn: DEV, RoleSessionName: "dev", DurationSeconds: 7200, Session: "mfa" });
    assert.ok(card);
    assert.equal(card.title, "Assume AWS role?");
    assert.match(card.message, /`arn:aws:iam::123456789012:role\/Dev`/);
    assert.match(card.message, /for 2 hours/);
    assert.match(card.message, /session `mfa`/);
    assert.match(card.message, /Stored as session `dev`/);
  });

  test("an AssumeRole from a profile names the profile, not a missing role", () => {
    const card = confirmation("AssumeRole", { Profile: "prod-admin" });
    assert.ok(card);
    assert.match(card.message, /the role of profile `prod-admin`/);
    assert.doesNotMatch(card.message, /none given/);
    assert.match(card.message, /source_profile of `prod-admin`/);
  });

  test("states the default duration and the default identity when none is given", () => {
    const card = confirmation("GetSessionToken", {});
    assert.ok(card);
    assert.match(card.message, /for the default 12 hours/);
    assert.match(card.message, /default identity/);
    const root = confirmation("AssumeRoot", SAMPLE.AssumeRoot);
    assert.ok(root);
    assert.match(root.message, /111122223333/);
    assert.match(root.message, /IAMAuditRootUserCredentials/);
    assert.match(root.message, /15 minutes/);
  });

  test("anonymous sign-ins say no credentials are used and show the file", () => {
    const card = confirmation("AssumeRoleWithWebIdentity", { RoleArn: DEV, WebIdentityTokenFile: "/tmp/tok" });
    assert.ok(card);
    assert.match(card.message, /No AWS credentials are used/);
    assert.match(card.message, /`\/tmp\/tok`/);
  });

  test("a token is said to stay in the sidecar", () => {
    const card = confirmation("GetWebIdentityToken", SAMPLE.GetWebIdentityToken);
    assert.ok(card);
    assert.match(card.message, /token stays in the awsflow-sts sidecar/);
    assert.match(card.message, /urn:example:api/);
  });

  test("backticks in values cannot break the Markdown", () => {
    const card = confirmation("AssumeRole", { RoleArn: "arn:`oops`", RoleSessionName: "x" });
    assert.ok(card);
    assert.match(card.message, /`arn:'oops'`/);
  });
});

describe("errorText", () => {
  test("formats a sidecar error with kind, AWS code and hint", () => {
    const err = new SidecarError("User is not authorized to perform sts:AssumeRole", 1001, {
      kind: "aws",
      awsCode: "AccessDenied",
      hint: "Check the role's trust policy.",
    });
    assert.equal(
      errorText(err),
      "STSTool error (aws, AccessDenied): User is not authorized to perform sts:AssumeRole\n\nWhat to do: Check the role's trust policy.",
    );
  });

  test("does not repeat a hint already in the message", () => {
    const err = new SidecarError("X was not run: bad.\n\nWhat to do: Fix it.", -32602, { kind: "validation", hint: "Fix it." });
    assert.equal(errorText(err), "STSTool error (validation): X was not run: bad.\n\nWhat to do: Fix it.");
  });

  test("an error without data is internal; other errors get a generic text", () => {
    assert.equal(errorText(new SidecarError("boom", -32603)), "STSTool error (internal): boom");
    for (const e of [new Error("secret-ish details"), "text", undefined, null, 42]) {
      const text = errorText(e);
      assert.match(text, /^STSTool error \(internal\)/);
      assert.ok(!text.includes("secret-ish"));
    }
  });

  test("never throws", () => {
    const hostile = new SidecarError("m", 1, { kind: "aws" });
    Object.defineProperty(hostile, "data", {
      get() {
        throw new Error("nope");
      },
    });
    assert.doesNotThrow(() => errorText(hostile));
  });
});

describe("timeLeft", () => {
  test("rounds down and names the units", () => {
    const cases: [number, string][] = [
      [-5, "expired"],
      [0, "expired"],
      [NaN, "expired"],
      [1, "<1m"],
      [59, "<1m"],
      [60, "1m"],
      [42 * 60 + 59, "42m"],
      [3599, "59m"],
      [3600, "1h"],
      [3 * 3600 + 5 * 60 + 30, "3h 5m"],
      [129600, "36h"],
    ];
    for (const [s, want] of cases) {
      assert.equal(timeLeft(s), want, String(s));
    }
  });
});

describe("statusBarText", () => {
  const now = Date.parse("2030-01-01T00:00:00Z");
  const session = (over: Partial<SessionInfo>): SessionInfo => ({
    name: "dev",
    kind: "credentials",
    command: "AssumeRole",
    accessKeyId: "ASIA…WXYZ",
    arn: "arn:aws:sts::123456789012:assumed-role/Dev/dev",
    account: "123456789012",
    expiration: "2030-01-01T00:42:30Z",
    secondsLeft: 9999,
    expired: false,
    active: true,
    ...over,
  });

  test("the base identity", () => {
    const s = statusBarText(undefined, now);
    assert.equal(s.text, "$(cloud) AWS: base");
    assert.equal(s.warning, false);
  });

  test("an active session, timed from its expiration", () => {
    const s = statusBarText(session({}), now);
    assert.equal(s.text, "$(key) dev · 123456789012 · 42m");
    assert.equal(s.warning, false);
    assert.match(s.tooltip, /assumed-role\/Dev\/dev/);
    assert.match(s.tooltip, /ASIA…WXYZ/);
  });

  test("warns under five minutes and shows expired", () => {
    assert.equal(statusBarText(session({ expiration: "2030-01-01T00:04:59Z" }), now).warning, true);
    assert.equal(statusBarText(session({ expiration: "2030-01-01T00:05:00Z" }), now).warning, false);
    const gone = statusBarText(session({ expiration: "2029-12-31T23:00:00Z" }), now);
    assert.equal(gone.text, "$(key) dev · 123456789012 · expired");
    assert.equal(gone.warning, true);
    assert.equal(statusBarText(session({ expired: true }), now).text, "$(key) dev · 123456789012 · expired");
  });

  test("falls back to secondsLeft and copes without an account", () => {
    const s = statusBarText(session({ expiration: "not a date", secondsLeft: 3 * 3600 + 300, account: undefined }), now);
    assert.equal(s.text, "$(key) dev · 3h 5m");
  });

  test("a refreshable session says it refreshes automatically and warns only when a refresh failed", () => {
    const s = statusBarText(session({ refreshable: true }), now);
    assert.match(s.tooltip, /Expires 2030-01-01T00:42:30Z \(in 42m\); refreshes automatically/);
    assert.doesNotMatch(statusBarText(session({}), now).tooltip, /refreshes automatically/);
    const soon = { refreshable: true, expiration: "2030-01-01T00:04:00Z" };
    assert.equal(statusBarText(session(soon), now).warning, false, "it will be refreshed before it runs out");
    const failing = statusBarText(session({ ...soon, refreshError: "AccessDenied: not allowed" }), now);
    assert.equal(failing.warning, true);
    assert.match(failing.tooltip, /Last refresh failed: AccessDenied: not allowed/);
    assert.match(statusBarText(session({ refreshable: true, refreshedAt: "2029-12-31T23:50:00Z" }), now).tooltip, /Last refreshed 2029-12-31T23:50:00Z/);
  });

  test("shows the MFA device", () => {
    assert.match(statusBarText(session({ mfaSerial: "arn:aws:iam::123456789012:mfa/alice" }), now).tooltip, /MFA: arn:aws:iam::123456789012:mfa\/alice/);
  });
});

describe("expiryWarning", () => {
  const now = Date.parse("2030-01-01T00:00:00Z");
  const info = (over: Partial<SessionInfo>): SessionInfo => ({
    name: "mfa",
    kind: "credentials",
    command: "GetSessionToken",
    expiration: "2030-01-01T00:09:00Z",
    secondsLeft: 540,
    expired: false,
    active: false,
    ...over,
  });
  const list = (sessions: SessionInfo[], active = "base"): SessionList => ({ sessions, active });

  test("a non-refreshable MFA session: minutes left, the command to run, and a renew button with its device", () => {
    const w = expiryWarning("expiring", "mfa", list([info({ mfaSerial: "arn:aws:iam::123456789012:mfa/alice" })]), now);
    assert.ok(w);
    assert.equal(w.text, "AWS STS session 'mfa' (MFA) expires in 9 min; run GetSessionToken again to renew it.");
    assert.deepEqual(w.renew, {
      command: "awsflowSts.getSessionToken",
      args: { SessionName: "mfa", SerialNumber: "arn:aws:iam::123456789012:mfa/alice" },
    });
  });

  test("other commands renew through their palette command with its prompts", () => {
    const w = expiryWarning("expiring", "dev", list([info({ name: "dev", command: "AssumeRole" })]), now);
    assert.equal(w?.text, "AWS STS session 'dev' expires in 9 min; run AssumeRole again to renew it.");
    assert.deepEqual(w?.renew, { command: "awsflowSts.assumeRole" });
  });

  test("a refreshable session warns only when it is the active one, without a renew button", () => {
    const refreshable = info({ name: "dev", command: "AssumeRole", refreshable: true });
    assert.equal(expiryWarning("expiring", "dev", list([refreshable]), now), undefined);
    const w = expiryWarning("expiring", "dev", list([{ ...refreshable, active: true }], "dev"), now);
    assert.match(w?.text ?? "", /'dev' expires in 9 min; it is refreshed automatically/);
    assert.equal(w?.renew, undefined);
  });

  test("other reasons and unknown sessions warn nothing", () => {
    for (const reason of ["created", "refreshed", "refreshFailed", "expired", "forgotten", "imported", "used"]) {
      assert.equal(expiryWarning(reason, "mfa", list([info({})]), now), undefined, reason);
    }
    assert.equal(expiryWarning("expiring", "gone", list([info({})]), now), undefined);
  });
});

describe("validateParams", () => {
  test("accepts complete params", () => {
    for (const c of COMMANDS) {
      assert.equal(validateParams(c.name, SAMPLE[c.name]), undefined, c.name);
    }
    assert.equal(validateParams("GetCallerIdentity", undefined), undefined);
    assert.equal(validateParams("ListSessions", null), undefined);
  });

  test("an unknown command lists the real ones", () => {
    const msg = validateParams("WhoAmI", {});
    assert.ok(msg);
    assert.match(msg, /no STSTool command "WhoAmI"/);
    assert.match(msg, /GetCallerIdentity/);
  });

  test("params must be an object", () => {
    for (const bad of ["x", 3, [1], true]) {
      assert.match(validateParams("AssumeRole", bad) ?? "", /must be an object/);
    }
  });

  test("names every missing required param", () => {
    const msg = validateParams("GetWebIdentityToken", { Audience: ["urn:x"], SigningAlgorithm: "" });
    assert.ok(msg);
    assert.match(msg, /SigningAlgorithm is required/);
    assert.doesNotMatch(msg, /Audience is required/);
    assert.match(validateParams("GetWebIdentityToken", {}) ?? "", /Audience is required\. SigningAlgorithm is required\./);
  });

  test("a oneOf pair without a secret asks for either, with no talk of secrets", () => {
    assert.equal(validateParams("AssumeRole", { RoleArn: DEV, RoleSessionName: "dev" }), undefined);
    assert.equal(validateParams("AssumeRole", { Profile: "dev" }), undefined);
    const msg = validateParams("AssumeRole", { RoleSessionName: "dev" }) ?? "";
    assert.match(msg, /Give one of RoleArn or Profile\./);
    assert.doesNotMatch(msg, /secret/);
    assert.match(validateParams("AssumeRole", { RoleArn: DEV, Profile: "dev" }) ?? "", /Give only one of RoleArn and Profile/);
  });

  test("honours the oneOf pairs", () => {
    assert.equal(validateParams("AssumeRoleWithSAML", { SAMLAssertionFile: "/f" }), undefined);
    assert.equal(validateParams("AssumeRoleWithSAML", { SAMLAssertion: "abcd" }), undefined);
    assert.match(validateParams("AssumeRoleWithSAML", {}) ?? "", /one of SAMLAssertionFile or SAMLAssertion/);
    assert.match(validateParams("AssumeRoleWithSAML", { SAMLAssertion: "a", SAMLAssertionFile: "/f" }) ?? "", /only one of/);
    assert.equal(validateParams("AssumeRoleWithWebIdentity", { RoleArn: DEV, WebIdentityTokenFile: "/t" }), undefined);
    const msg = validateParams("AssumeRoleWithWebIdentity", { RoleArn: DEV });
    assert.match(msg ?? "", /WebIdentityTokenFile or WebIdentityToken/);
  });

  test("leaves unknown params to the sidecar", () => {
    assert.equal(validateParams("GetCallerIdentity", { Bogus: 1 }), undefined);
  });
});
