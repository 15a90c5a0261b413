// export.ts: the quoting of every shell with values no real key has (quotes, backslashes, spaces, $,
// line breaks, unicode), proved by running the scripts in the real shells that are installed, and the
// credential_process JSON and environment variables consumed by the real AWS CLI against the local STS.
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import {
  credentialProcessJson,
  defaultCredentialsFile,
  envAssignments,
  envScript,
  ExportError,
  exportable,
  exportProblem,
  profileNameProblem,
  type Shell,
} from "../src/export";
import { PROFILE_NAME_MAX_LENGTH, type ExportedSession, type SessionInfo } from "../src/protocol.gen";
import { Supervisor } from "../src/supervisor";
import { LocalSts, scratchDir, sidecarEnv, sidecarSkipReason, startLocalSts, withTimeout , localSupervisor } from "./helpers";

const NOW = Date.parse("2030-01-01T00:00:00Z");

const session = (over: Partial<ExportedSession> = {}): ExportedSession => ({
  name: "dev",
  kind: "credentials",
  command: "AssumeRole",
  arn: "arn:aws:sts::123456789012:assumed-role/Dev/dev",
  accessKeyId: "ASIAY34FZKBOKMUTVV7A",
  secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY",
  sessionToken: "IQoJb3JpZ2luX2VjEXAMPLE+token/with=padding==",
  region: "eu-west-1",
  expiration: "2030-01-01T01:00:00Z",
  ...over,
});

/** Values that break naive quoting in at least one shell. */
const NASTY = session({
  accessKeyId: `ASIA'single'"double"\`tick\``,
  secretAccessKey: `back\\slash \\' \\\\ '' end\\`,
  sessionToken: `$HOME $(id) \${X} %PATH% !bang! ^caret & | ; < > * ? ~ # tab\there\nsecond line\r\nthird ünïcödé 日本語 🙂 ‘curly’ ’`,
  region: "eu west '1'",
});

const NAMES = ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_CREDENTIAL_EXPIRATION"];

function onPath(command: string): boolean {
  return spawnSync("sh", ["-c", `command -v ${command}`], { stdio: "ignore" }).status === 0;
}

/** In a shell's args: the script itself (fish cannot read Node's stdin socket); without it, stdin. */
const SCRIPT = "{script}";

/** Runs the script in the shell and returns the NUL-separated values it printed. */
function run(shell: string, args: string[], script: string, env: NodeJS.ProcessEnv = process.env): string[] {
  const inline = args.includes(SCRIPT);
  const argv = inline ? args.map((a) => (a === SCRIPT ? script : a)) : args;
  const res = spawnSync(shell, argv, { input: inline ? "" : script, encoding: "utf8", env, timeout: 30_000 });
  assert.equal(res.status, 0, `${shell} failed: ${res.stderr}`);
  return res.stdout.split("\0").slice(0, -1);
}

const PRINTERS: Record<Exclude<Shell, "cmd">, { command: string; args: string[]; print: (name: string) => string }> = {
  bash: { command: "bash", args: ["--noprofile", "--norc", "-s"], print: (n) => `printf '%s\\0' "$${n}"` },
  fish: { command: "fish", args: ["--no-config", "-c", SCRIPT], print: (n) => `printf '%s\\0' "$${n}"` },
  powershell: { command: "pwsh", args: ["-NoProfile", "-NonInteractive", "-Command", SCRIPT], print: (n) => `[Console]::Out.Write($Env:${n} + [char]0)` },
};

describe("envAssignments", () => {
  test("keys, secret, token, both region variables and the expiration, in order", () => {
    assert.deepEqual(envAssignments(session()), [
      ["AWS_ACCESS_KEY_ID", "ASIAY34FZKBOKMUTVV7A"],
      ["AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY"],
      ["AWS_SESSION_TOKEN", "IQoJb3JpZ2luX2VjEXAMPLE+token/with=padding=="],
      ["AWS_REGION", "eu-west-1"],
      ["AWS_DEFAULT_REGION", "eu-west-1"],
      ["AWS_CREDENTIAL_EXPIRATION", "2030-01-01T01:00:00Z"],
    ]);
  });

  test("leaves out a missing token and an unknown region; the expiration is UTC ISO 8601", () => {
    const vars = envAssignments(session({ sessionToken: "", region: undefined, expiration: "2030-01-01T02:30:00+01:00" }));
    assert.deepEqual(
      vars.map(([k]) => k),
      ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_CREDENTIAL_EXPIRATION"],
    );
    assert.equal(vars[2][1], "2030-01-01T01:30:00Z");
  });

  test("refuses a token session and one without keys, naming no secret", () => {
    assert.throws(() => envAssignments(session({ kind: "token", command: "GetWebIdentityToken", webIdentityToken: "eyJsecret" })), (err: unknown) => {
      assert.ok(err instanceof ExportError);
      assert.match(err.message, /web identity token/);
      assert.doesNotMatch(err.message, /eyJsecret/);
      return true;
    });
    assert.throws(() => envAssignments(session({ secretAccessKey: undefined })), ExportError);
  });
});

describe("envScript quoting", () => {
  const one = (shell: Shell, value: string): string => envScript(session({ accessKeyId: value }), shell).split("\n")[0];

  test("bash: export with '\\'' for a quote", () => {
    assert.equal(one("bash", "it's $HOME"), `export AWS_ACCESS_KEY_ID='it'\\''s $HOME'`);
    assert.equal(one("bash", "a\\b"), `export AWS_ACCESS_KEY_ID='a\\b'`);
  });

  test("fish: set -gx with \\' and \\\\", () => {
    assert.equal(one("fish", "it's $HOME"), `set -gx AWS_ACCESS_KEY_ID 'it\\'s $HOME'`);
    assert.equal(one("fish", "a\\b\\'"), `set -gx AWS_ACCESS_KEY_ID 'a\\\\b\\\\\\''`);
  });

  test("PowerShell: $Env: with doubled quotes, the typographic ones included", () => {
    assert.equal(one("powershell", "it's $HOME"), `$Env:AWS_ACCESS_KEY_ID = 'it''s $HOME'`);
    assert.equal(one("powershell", "a‘b’c"), `$Env:AWS_ACCESS_KEY_ID = 'a‘‘b’’c'`);
    assert.equal(one("powershell", "a\\b"), `$Env:AWS_ACCESS_KEY_ID = 'a\\b'`);
  });

  test('cmd: set "K=v", and a clear refusal of what cmd cannot carry, without the value', () => {
    assert.equal(one("cmd", "plain/value+with=chars & | < >"), `set "AWS_ACCESS_KEY_ID=plain/value+with=chars & | < >"`);
    for (const [bad, what] of [
      ['"', 'the character "'],
      ["%", "the character %"],
      ["!", "the character !"],
      ["^", "the character ^"],
      ["\n", "a line break"],
      ["\r", "a carriage return"],
    ]) {
      assert.throws(() => envScript(session({ sessionToken: `SECRETMARK${bad}x` }), "cmd"), (err: unknown) => {
        assert.ok(err instanceof ExportError);
        assert.equal(err.message, `AWS_SESSION_TOKEN of session 'dev' holds ${what}, which cmd.exe cannot set safely; copy the session for PowerShell instead.`);
        assert.doesNotMatch(err.message, /SECRETMARK/);
        return true;
      });
    }
  });

  test("a NUL is refused in every shell", () => {
    for (const shell of ["bash", "fish", "powershell", "cmd"] as const) {
      assert.throws(() => envScript(session({ secretAccessKey: "a\0b" }), shell), /NUL character/);
    }
  });

  test("one line per variable, ending in a newline", () => {
    const script = envScript(session(), "bash");
    assert.equal(script.split("\n").length, NAMES.length + 1);
    assert.ok(script.endsWith("\n"));
  });
});

describe("envScript in real shells", () => {
  const expected = envAssignments(NASTY).map(([, v]) => v);

  test("bash sets every nasty value exactly", () => {
    const script = envScript(NASTY, "bash") + NAMES.map(PRINTERS.bash.print).join("\n") + "\n";
    assert.deepEqual(run("bash", PRINTERS.bash.args, script), expected);
  });

  test("sh (POSIX) reads the bash script too", { skip: onPath("dash") ? undefined : "skipped: dash is not installed" }, () => {
    const script = envScript(NASTY, "bash") + NAMES.map(PRINTERS.bash.print).join("\n") + "\n";
    assert.deepEqual(run("dash", ["-s"], script), expected);
  });

  test("zsh reads the bash script", { skip: onPath("zsh") ? undefined : "skipped: zsh is not on PATH" }, () => {
    const script = envScript(NASTY, "bash") + NAMES.map(PRINTERS.bash.print).join("\n") + "\n";
    assert.deepEqual(run("zsh", ["-f", "-s"], script), expected);
  });

  test("fish sets every nasty value exactly", { skip: onPath("fish") ? undefined : "skipped: fish is not on PATH" }, () => {
    const script = envScript(NASTY, "fish") + NAMES.map(PRINTERS.fish.print).join("\n") + "\n";
    assert.deepEqual(run("fish", PRINTERS.fish.args, script), expected);
  });

  test("PowerShell sets every nasty value exactly", { skip: onPath("pwsh") ? undefined : "skipped: pwsh is not on PATH" }, () => {
    const script = envScript(NASTY, "powershell") + NAMES.map(PRINTERS.powershell.print).join("\n") + "\n";
    assert.deepEqual(run("pwsh", PRINTERS.powershell.args, script), expected);
  });

  test("the variables reach programs the shell starts", () => {
    const script = envScript(NASTY, "bash") + `exec "${process.execPath}" -e 'process.stdout.write(${JSON.stringify(NAMES)}.map((n) => process.env[n] + "\\0").join(""))'\n`;
    assert.deepEqual(run("bash", PRINTERS.bash.args, script), expected);
  });
});

describe("credentialProcessJson", () => {
  test("exactly Version 1, the keys, the token and an ISO 8601 expiration", () => {
    const json = JSON.parse(credentialProcessJson(session())) as Record<string, unknown>;
    assert.deepEqual(Object.keys(json), ["Version", "AccessKeyId", "SecretAccessKey", "SessionToken", "Expiration"]);
    assert.deepEqual(json, {
      Version: 1,
      AccessKeyId: "ASIAY34FZKBOKMUTVV7A",
      SecretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY",
      SessionToken: "IQoJb3JpZ2luX2VjEXAMPLE+token/with=padding==",
      Expiration: "2030-01-01T01:00:00Z",
    });
  });

  test("leaves out an empty token; keeps nasty values intact", () => {
    assert.deepEqual(Object.keys(JSON.parse(credentialProcessJson(session({ sessionToken: "" }))) as object), [
      "Version",
      "AccessKeyId",
      "SecretAccessKey",
      "Expiration",
    ]);
    const back = JSON.parse(credentialProcessJson(NASTY)) as Record<string, string>;
    assert.equal(back.SessionToken, NASTY.sessionToken);
    assert.equal(back.AccessKeyId, NASTY.accessKeyId);
  });
});

describe("exportProblem and exportable", () => {
  test("a live credential session is fine", () => {
    assert.equal(exportProblem(session(), NOW), undefined);
  });

  test("a token session is refused: it holds a JWT, not credentials", () => {
    const msg = exportProblem(session({ kind: "token", command: "GetWebIdentityToken", accessKeyId: undefined }), NOW);
    assert.match(msg ?? "", /holds a web identity token \(a JWT from GetWebIdentityToken\), not AWS credentials/);
    assert.match(msg ?? "", /AssumeRoleWithWebIdentity/);
  });

  test("an expired session is refused with what to run", () => {
    const msg = exportProblem(session({ expiration: "2029-12-31T23:00:00Z" }), NOW);
    assert.equal(msg, "Session 'dev' expired at 2029-12-31T23:00:00Z; run AssumeRole again to make a new session, then export that one.");
    assert.match(exportProblem(session({ expiration: "soon" }), NOW) ?? "", /no readable expiration/);
  });

  test("pickers offer only unexpired credential sessions", () => {
    const info = (over: Partial<SessionInfo>): SessionInfo => ({
      name: "x",
      kind: "credentials",
      command: "AssumeRole",
      expiration: "2030-01-01T01:00:00Z",
      secondsLeft: 3600,
      expired: false,
      active: false,
      ...over,
    });
    assert.equal(exportable(info({}), NOW), true);
    assert.equal(exportable(info({ kind: "token" }), NOW), false);
    assert.equal(exportable(info({ expired: true }), NOW), false);
    assert.equal(exportable(info({ expiration: "2029-12-31T23:59:59Z" }), NOW), false);
  });
});

describe("profile names and the credentials file", () => {
  test("profile names cannot break the INI file", () => {
    assert.equal(profileNameProblem("dev-mfa"), undefined);
    for (const bad of ["", "  ", "a]b", "[a", "a#b", "a;b", "a\nb"]) {
      assert.ok(profileNameProblem(bad), JSON.stringify(bad));
    }
  });

  test("profile names follow the sidecar's rule: characters, not UTF-16 units; no control characters", () => {
    assert.equal(profileNameProblem("😀".repeat(PROFILE_NAME_MAX_LENGTH)), undefined);
    assert.equal(profileNameProblem("x".repeat(PROFILE_NAME_MAX_LENGTH + 1)), `At most ${PROFILE_NAME_MAX_LENGTH} characters.`);
    assert.equal(profileNameProblem(" dev "), undefined, "taken trimmed, as the commands send it");
    assert.match(profileNameProblem("a\u0001b") ?? "", /control characters/);
    assert.match(profileNameProblem("a\u0085b") ?? "", /control characters/);
    assert.equal(profileNameProblem("a\u2028b"), undefined, "a separator inside the name is kept, as the sidecar keeps it");
  });

  test("~ in AWS_SHARED_CREDENTIALS_FILE is the home directory, as the sidecar reads it", () => {
    assert.equal(defaultCredentialsFile({ AWS_SHARED_CREDENTIALS_FILE: "~/work/creds" }, "/home/me"), path.join("/home/me", "work", "creds"));
    assert.equal(defaultCredentialsFile({ AWS_SHARED_CREDENTIALS_FILE: "" }, "/home/me"), path.join("/home/me", ".aws", "credentials"));
  });

  test("AWS_SHARED_CREDENTIALS_FILE, else ~/.aws/credentials", () => {
    assert.equal(defaultCredentialsFile({ AWS_SHARED_CREDENTIALS_FILE: "/x/creds" }, "/home/me"), "/x/creds");
    assert.equal(defaultCredentialsFile({}, "/home/me"), path.join("/home/me", ".aws", "credentials"));
  });
});

/** Why the AWS CLI checks skip, or undefined; with AWSFLOW_REQUIRE_PEERS=1 a missing peer fails. */
function awsCliSkipReason(): string | undefined {
  const noSidecar = sidecarSkipReason();
  if (noSidecar) return noSidecar;
  if (onPath("aws")) return undefined;
  if (process.env.AWSFLOW_REQUIRE_PEERS === "1") throw new Error("AWSFLOW_REQUIRE_PEERS=1 but the AWS CLI (aws) is not on PATH");
  return "skipped: the AWS CLI (aws) is not on PATH";
}

describe("exports consumed by the real AWS CLI against the local STS", { skip: awsCliSkipReason(), timeout: 120_000 }, () => {
  let sts: LocalSts;
  let scratch: { dir: string; remove(): void };
  let supervisor: Supervisor;
  let dev: ExportedSession;
  /** The CLI's environment: no AWS_ variable of this machine, empty config files. */
  let cliEnv: NodeJS.ProcessEnv;

  before(async () => {
    sts = await startLocalSts();
    scratch = scratchDir();
    supervisor = localSupervisor("export-test", sts, scratch.dir, {
      log: () => undefined,
    });
    const client = await supervisor.client();
    await withTimeout(client.invoke("AssumeRole", { RoleArn: `arn:aws:iam::${sts.info.account}:role/Dev`, RoleSessionName: "exported" }), 15_000, "AssumeRole");
    dev = await client.exportSession("exported");
    cliEnv = sidecarEnv(scratch.dir);
  });

  after(async () => {
    await supervisor?.stop();
    await sts?.stop();
    scratch?.remove();
  });

  const assumedRole = (): RegExp => new RegExp(`^arn:aws:sts::${sts.info.account}:assumed-role/Dev/exported$`);

  test("credential_process: the CLI reads the JSON from a profile and signs with it", () => {
    assert.equal(exportProblem(dev, Date.now()), undefined);
    const jsonFile = path.join(scratch.dir, "credentials.json");
    fs.writeFileSync(jsonFile, credentialProcessJson(dev), { mode: 0o600 });
    const script = path.join(scratch.dir, "print-credentials.js");
    fs.writeFileSync(script, `process.stdout.write(require("fs").readFileSync(${JSON.stringify(jsonFile)}, "utf8"));\n`);
    const config = path.join(scratch.dir, "cli-config");
    fs.writeFileSync(config, `[profile p]\ncredential_process = "${process.execPath}" "${script}"\nregion = ${sts.info.region}\n`);
    const res = spawnSync("aws", ["sts", "get-caller-identity", "--profile", "p", "--endpoint-url", sts.info.endpoint, "--output", "json"], {
      env: { ...cliEnv, AWS_CONFIG_FILE: config },
      encoding: "utf8",
      timeout: 60_000,
    });
    assert.equal(res.status, 0, res.stderr);
    const who = JSON.parse(res.stdout) as { Arn: string; Account: string };
    assert.match(who.Arn, assumedRole());
    assert.equal(who.Account, sts.info.account);
  });

  test("the bash script: the CLI run after it signs with the session", () => {
    const script = envScript(dev, "bash") + `aws sts get-caller-identity --endpoint-url '${sts.info.endpoint}' --output json\n`;
    const res = spawnSync("bash", ["--noprofile", "--norc", "-s"], { input: script, env: cliEnv, encoding: "utf8", timeout: 60_000 });
    assert.equal(res.status, 0, res.stderr);
    assert.match((JSON.parse(res.stdout) as { Arn: string }).Arn, assumedRole());
  });
});
