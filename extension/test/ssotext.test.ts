import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { SidecarError } from "../src/client";
import { signInNeeded } from "../src/errortext";
import { ERROR_CODES, type SsoAccountList, type SsoSessionInfo } from "../src/protocol.gen";
import {
  accountItems,
  applySsoChange,
  authorizeMessage,
  defaultSsoSessionName,
  ENTER_START_URL,
  readAuthorizeParams,
  readSsoChanged,
  regionProblem,
  roleItems,
  SignInPromptGate,
  signInItems,
  signInToolText,
  ssoChangedNotice,
  ssoSessionNameProblem,
  ssoStatusText,
  startUrlProblem,
} from "../src/ssotext";

const NOW = Date.parse("2030-01-01T12:00:00Z");
const at = (minutes: number): string => new Date(NOW + minutes * 60_000).toISOString();

const sso = (name: string, over: Partial<SsoSessionInfo> = {}): SsoSessionInfo => ({
  name,
  startUrl: `https://${name}.awsapps.com/start`,
  region: "us-east-1",
  signedIn: false,
  ...over,
});

describe("the sign-in QuickPick", () => {
  test("signed-out sign-ins first, each with how sso/login is called, then Enter a start URL…", () => {
    const items = signInItems(
      {
        sessions: [
          sso("work", { signedIn: true, expiresAt: at(42), refreshable: true, profiles: ["dev", "prod"] }),
          sso("old", { legacy: true }),
          sso("acme"),
        ],
      },
      NOW,
    );
    assert.deepEqual(
      items.map((i) => i.name),
      ["acme", "old", "work", undefined],
    );
    assert.deepEqual(items[0].login, { ssoSession: "acme" });
    // A legacy SSO profile signs in by its profile.
    assert.deepEqual(items[1].login, { profile: "old" });
    assert.match(items[1].detail ?? "", /legacy SSO profile/);
    assert.match(items[2].label, /work/);
    assert.equal(items[2].description, "https://work.awsapps.com/start");
    assert.match(items[2].detail ?? "", /signed in · token 42m left · refreshed automatically · profiles: dev, prod/);
    assert.match(items[0].detail ?? "", /signed out/);
    const last = items[items.length - 1];
    assert.equal(last.label, ENTER_START_URL);
    assert.equal(last.login, undefined);
  });

  test("with no sign-in in the config, only Enter a start URL…", () => {
    assert.deepEqual(
      signInItems({ sessions: [] }, NOW).map((i) => i.label),
      [ENTER_START_URL],
    );
  });
});

describe("what a new sign-in is typed with", () => {
  test("start URLs: https anywhere, http only on loopback", () => {
    assert.equal(startUrlProblem("https://d-1234567890.awsapps.com/start"), undefined);
    assert.equal(startUrlProblem("  https://my.example.com/start  "), undefined);
    assert.equal(startUrlProblem("http://127.0.0.1:4566/start"), undefined);
    assert.equal(startUrlProblem("http://localhost/start"), undefined);
    assert.match(startUrlProblem("http://d-1234567890.awsapps.com/start") ?? "", /https/);
    assert.match(startUrlProblem("file:///etc/passwd") ?? "", /https/);
    assert.match(startUrlProblem("d-1234567890.awsapps.com") ?? "", /Not a URL/);
    assert.match(startUrlProblem("") ?? "", /required/);
    assert.match(startUrlProblem(`https://x.com/${"a".repeat(2100)}`) ?? "", /2048/);
  });

  test("Regions", () => {
    for (const r of ["us-east-1", "eu-central-1", "ap-southeast-2", "us-gov-west-1", "cn-north-1"]) assert.equal(regionProblem(r), undefined, r);
    for (const r of ["", "us-east", "US-EAST-1", "us east 1", "us-east-1; rm"]) assert.ok(regionProblem(r), r);
  });

  test("sso-session names are section names the config can hold", () => {
    for (const n of ["my-sso", "acme_prod", "d-1234567890", "a.b@c"]) assert.equal(ssoSessionNameProblem(n), undefined, n);
    for (const n of ["", "has space", "[x]", "-lead", "a]b", "x".repeat(65), "semi;colon", "hash#"]) assert.ok(ssoSessionNameProblem(n), n);
  });

  test("the default name is the portal's subdomain", () => {
    assert.equal(defaultSsoSessionName("https://d-1234567890.awsapps.com/start"), "d-1234567890");
    assert.equal(defaultSsoSessionName("http://127.0.0.1:8080/start"), "127");
    assert.equal(defaultSsoSessionName("not a url"), "my-sso");
  });
});

describe("the account and role QuickPicks", () => {
  const list: SsoAccountList = {
    ssoSession: "work",
    accounts: [
      { accountId: "222222222222", accountName: "Prod", emailAddress: "prod@example.com", roles: ["ReadOnly", "Admin"] },
      { accountId: "111111111111", accountName: "Dev", roles: ["Developer"] },
      { accountId: "333333333333", accountName: "", roles: [] },
    ],
  };

  test("accounts by name, with their id, email and roles", () => {
    const items = accountItems(list);
    assert.deepEqual(
      items.map((i) => [i.label, i.description]),
      [
        ["333333333333", "333333333333"],
        ["Dev", "111111111111"],
        ["Prod", "222222222222"],
      ],
    );
    assert.equal(items[1].detail, "1 role: Developer");
    assert.equal(items[2].detail, "prod@example.com · 2 roles: ReadOnly, Admin");
    assert.equal(items[0].detail, "0 roles: none");
    assert.equal(items[2].account, list.accounts[0]);
  });

  test("roles sorted, each naming its account", () => {
    const items = roleItems(list.accounts[0]);
    assert.deepEqual(
      items.map((i) => i.role),
      ["Admin", "ReadOnly"],
    );
    assert.equal(items[0].description, "Prod (222222222222)");
  });
});

describe("sso/authorize", () => {
  const good = {
    ssoSession: "work",
    startUrl: "https://work.awsapps.com/start",
    verificationUri: "https://device.sso.us-east-1.amazonaws.com/",
    verificationUriComplete: "https://device.sso.us-east-1.amazonaws.com/?user_code=ABCD-EFGH",
    userCode: "ABCD-EFGH",
    expiresAt: at(10),
  };

  test("a well-formed request is read, and the message names the code, the sign-in and the time left", () => {
    const p = readAuthorizeParams(good);
    assert.deepEqual(p, good);
    assert.equal(
      authorizeMessage(p!, NOW),
      "Sign in to IAM Identity Center (work): confirm the code ABCD-EFGH in your browser within 10m. Open Browser opens device.sso.us-east-1.amazonaws.com with the code filled in.",
    );
  });

  test("Open Browser only ever opens a web address; a code is letters, digits and dashes", () => {
    assert.equal(readAuthorizeParams({ ...good, verificationUriComplete: "command:workbench.action.terminal.new" }), undefined);
    assert.equal(readAuthorizeParams({ ...good, verificationUriComplete: "file:///etc/passwd" }), undefined);
    assert.equal(readAuthorizeParams({ ...good, userCode: "AB CD\n<script>" }), undefined);
    assert.equal(readAuthorizeParams({ ...good, ssoSession: 7 }), undefined);
    assert.equal(readAuthorizeParams(null), undefined);
    // A bad plain link falls back to the complete one.
    assert.equal(readAuthorizeParams({ ...good, verificationUri: "javascript:alert(1)" })?.verificationUri, good.verificationUriComplete);
  });
});

describe("sso/changed", () => {
  test("read from an untrusted value", () => {
    assert.deepEqual(readSsoChanged({ ssoSession: "w", state: "expired", extra: 1 }), { ssoSession: "w", state: "expired" });
    assert.equal(readSsoChanged({ state: "expired" }), undefined);
    assert.equal(readSsoChanged("x"), undefined);
  });

  test("applied to the known sign-ins: signed in with its expiry, then expired; an unknown one is added", () => {
    let list = [sso("work"), sso("acme")];
    list = applySsoChange(list, { ssoSession: "work", state: "signedIn", expiresAt: at(60) });
    assert.deepEqual(list[0], { ...sso("work"), signedIn: true, expiresAt: at(60) });
    list = applySsoChange(list, { ssoSession: "work", state: "refreshed", expiresAt: at(120) });
    assert.equal(list[0].expiresAt, at(120));
    list = applySsoChange(list, { ssoSession: "work", state: "expired" });
    assert.equal(list[0].signedIn, false);
    assert.ok(!("expiresAt" in list[0]));
    assert.equal(list[1], list[1]);
    list = applySsoChange(list, { ssoSession: "new", state: "signedIn", expiresAt: at(5) });
    assert.deepEqual(list[2], { name: "new", startUrl: "", region: "", signedIn: true, expiresAt: at(5) });
  });

  test("only an ended sign-in gets a notice", () => {
    assert.equal(ssoChangedNotice({ ssoSession: "w", state: "signedIn" }), undefined);
    assert.equal(ssoChangedNotice({ ssoSession: "w", state: "refreshed" }), undefined);
    assert.equal(
      ssoChangedNotice({ ssoSession: "w", state: "expired", message: "the refresh token was rejected" }),
      "Your IAM Identity Center sign-in w has expired. The refresh token was rejected. Sign in again to keep using its roles.",
    );
    assert.equal(ssoChangedNotice({ ssoSession: "w", state: "signedOut" }), "Your IAM Identity Center sign-in w was signed out. Sign in again to keep using its roles.");
  });
});

describe("the status bar's sign-in part", () => {
  test("hidden when the config names no sign-in", () => {
    assert.equal(ssoStatusText(undefined, NOW), undefined);
    assert.equal(ssoStatusText([], NOW), undefined);
  });

  test("signed out: says so, and a click signs in", () => {
    const s = ssoStatusText([sso("work")], NOW);
    assert.equal(s?.text, "$(person) SSO: signed out");
    assert.equal(s?.signedIn, false);
    assert.match(s?.tooltip ?? "", /work \(https:\/\/work\.awsapps\.com\/start\): signed out/);
  });

  test("signed in: the sign-in whose token ends first, its time left, and how many others", () => {
    const s = ssoStatusText(
      [sso("acme", { signedIn: true, expiresAt: at(300) }), sso("work", { signedIn: true, expiresAt: at(42), refreshable: true }), sso("off")],
      NOW,
    );
    assert.equal(s?.text, "$(person) work · 42m +1");
    assert.equal(s?.signedIn, true);
    assert.equal(s?.warning, false);
    assert.match(s?.tooltip ?? "", /acme .*token 5h left/);
  });

  test("an expired token that will not be refreshed is a warning", () => {
    const s = ssoStatusText([sso("work", { signedIn: true, expiresAt: at(-1) })], NOW);
    assert.equal(s?.text, "$(person) work · expired");
    assert.equal(s?.warning, true);
  });
});

describe("one Sign in notification at a time", () => {
  test("a second failing call while it shows asks for none; after it closes, the next one may", () => {
    const gate = new SignInPromptGate();
    assert.equal(gate.tryOpen("work"), true);
    assert.equal(gate.tryOpen("work"), false);
    assert.equal(gate.tryOpen("work"), false);
    // Another sign-in has its own.
    assert.equal(gate.tryOpen("acme"), true);
    gate.close("work");
    assert.equal(gate.isOpen("work"), false);
    assert.equal(gate.tryOpen("work"), true);
  });
});

describe("a call that needs a sign-in", () => {
  test("is recognised by its kind, with the sign-in it names", () => {
    const err = new SidecarError("sign in to work", ERROR_CODES.SignInRequired, { kind: "signin", ssoSession: "work" });
    assert.deepEqual(signInNeeded(err), { ssoSession: "work" });
    assert.deepEqual(signInNeeded(new SidecarError("x", ERROR_CODES.SignInRequired, { kind: "signin" })), { ssoSession: undefined });
    assert.equal(signInNeeded(new SidecarError("x", 1001, { kind: "aws" })), undefined);
    assert.equal(signInNeeded(new Error("x")), undefined);
  });

  test("the model is told the user was asked, and that it cannot sign in itself", () => {
    const text = signInToolText("STSTool error (signin): the sign-in work has expired", "work");
    assert.match(text, /^STSTool error \(signin\): the sign-in work has expired\n\n/);
    assert.match(text, /VS Code now shows the user a "Sign in to work" notification/);
    assert.match(text, /STSTool cannot start a sign-in/);
    assert.match(text, /retry the same call/);
    assert.match(signInToolText("x", undefined), /"Sign In…" notification/);
  });
});
