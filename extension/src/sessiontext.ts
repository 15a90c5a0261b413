// Text the extension shows about stored sessions: the status bar item, the expiry warning and the
// time left. Pure functions of the contract's session shapes, so they are tested without VS Code.
import type { SessionInfo, SessionList } from "./protocol.gen";

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
