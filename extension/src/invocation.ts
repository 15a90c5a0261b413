// Text the extension shows around an STSTool call before it runs: the progress line and the
// confirmation card. The per-command wording is data of the contract (each command's invocation and
// confirm templates in protocol/model.json, generated into protocol.gen.ts); this module renders it
// and adds what every card says. Pure, so it is tested without VS Code. Secret parameters are never
// echoed: no template reads one.
import { commandInfo, isMinting } from "./contract";
import { code, list, seconds, shorten, str, type Params } from "./display";
import { COMMON_PARAMS, type TextPart } from "./protocol.gen";

/** Renders a template of the contract; show styles each parameter value (and fallback) it shows. */
export function renderText(parts: readonly TextPart[], params: Params, show: (v: string) => string = (v) => v): string {
  return parts
    .map((p) => {
      if (typeof p === "string") return p;
      const v = p.list ? list(params, p.param) : str(params, p.param);
      if (p.then === undefined) {
        const shown = v ?? p.fallback;
        return shown === undefined ? "" : show(shown);
      }
      const holds = p.given ? params?.[p.param] !== undefined : p.equals !== undefined ? v === p.equals : v !== undefined;
      return renderText(holds ? p.then : (p.else ?? []), params, show);
    })
    .join("");
}

/** The parameters a template reads. */
function paramsRead(parts: readonly TextPart[], into = new Set<string>()): Set<string> {
  for (const p of parts) {
    if (typeof p === "string") continue;
    into.add(p.param);
    paramsRead(p.then ?? [], into);
    paramsRead(p.else ?? [], into);
  }
  return into;
}

// ── Progress line ──────────────────────────────────────────────────────────────────────────────────

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

/** The progress line: the command's phrase, naming what it acts on but never a secret value. */
export function invocationMessage(command: string, params: Params): string {
  const info = commandInfo(command);
  if (!info) {
    return `Running STSTool command ${shorten(command)}`;
  }
  if (info.local) {
    return renderText(info.invocation, params);
  }
  // A common parameter the phrase already names (GetCallerIdentity's Session) is said once.
  const read = paramsRead(info.invocation);
  const rest = { ...params, ...Object.fromEntries(COMMON_PARAMS.filter((n) => read.has(n)).map((n) => [n, undefined])) };
  return renderText(info.invocation, params) + commonSuffix(rest);
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

/** The confirmation card of a command that mints credentials or a token; undefined for the rest. */
export function confirmation(command: string, params: Params): { title: string; message: string } | undefined {
  const card = commandInfo(command)?.confirm;
  if (!card || !isMinting(command)) {
    return undefined;
  }
  const kept =
    commandInfo(command)?.mints === "token"
      ? "The token stays in the awsflow-sts sidecar; chat never sees it."
      : "The credentials stay in the awsflow-sts sidecar; chat sees only the masked access key id.";
  const region = str(params, "Region");
  const first = [renderText(card.what, params, code), duration(command, params), region ? `in ${code(region)}` : ""]
    .filter((s) => s !== "")
    .join(" ");
  const message = [`${first}.`, identityUsed(command, params), sessionLine(params), kept].join("\n\n");
  return { title: card.title, message };
}
