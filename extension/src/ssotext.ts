// What the extension shows about IAM Identity Center sign-ins: the palette's QuickPick items, the
// checks on a typed start URL, Region and name, the status bar part, the notifications' texts, and
// the one-at-a-time rule of the "Sign in to …" notification. Pure: the sidecar's shapes in, text out.
import type { SsoAccount, SsoAccountList, SsoAuthorizeParams, SsoChangedParams, SsoLoginParams, SsoSessionInfo, SsoSessionList } from "./protocol.gen";
import { timeLeft } from "./sessiontext";

/** A row of the "Sign In to IAM Identity Center…" QuickPick: a sign-in of the config, or the start-URL entry. */
export interface SignInItem {
  label: string;
  description?: string;
  detail?: string;
  /** What sso/login is called with; absent on the "Enter a start URL…" row. */
  login?: SsoLoginParams;
  /** The sign-in's name, for the texts around the call. */
  name?: string;
}

/** The label of the row that asks for a start URL (a new [sso-session] section). */
export const ENTER_START_URL = "$(add) Enter a start URL…";

/** Seconds until expiresAt (RFC 3339), or undefined when it is missing or unreadable. */
function secondsUntil(expiresAt: string | undefined, now: number): number | undefined {
  if (!expiresAt) return undefined;
  const t = Date.parse(expiresAt);
  return Number.isFinite(t) ? Math.floor((t - now) / 1000) : undefined;
}

/** "signed in · 42m left", "signed in · refreshed automatically", "signed out". */
export function signInState(s: SsoSessionInfo, now: number): string {
  if (!s.signedIn) return "signed out";
  const left = secondsUntil(s.expiresAt, now);
  const parts = ["signed in"];
  if (left !== undefined) parts.push(left > 0 ? `token ${timeLeft(left)} left` : "token expired");
  if (s.refreshable) parts.push("refreshed automatically");
  return parts.join(" · ");
}

/** What sso/login takes for a listed sign-in: a legacy profile by its profile, else the sso-session. */
export function loginParamsFor(s: SsoSessionInfo): SsoLoginParams {
  return s.legacy ? { profile: s.name } : { ssoSession: s.name };
}

/** The QuickPick rows: the config's sign-ins, signed-out ones first, then "Enter a start URL…". */
export function signInItems(list: SsoSessionList, now: number): SignInItem[] {
  const sorted = [...list.sessions].sort((a, b) => Number(a.signedIn) - Number(b.signedIn) || a.name.localeCompare(b.name));
  const items: SignInItem[] = sorted.map((s) => ({
    label: `${s.signedIn ? "$(pass-filled) " : "$(circle-large-outline) "}${s.name}`,
    description: s.startUrl,
    detail: [
      s.legacy ? "legacy SSO profile" : "sso-session",
      s.region,
      signInState(s, now),
      s.profiles && s.profiles.length > 0 ? `profiles: ${s.profiles.join(", ")}` : "",
    ]
      .filter((x) => x !== "")
      .join(" · "),
    login: loginParamsFor(s),
    name: s.name,
  }));
  items.push({
    label: ENTER_START_URL,
    detail: "Adds an [sso-session] section to your shared AWS config (after you confirm), then signs in",
  });
  return items;
}

/** Hosts a start URL may use over plain http: only this machine's (a local test portal). */
const LOOPBACK = /^(127(?:\.\d{1,3}){3}|localhost|\[::1\])$/i;

/** Why a typed start URL cannot be used, or undefined. */
export function startUrlProblem(value: string): string | undefined {
  const v = value.trim();
  if (v === "") return "The start URL is required (for example https://d-1234567890.awsapps.com/start).";
  if (v.length > 2048) return "At most 2048 characters.";
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    return "Not a URL: the start URL looks like https://d-1234567890.awsapps.com/start.";
  }
  if (u.protocol === "https:") return u.hostname ? undefined : "The start URL needs a host.";
  if (u.protocol === "http:" && LOOPBACK.test(u.hostname)) return undefined;
  return "The start URL must be an https:// address (plain http only for this machine).";
}

/** Why a typed Region cannot be used, or undefined. */
export function regionProblem(value: string): string | undefined {
  const v = value.trim();
  if (v === "") return "The Region of your IAM Identity Center instance is required (for example us-east-1).";
  return /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/.test(v) ? undefined : "A Region code such as us-east-1 or eu-central-1.";
}

/** Why a typed sso-session name cannot be used as a section name of the shared config, or undefined. */
export function ssoSessionNameProblem(value: string): string | undefined {
  const v = value.trim();
  if (v === "") return "A name for the sign-in is required.";
  if (v.length > 64) return "At most 64 characters.";
  return /^[A-Za-z0-9][A-Za-z0-9_.@+=,-]*$/.test(v) ? undefined : "Letters, digits and _ . @ + = , - only, starting with a letter or digit.";
}

/** A name for a new sign-in from its start URL: the portal's subdomain (d-1234567890.awsapps.com → d-1234567890). */
export function defaultSsoSessionName(startUrl: string): string {
  try {
    const first = new URL(startUrl.trim()).hostname.split(".")[0] ?? "";
    const name = first.replace(/[^A-Za-z0-9_.@+=,-]/g, "");
    return name !== "" && ssoSessionNameProblem(name) === undefined ? name : "my-sso";
  } catch {
    return "my-sso";
  }
}

/** A row of the account QuickPick. */
export interface AccountItem {
  label: string;
  description: string;
  detail: string;
  account: SsoAccount;
}

/** The accounts by name (then id), each with its id and how many roles it offers. */
export function accountItems(list: SsoAccountList): AccountItem[] {
  return [...list.accounts]
    .sort((a, b) => (a.accountName || a.accountId).localeCompare(b.accountName || b.accountId) || a.accountId.localeCompare(b.accountId))
    .map((a) => ({
      label: a.accountName || a.accountId,
      description: a.accountId,
      detail: [a.emailAddress ?? "", `${a.roles.length} role${a.roles.length === 1 ? "" : "s"}: ${a.roles.join(", ") || "none"}`]
        .filter((x) => x !== "")
        .join(" · "),
      account: a,
    }));
}

/** A row of the role QuickPick. */
export interface RoleItem {
  label: string;
  description: string;
  role: string;
}

/** The roles of one account, sorted. */
export function roleItems(account: SsoAccount): RoleItem[] {
  return [...account.roles].sort((a, b) => a.localeCompare(b)).map((role) => ({
    label: role,
    description: `${account.accountName || account.accountId} (${account.accountId})`,
    role,
  }));
}

/** The user code and link of sso/authorize, read from an untrusted value; undefined when malformed. */
export function readAuthorizeParams(v: unknown): SsoAuthorizeParams | undefined {
  if (typeof v !== "object" || v === null) return undefined;
  const p = v as Record<string, unknown>;
  const s = (k: string): string | undefined => (typeof p[k] === "string" ? (p[k] as string) : undefined);
  const ssoSession = s("ssoSession");
  const userCode = s("userCode");
  const complete = s("verificationUriComplete");
  if (!ssoSession || !userCode || !complete) return undefined;
  // A code is shown and copied: letters, digits and dashes, as the device flow issues them.
  if (!/^[A-Za-z0-9-]{1,64}$/.test(userCode)) return undefined;
  // Open Browser opens it: only a web address, never a file:, command: or other scheme.
  if (!isWebUrl(complete)) return undefined;
  const uri = s("verificationUri");
  return {
    ssoSession,
    startUrl: s("startUrl") ?? "",
    verificationUri: uri && isWebUrl(uri) ? uri : complete,
    verificationUriComplete: complete,
    userCode,
    expiresAt: s("expiresAt") ?? "",
  };
}

function isWebUrl(v: string): boolean {
  try {
    const u = new URL(v);
    return (u.protocol === "https:" || u.protocol === "http:") && u.hostname !== "";
  } catch {
    return false;
  }
}

/** The code notification's text. */
export function authorizeMessage(p: SsoAuthorizeParams, now: number): string {
  const left = secondsUntil(p.expiresAt, now);
  const within = left !== undefined && left > 0 ? ` within ${timeLeft(left)}` : "";
  return `Sign in to IAM Identity Center (${p.ssoSession}): confirm the code ${p.userCode} in your browser${within}. Open Browser opens ${hostOf(p.verificationUri)} with the code filled in.`;
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

/** The sso/changed notification read from an untrusted value; undefined when malformed. */
export function readSsoChanged(v: unknown): SsoChangedParams | undefined {
  if (typeof v !== "object" || v === null) return undefined;
  const p = v as Record<string, unknown>;
  if (typeof p.ssoSession !== "string" || p.ssoSession === "" || typeof p.state !== "string") return undefined;
  return {
    ssoSession: p.ssoSession,
    state: p.state,
    ...(typeof p.expiresAt === "string" ? { expiresAt: p.expiresAt } : {}),
    ...(typeof p.message === "string" ? { message: p.message } : {}),
  };
}

/** The sign-ins as known after one sso/changed (a new array; an unknown sign-in is added). */
export function applySsoChange(list: readonly SsoSessionInfo[], change: SsoChangedParams): SsoSessionInfo[] {
  const signedIn = change.state === "signedIn" || change.state === "refreshed";
  const known = list.find((s) => s.name === change.ssoSession);
  const updated: SsoSessionInfo = {
    ...(known ?? { name: change.ssoSession, startUrl: "", region: "" }),
    signedIn,
    expiresAt: signedIn ? (change.expiresAt ?? known?.expiresAt) : change.expiresAt,
  };
  if (!signedIn) delete updated.expiresAt;
  return known ? list.map((s) => (s === known ? updated : s)) : [...list, updated];
}

/** The warning for a sign-in that ended (expired, signed out); undefined for the other changes. */
export function ssoChangedNotice(change: SsoChangedParams): string | undefined {
  if (change.state !== "expired" && change.state !== "signedOut") return undefined;
  const what = change.state === "expired" ? "has expired" : "was signed out";
  const m = change.message?.trim() ?? "";
  const why = m !== "" ? ` ${m[0].toUpperCase()}${m.slice(1).replace(/\.?$/, ".")}` : "";
  return `Your IAM Identity Center sign-in ${change.ssoSession} ${what}.${why} Sign in again to keep using its roles.`;
}

/** The status bar part of the sign-ins: undefined (hidden) when the config names none. */
export function ssoStatusText(
  sessions: readonly SsoSessionInfo[] | undefined,
  now: number,
): { text: string; tooltip: string; signedIn: boolean; warning: boolean } | undefined {
  if (!sessions || sessions.length === 0) return undefined;
  const inNow = sessions.filter((s) => s.signedIn);
  const lines = sessions.map((s) => `${s.name} (${s.startUrl || "start URL unknown"}): ${signInState(s, now)}`);
  if (inNow.length === 0) {
    return {
      text: "$(person) SSO: signed out",
      tooltip: ["IAM Identity Center", ...lines, "Click to sign in."].join("\n"),
      signedIn: false,
      warning: true,
    };
  }
  // The one whose token runs out first is the one to watch.
  const first = [...inNow].sort((a, b) => (secondsUntil(a.expiresAt, now) ?? Infinity) - (secondsUntil(b.expiresAt, now) ?? Infinity))[0];
  const left = secondsUntil(first.expiresAt, now);
  const more = inNow.length > 1 ? ` +${inNow.length - 1}` : "";
  const text = `$(person) ${first.name}${left !== undefined ? ` · ${timeLeft(left)}` : ""}${more}`;
  return {
    text,
    tooltip: ["IAM Identity Center", ...lines, "Click to use one of its roles."].join("\n"),
    signedIn: true,
    warning: left !== undefined && left <= 0 && !first.refreshable,
  };
}

/**
 * One "Sign in to …" notification per sign-in at a time: calls that fail while it shows (or while
 * that sign-in is under way) ask for no other. Pure, so the rule is tested without VS Code.
 */
export class SignInPromptGate {
  private readonly open = new Set<string>();

  /** True when a notification for key may be shown now; it then counts as showing until close(key). */
  tryOpen(key: string): boolean {
    if (this.open.has(key)) return false;
    this.open.add(key);
    return true;
  }

  close(key: string): void {
    this.open.delete(key);
  }

  isOpen(key: string): boolean {
    return this.open.has(key);
  }
}

/** What STSTool tells the model when a call needs a sign-in: the sidecar's sentence, then what happens next. */
export function signInToolText(errorText: string, ssoSession: string | undefined): string {
  const which = ssoSession ? `"Sign in to ${ssoSession}"` : `"Sign In…"`;
  return `${errorText}\n\nVS Code now shows the user a ${which} notification for their IAM Identity Center sign-in. Only the user can sign in (STSTool cannot start a sign-in); retry the same call once they say they have signed in.`;
}
