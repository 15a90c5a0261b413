// Turns an exported session (sessions/export, the one method that returns secrets) into what other
// tools read: environment variables, a shell script that sets them, and credential_process JSON.
// Pure, so the quoting is tested against real shells. Errors never quote a value: values are secrets.
import * as path from "node:path";
import {
  CREDENTIALS_FILE_DEFAULT,
  CREDENTIALS_FILE_ENV,
  PROFILE_NAME_FORBIDDEN,
  PROFILE_NAME_MAX_LENGTH,
  PROFILE_NAME_PATTERN,
  PROFILE_NAME_RULE,
  type ExportedSession,
  type SessionInfo,
} from "./protocol.gen";

export type Shell = "bash" | "fish" | "powershell" | "cmd";

export const SHELLS: readonly { shell: Shell; label: string; description: string }[] = [
  { shell: "bash", label: "bash / zsh / sh", description: "export NAME='value'" },
  { shell: "fish", label: "fish", description: "set -gx NAME 'value'" },
  { shell: "powershell", label: "PowerShell", description: "$Env:NAME = 'value'" },
  { shell: "cmd", label: "Command Prompt (cmd.exe)", description: 'set "NAME=value"' },
];

export function isShell(v: unknown): v is Shell {
  return SHELLS.some((s) => s.shell === v);
}

/** A session that cannot be exported, or a value a shell cannot carry; the message names no secret. */
export class ExportError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ExportError";
  }
}

/**
 * Why a session cannot be exported as AWS credentials, as a sentence the user can act on; undefined
 * when it can. A token session holds a JWT for AssumeRoleWithWebIdentity, not credentials.
 */
export function exportProblem(s: ExportedSession, now: number): string | undefined {
  if (s.kind === "token") {
    return `Session '${s.name}' holds a web identity token (a JWT from ${s.command}), not AWS credentials, so it cannot be exported as credentials. Use it with AssumeRoleWithWebIdentity to get a role session, and export that one.`;
  }
  if (!s.accessKeyId || !s.secretAccessKey) {
    return `Session '${s.name}' holds no AWS credentials to export; run ${s.command} again to make a new session.`;
  }
  const expires = Date.parse(s.expiration);
  if (!Number.isFinite(expires)) {
    return `Session '${s.name}' has no readable expiration time (${JSON.stringify(s.expiration)}); run ${s.command} again to make a new session.`;
  }
  if (expires <= now) {
    return `Session '${s.name}' expired at ${isoExpiration(s)}; run ${s.command} again to make a new session, then export that one.`;
  }
  return undefined;
}

/** Whether a listed session is worth offering for export (the exported copy is checked again). */
export function exportable(s: SessionInfo, now: number): boolean {
  if (s.kind !== "credentials" || s.expired) return false;
  const expires = Date.parse(s.expiration);
  return !Number.isFinite(expires) || expires > now;
}

/** The expiration as ISO 8601 in UTC, which the AWS SDKs and CLI read. */
export function isoExpiration(s: ExportedSession): string {
  const t = Date.parse(s.expiration);
  if (!Number.isFinite(t)) {
    throw new ExportError(`Session '${s.name}' has no readable expiration time.`);
  }
  return new Date(t).toISOString().replace(/\.000Z$/, "Z");
}

function credentials(s: ExportedSession): { accessKeyId: string; secretAccessKey: string } {
  if (s.kind === "token" || !s.accessKeyId || !s.secretAccessKey) {
    throw new ExportError(exportProblem(s, Number.NEGATIVE_INFINITY) ?? `Session '${s.name}' holds no AWS credentials.`);
  }
  return { accessKeyId: s.accessKeyId, secretAccessKey: s.secretAccessKey };
}

/** The variables the AWS SDKs and CLI read, in the order a script sets them. */
export function envAssignments(s: ExportedSession): [string, string][] {
  const { accessKeyId, secretAccessKey } = credentials(s);
  const out: [string, string][] = [
    ["AWS_ACCESS_KEY_ID", accessKeyId],
    ["AWS_SECRET_ACCESS_KEY", secretAccessKey],
  ];
  if (s.sessionToken) out.push(["AWS_SESSION_TOKEN", s.sessionToken]);
  if (s.region) {
    // Older SDKs and the CLI v1 read only AWS_DEFAULT_REGION.
    out.push(["AWS_REGION", s.region], ["AWS_DEFAULT_REGION", s.region]);
  }
  out.push(["AWS_CREDENTIAL_EXPIRATION", isoExpiration(s)]);
  return out;
}

/** Single quotes keep everything literal in sh; a quote itself closes, escapes and reopens. */
function bashQuote(v: string): string {
  return `'${v.replace(/'/g, `'\\''`)}'`;
}

/** In fish's single quotes only \' and \\ are escapes. */
function fishQuote(v: string): string {
  return `'${v.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;
}

/** PowerShell's single quotes are literal; it also takes the typographic ones as quotes, so all are doubled. */
function powershellQuote(v: string): string {
  return `'${v.replace(/['\u2018\u2019\u201A\u201B]/g, "$&$&")}'`;
}

/**
 * cmd.exe has no quoting that keeps every character literal: % expands even inside quotes, ! with
 * delayed expansion, ^ escapes there, " ends the quote and a line break ends the command.
 */
const CMD_UNSAFE = /["%!^\r\n]/;

/** A script that sets the session's variables in the given shell, one assignment a line. */
export function envScript(s: ExportedSession, shell: Shell): string {
  const lines = envAssignments(s).map(([name, value]) => {
    if (value.includes("\0")) {
      throw new ExportError(`${name} of session '${s.name}' holds a NUL character, which no shell can carry.`);
    }
    switch (shell) {
      case "bash":
        return `export ${name}=${bashQuote(value)}`;
      case "fish":
        return `set -gx ${name} ${fishQuote(value)}`;
      case "powershell":
        return `$Env:${name} = ${powershellQuote(value)}`;
      case "cmd": {
        const bad = CMD_UNSAFE.exec(value);
        if (bad) {
          const shown = bad[0] === "\n" ? "a line break" : bad[0] === "\r" ? "a carriage return" : `the character ${bad[0]}`;
          throw new ExportError(
            `${name} of session '${s.name}' holds ${shown}, which cmd.exe cannot set safely; copy the session for PowerShell instead.`,
          );
        }
        return `set "${name}=${value}"`;
      }
    }
  });
  return lines.join("\n") + "\n";
}

/** What a credential_process program prints (version 1 of the format the AWS SDKs read). */
export function credentialProcessJson(s: ExportedSession): string {
  const { accessKeyId, secretAccessKey } = credentials(s);
  const out: Record<string, string | number> = { Version: 1, AccessKeyId: accessKeyId, SecretAccessKey: secretAccessKey };
  if (s.sessionToken) out.SessionToken = s.sessionToken;
  out.Expiration = isoExpiration(s);
  return JSON.stringify(out, null, 2) + "\n";
}

/** A leading ~ or ~/ as the home directory, as the sidecar and the AWS SDKs read it (not ~bob/). */
function expandHome(p: string, home: string): string {
  if (p !== "~" && !p.startsWith("~/") && !p.startsWith(`~${path.sep}`)) return p;
  return path.join(home, p.slice(1));
}

/**
 * The shared credentials file the AWS tools read, as the sidecar finds it: AWS_SHARED_CREDENTIALS_FILE
 * when set and not empty, else ~/.aws/credentials (both named by the contract).
 */
export function defaultCredentialsFile(env: NodeJS.ProcessEnv, home: string): string {
  const fromEnv = env[CREDENTIALS_FILE_ENV];
  return expandHome(fromEnv ? fromEnv : CREDENTIALS_FILE_DEFAULT, home);
}

/**
 * Why a profile name cannot be used in the credentials file, or undefined: the contract's pattern
 * decides, as in the sidecar. The name is taken trimmed, as the commands send it.
 */
export function profileNameProblem(name: string): string | undefined {
  const t = name.trim();
  if (t === "") return "A profile name is required.";
  if (PROFILE_NAME_PATTERN.test(t)) return undefined;
  if ([...t].some((c) => PROFILE_NAME_FORBIDDEN.includes(c) || c === "\r" || c === "\n")) {
    return `A profile name cannot hold ${[...PROFILE_NAME_FORBIDDEN].join(" ")} or a line break.`;
  }
  if ([...t].length > PROFILE_NAME_MAX_LENGTH) return `At most ${PROFILE_NAME_MAX_LENGTH} characters.`;
  return `${PROFILE_NAME_RULE[0].toUpperCase()}${PROFILE_NAME_RULE.slice(1)}.`;
}
