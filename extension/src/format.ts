// Text the extension shows around an STSTool call: the progress line, the confirmation card, what the
// model reads when a call fails, and the status bar. Pure functions of the contract in
// protocol.gen.ts, so they are tested without VS Code. Secret parameters are never echoed.
import { CommandInfo, COMMANDS, COMMON_PARAMS, RESERVED_SESSION_NAME, SessionInfo, SessionList } from "./protocol.gen";
import { SidecarError } from "./client";

type Params = Record<string, unknown> | undefined;

/** Longest parameter value echoed in a message; longer ones are cut (they are the model's input). */
const MAX_SHOWN = 120;

export function commandInfo(name: string): CommandInfo | undefined {
  return COMMANDS.find((c) => c.name === name);
}

export function isMinting(command: string): boolean {
  const mints = commandInfo(command)?.mints;
  return mints !== undefined && mints !== "";
}

// ── Reading parameters ─────────────────────────────────────────────────────────────────────────────

/** A non-empty string parameter, cut to a displayable length. */
function str(params: Params, key: string): string | undefined {
  const v = params?.[key];
  if (typeof v === "string" && v.trim() !== "") {
    return shorten(v.trim());
  }
  if (typeof v === "number" && Number.isFinite(v)) {
    return String(v);
  }
  return undefined;
}

/** A string or list-of-strings parameter, joined for display. */
function list(params: Params, key: string): string | undefined {
  const v = params?.[key];
  if (Array.isArray(v)) {
    const items = v.filter((x): x is string => typeof x === "string" && x !== "");
    return items.length ? shorten(items.join(", ")) : undefined;
  }
  return str(params, key);
}

function seconds(params: Params, key: string): number | undefined {
  const v = params?.[key];
  return typeof v === "number" && Number.isFinite(v) ? v : undefined;
}

function shorten(v: string): string {
  const oneLine = v.replace(/\s+/g, " ");
  return oneLine.length > MAX_SHOWN ? `${oneLine.slice(0, MAX_SHOWN - 1)}…` : oneLine;
}

/** Inline code in Markdown; backticks in the value would end the span early. */
function code(v: string): string {
  return "`" + v.replace(/`/g, "'") + "`";
}

// ── Progress line ──────────────────────────────────────────────────────────────────────────────────

/** " as session x" when a session name is given or implied by the command's own name parameter. */
function storedAs(params: Params): string {
  const name = str(params, "SessionName") ?? str(params, "RoleSessionName") ?? str(params, "Name");
  return name ? ` as session ${name}` : "";
}

/** " (from session x, in eu-west-1)": the common parameters of every STS command. */
function commonSuffix(params: Params): string {
  const parts: string[] = [];
  const session = str(params, "Session");
  if (session) {
    parts.push(`from session ${session}`);
  }
  const region = str(params, "Region");
  if (region) {
    parts.push(`in ${region}`);
  }
  return parts.length ? ` (${parts.join(", ")})` : "";
}

function fromFile(params: Params, fileKey: string, inlineKey: string, what: string): string {
  const file = str(params, fileKey);
  if (file) {
    return ` with the ${what} in ${file}`;
  }
  return params?.[inlineKey] !== undefined ? ` with a ${what} given inline` : "";
}

/** One phrase per command, naming what it acts on but never a secret value. */
const INVOCATION: Readonly<Record<string, (p: Params) => string>> = {
  AssumeRole: (p) => `Assuming role ${str(p, "RoleArn") ?? "(no role given)"}${storedAs(p)}`,
  AssumeRoleWithSAML: (p) =>
    `Assuming ${str(p, "RoleArn") ? `role ${str(p, "RoleArn")}` : "the role named in a SAML assertion"}${fromFile(p, "SAMLAssertionFile", "SAMLAssertion", "SAML assertion")}${storedAs(p)}`,
  AssumeRoleWithWebIdentity: (p) =>
    `Assuming role ${str(p, "RoleArn") ?? "(no role given)"}${fromFile(p, "WebIdentityTokenFile", "WebIdentityToken", "web identity token")}${storedAs(p)}`,
  AssumeRoot: (p) =>
    `Getting root credentials for account ${str(p, "TargetPrincipal") ?? "(none given)"} scoped to ${str(p, "TaskPolicyArn") ?? "(no task policy given)"}`,
  DecodeAuthorizationMessage: () => "Decoding an authorization failure message",
  GetAccessKeyInfo: (p) => `Looking up the account of access key ${str(p, "AccessKeyId") ?? "(none given)"}`,
  GetCallerIdentity: (p) => (str(p, "Session") ? `Checking the caller identity of session ${str(p, "Session")}` : "Checking the caller identity"),
  GetDelegatedAccessToken: (p) => `Trading in a delegated access token${storedAs(p)}`,
  GetFederationToken: (p) => `Getting federated-user credentials for ${str(p, "Name") ?? "(no name given)"}`,
  GetSessionToken: (p) =>
    `Getting session credentials${str(p, "SerialNumber") ? ` with MFA device ${str(p, "SerialNumber")}` : ""}${storedAs(p)}`,
  GetWebIdentityToken: (p) => `Requesting a web identity token for ${list(p, "Audience") ?? "(no audience given)"}${storedAs(p)}`,
  ListSessions: () => "Listing sessions",
  UseSession: (p) => {
    const name = str(p, "SessionName");
    return name === RESERVED_SESSION_NAME ? "Switching back to the base identity" : `Switching the default identity to session ${name ?? "(none given)"}`;
  },
  ForgetSession: (p) => `Forgetting session ${str(p, "SessionName") ?? "(none given)"}`,
};

export function invocationMessage(command: string, params: Params): string {
  const phrase = INVOCATION[command];
  if (!phrase || !commandInfo(command)) {
    return `Running STSTool command ${shorten(command)}`;
  }
  // Session already names whose identity GetCallerIdentity checks; say it once.
  const suffix = commandInfo(command)?.local ? "" : commonSuffix(command === "GetCallerIdentity" ? { ...params, Session: undefined } : params);
  return phrase(params) + suffix;
}

// ── Confirmation card ──────────────────────────────────────────────────────────────────────────────

function duration(command: string, params: Params): string {
  const s = seconds(params, "DurationSeconds") ?? commandInfo(command)?.defaultDurationSeconds;
  if (s === undefined) {
    return "";
  }
  const given = seconds(params, "DurationSeconds") !== undefined;
  return `${given ? "for" : "for the default"} ${humanDuration(s)}`;
}

function humanDuration(s: number): string {
  if (s % 3600 === 0 && s >= 3600) {
    return `${s / 3600} hour${s === 3600 ? "" : "s"}`;
  }
  if (s % 60 === 0 && s >= 60) {
    return `${s / 60} minute${s === 60 ? "" : "s"}`;
  }
  return `${s} seconds`;
}

/** Which credentials sign the call. */
function identityUsed(command: string, params: Params): string {
  if (commandInfo(command)?.auth === "anonymous") {
    return "No AWS credentials are used: STS checks the identity provider's signature.";
  }
  const session = str(params, "Session");
  const profile = str(params, "Profile");
  if (session) return `Signed with the credentials of session ${code(session)}.`;
  if (profile) return `Signed with the credentials of the source_profile of ${code(profile)}.`;
  return "Signed with the default identity (the active session, or your configured AWS profile).";
}

function sessionLine(params: Params): string {
  const name = str(params, "SessionName") ?? str(params, "RoleSessionName") ?? str(params, "Name");
  return name ? `Stored as session ${code(name)}.` : "Stored as a new session.";
}

/** " <label> `value`" when the parameter is given, else "". */
function opt(params: Params, key: string, label: string): string {
  const v = str(params, key);
  return v ? ` ${label} ${code(v)}` : "";
}

/** "in `file`" for the file variant of a secret, else "given inline" (the value itself is never shown). */
function source(params: Params, fileKey: string): string {
  const file = str(params, fileKey);
  return file ? `in ${code(file)}` : "given inline";
}

interface CardParts {
  title: string;
  /** The first sentence: what will be minted, from what. */
  what: (p: Params) => string;
}

const CARDS: Readonly<Record<string, CardParts>> = {
  AssumeRole: {
    title: "Assume AWS role?",
    what: (p) => {
      const profile = str(p, "Profile");
      const role = profile !== undefined ? `the role of profile ${code(profile)} (from your AWS config file)` : `role ${code(str(p, "RoleArn") ?? "(none given)")}`;
      return `Assume ${role}${opt(p, "ExternalId", "with external id")}${opt(p, "SerialNumber", "with MFA device")}`;
    },
  },
  AssumeRoleWithSAML: {
    title: "Assume AWS role with SAML?",
    what: (p) => {
      const role = str(p, "RoleArn");
      return `Assume ${role ? `role ${code(role)}` : "the role named in the assertion"} with the SAML assertion ${source(p, "SAMLAssertionFile")}`;
    },
  },
  AssumeRoleWithWebIdentity: {
    title: "Assume AWS role with a web identity token?",
    what: (p) => `Assume role ${code(str(p, "RoleArn") ?? "(none given)")} with the web identity token ${source(p, "WebIdentityTokenFile")}`,
  },
  AssumeRoot: {
    title: "Get AWS root credentials?",
    what: (p) =>
      `Get root credentials for member account ${code(str(p, "TargetPrincipal") ?? "(none given)")}, limited to the task policy ${code(str(p, "TaskPolicyArn") ?? "(none given)")}`,
  },
  GetDelegatedAccessToken: {
    title: "Trade in a delegated access token?",
    what: () => "Trade the given trade-in token for delegated credentials",
  },
  GetFederationToken: {
    title: "Get AWS federated-user credentials?",
    what: (p) => `Get credentials for federated user ${code(str(p, "Name") ?? "(none given)")}`,
  },
  GetSessionToken: {
    title: "Get AWS session credentials?",
    what: (p) => `Get session credentials${opt(p, "SerialNumber", "authenticated with MFA device")}`,
  },
  GetWebIdentityToken: {
    title: "Have AWS STS issue a web identity token?",
    what: (p) => `Have STS issue a web identity token (JWT) for audience ${code(list(p, "Audience") ?? "(none given)")}${opt(p, "SigningAlgorithm", "signed with")}`,
  },
};

/** The confirmation card of a command that mints credentials or a token; undefined for the rest. */
export function confirmation(command: string, params: Params): { title: string; message: string } | undefined {
  const card = CARDS[command];
  if (!card || !isMinting(command)) {
    return undefined;
  }
  const kept =
    commandInfo(command)?.mints === "token"
      ? "The token stays in the awsflow-sts sidecar; chat never sees it."
      : "The credentials stay in the awsflow-sts sidecar; chat sees only the masked access key id.";
  const region = str(params, "Region");
  const first = [card.what(params), duration(command, params), region ? `in ${code(region)}` : ""].filter((s) => s !== "").join(" ");
  const message = [`${first}.`, identityUsed(command, params), sessionLine(params), kept].join("\n\n");
  return { title: card.title, message };
}

// ── Errors ─────────────────────────────────────────────────────────────────────────────────────────

/** What the model reads when a call fails. Never throws: it runs inside error handling. */
export function errorText(err: unknown): string {
  try {
    if (err instanceof SidecarError) {
      return sidecarErrorText(err);
    }
  } catch {
    // fall through to the generic text
  }
  return 'STSTool error (internal): the call failed inside the extension. The details are in the "awsflow-sts" output channel (AWS STS: Show Log).';
}

function sidecarErrorText(err: SidecarError): string {
  const awsCode = err.data?.awsCode;
  const head = `STSTool error (${err.kind}${awsCode ? `, ${awsCode}` : ""}): ${err.message}`;
  const hint = err.data?.hint;
  return hint && !err.message.includes(hint) ? `${head}\n\nWhat to do: ${hint}` : head;
}

// ── Status bar ─────────────────────────────────────────────────────────────────────────────────────

const WARN_SECONDS = 5 * 60;

/** Seconds left, from the expiration time when it parses (the list's secondsLeft ages). */
function secondsLeft(session: SessionInfo, now: number): number {
  if (session.expired) {
    return 0;
  }
  const expires = Date.parse(session.expiration);
  return Number.isFinite(expires) ? Math.floor((expires - now) / 1000) : session.secondsLeft;
}

export function statusBarText(active: SessionInfo | undefined, now: number): { text: string; tooltip: string; warning: boolean } {
  if (!active) {
    return {
      text: "$(cloud) AWS: base",
      tooltip: "AWS STS: calls use the base identity (your configured AWS profile). Click to choose a session.",
      warning: false,
    };
  }
  const left = secondsLeft(active, now);
  const remaining = timeLeft(left);
  const text = ["$(key) " + active.name, active.account, remaining].filter((s): s is string => !!s).join(" · ");
  const expires = remaining === "expired" ? `Expired at ${active.expiration}` : `Expires ${active.expiration} (in ${remaining})`;
  const tooltip = [
    `AWS STS session ${active.name} (made by ${active.command})`,
    active.arn ? `ARN: ${active.arn}` : "",
    active.accessKeyId ? `Access key: ${active.accessKeyId}` : "",
    active.mfaSerial ? `MFA: ${active.mfaSerial}` : "",
    active.refreshable && remaining !== "expired" ? `${expires}; refreshes automatically` : expires,
    active.refreshedAt ? `Last refreshed ${active.refreshedAt}` : "",
    active.refreshError ? `Last refresh failed: ${active.refreshError}` : "",
    "Click to choose a session.",
  ]
    .filter((s) => s !== "")
    .join("\n");
  // A refreshable session is renewed before it runs out, so only a failing refresh is worth the colour.
  const atRisk = !active.refreshable || !!active.refreshError || left <= 0;
  return { text, tooltip, warning: left < WARN_SECONDS && atRisk };
}

/** Palette commands that make a session again, by the STSTool command that made it. */
const RENEW_COMMANDS: Readonly<Record<string, string>> = {
  AssumeRole: "awsflowSts.assumeRole",
  AssumeRoleWithSAML: "awsflowSts.assumeRoleWithSAML",
  AssumeRoleWithWebIdentity: "awsflowSts.assumeRoleWithWebIdentity",
  AssumeRoot: "awsflowSts.assumeRoot",
  GetSessionToken: "awsflowSts.getSessionToken",
  GetFederationToken: "awsflowSts.getFederationToken",
  GetWebIdentityToken: "awsflowSts.getWebIdentityToken",
  GetDelegatedAccessToken: "awsflowSts.getDelegatedAccessToken",
};

export interface ExpiryWarning {
  /** The session warned about (warned once per name per sidecar run). */
  session: string;
  text: string;
  /** The palette command that makes such a session again, and its args. */
  renew?: { command: string; args?: Record<string, unknown> };
}

/**
 * The warning for a sessions/changed "expiring" notification, when it concerns the active session or
 * a session nobody will refresh; undefined otherwise.
 */
export function expiryWarning(reason: string, sessionName: string, list: SessionList, now: number): ExpiryWarning | undefined {
  if (reason !== "expiring") return undefined;
  const s = list.sessions.find((x) => x.name === sessionName);
  if (!s) return undefined;
  const isActive = list.active === s.name || s.active;
  if (!isActive && s.refreshable) return undefined;
  const minutes = Math.max(0, Math.ceil(secondsLeft(s, now) / 60));
  const label = `'${s.name}'${s.mfaSerial ? " (MFA)" : ""}`;
  const when = minutes <= 0 ? "is expiring now" : `expires in ${minutes} min`;
  const renewCommand = RENEW_COMMANDS[s.command];
  const text = s.refreshable
    ? `AWS STS session ${label} ${when}; it is refreshed automatically, but the last refresh has not succeeded yet.`
    : `AWS STS session ${label} ${when}; run ${s.command} again to renew it.`;
  if (!renewCommand || s.refreshable) return { session: s.name, text };
  // GetSessionToken renews from the same device under the same name with nothing else to ask but the code.
  const args = s.command === "GetSessionToken" ? { SessionName: s.name, ...(s.mfaSerial ? { SerialNumber: s.mfaSerial } : {}) } : undefined;
  return { session: s.name, text, renew: args ? { command: renewCommand, args } : { command: renewCommand } };
}

/** "42m", "3h 5m", "<1m", "expired"; rounded down, so it never promises more time than is left. */
export function timeLeft(seconds: number): string {
  if (Number.isNaN(seconds) || seconds <= 0) {
    return "expired";
  }
  if (seconds < 60) {
    return "<1m";
  }
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) {
    return `${minutes}m`;
  }
  const hours = Math.floor(minutes / 60);
  const rest = minutes % 60;
  return rest ? `${hours}h ${rest}m` : `${hours}h`;
}

// ── Pre-check ──────────────────────────────────────────────────────────────────────────────────────

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function present(params: Record<string, unknown>, key: string): boolean {
  const v = params[key];
  return v !== undefined && v !== null && v !== "";
}

/**
 * A light check before the call, so an obviously incomplete call is answered without a round trip.
 * The sidecar validates fully (types, lengths, unknown parameters with suggestions) and stays the
 * authority: this only reports an unknown command, params that are not an object, and missing
 * required parameters.
 */
export function validateParams(command: string, params: unknown): string | undefined {
  const info = commandInfo(command);
  if (!info) {
    return `There is no STSTool command ${JSON.stringify(shorten(String(command)))}. Use one of: ${COMMANDS.map((c) => c.name).join(", ")}.`;
  }
  if (params === undefined || params === null) {
    params = {};
  }
  if (!isPlainObject(params)) {
    return `${command}: "params" must be an object of parameters named as the AWS STS API names them, for example {"RoleArn": "…"}.`;
  }
  const problems = [...missingRequired(info, params), ...oneOfProblems(command, params)];
  if (problems.length === 0) {
    return undefined;
  }
  return `${command} was not run: ${problems.join(" ")} ${command} takes: ${takes(info)}.`;
}

function missingRequired(info: CommandInfo, params: Record<string, unknown>): string[] {
  return info.params.filter((p) => p.required && !present(params, p.name)).map((p) => `${p.name} is required.`);
}

function oneOfProblems(command: string, params: Record<string, unknown>): string[] {
  return (commandInfo(command)?.oneOf ?? []).flatMap((group) => {
    const given = group.filter((name) => present(params, name));
    if (given.length === 1) {
      return [];
    }
    if (given.length > 0) {
      return [`Give only one of ${group.join(" and ")}.`];
    }
    // When one of the pair is a secret, its file variant keeps it out of chat: that one is suggested.
    const info = commandInfo(command);
    const secret = group.some((name) => info?.params.find((p) => p.name === name)?.secret);
    if (!secret) {
      return [`Give one of ${group.join(" or ")}.`];
    }
    const preferred = [...group].sort((a, b) => Number(b.endsWith("File")) - Number(a.endsWith("File")));
    return [`Give one of ${preferred.join(" or ")} (prefer ${preferred[0]}, so the secret never passes through chat).`];
  });
}

function takes(info: CommandInfo): string {
  const names = info.params.map((p) => (p.required ? `${p.name} (required)` : p.name));
  return [...names, ...(info.local ? [] : COMMON_PARAMS)].join(", ");
}
