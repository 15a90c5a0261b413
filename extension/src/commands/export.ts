// The commands that hand a session out of the sidecar, each only after a modal confirmation: its
// secrets as environment variables on the clipboard, as a profile of the shared credentials file and
// as credential_process JSON, and a terminal bound to it through the sidecar's credentials endpoint
// (no secret in its environment). What they return and log names the session, never a secret.
import * as os from "node:os";
import * as vscode from "vscode";
import { SidecarError } from "../client";
import type { StsContext } from "../context";
import {
  credentialProcessJson,
  defaultCredentialsFile,
  envAssignments,
  envScript,
  ExportError,
  exportable,
  exportProblem,
  isoExpiration,
  isShell,
  profileNameProblem,
  SHELLS,
  type Shell,
} from "../export";
import { timeLeft } from "../sessiontext";
import { endpointProblem, sessionTerminalEnv } from "../terminalenv";
import { ERROR_CODES, tokenNotCredentials, type ExportedSession, type WriteProfileResult } from "../protocol.gen";
import { Dismissed, input, pick, type Args, type CommandResult } from "./ui";

/**
 * Whether args may skip the confirmation: only with { confirm: false } AND AWSFLOW_E2E=1 in the
 * extension host's environment, which the end-to-end suite sets. A model or another extension can
 * pass args but cannot set the host's environment, so in normal use the question is always asked.
 */
function skipConfirmation(args: Args | undefined): boolean {
  return args?.confirm === false && process.env.AWSFLOW_E2E === "1";
}

/** A modal question; anything but the action button ends the command quietly. */
async function confirm(args: Args | undefined, message: string, detail: string, action: string): Promise<void> {
  if (skipConfirmation(args)) return;
  const choice = await vscode.window.showWarningMessage(message, { modal: true, detail }, action);
  if (choice !== action) throw new Dismissed();
}

function validation(message: string): SidecarError {
  // A SidecarError, so errorText shows the sentence (it hides the text of unexpected errors).
  return new SidecarError(message, ERROR_CODES.InvalidParams, { kind: "validation" });
}

type SessionItem = vscode.QuickPickItem & { session: string };

/** The session to export: args.SessionName, else picked among unexpired credential sessions. */
async function chooseSession(ctx: StsContext, args: Args | undefined, title: string): Promise<string | undefined> {
  if (typeof args?.SessionName === "string" && args.SessionName !== "") return args.SessionName;
  const list = await (await ctx.client()).listSessions();
  ctx.setSessions(list);
  const now = Date.now();
  const items: SessionItem[] = list.sessions
    .filter((s) => exportable(s, now))
    .map((s) => ({
      label: `${s.name === list.active ? "$(check) " : ""}${s.name}`,
      description: s.arn ?? s.command,
      detail: [s.command, `${timeLeft(s.secondsLeft)} left`, s.accessKeyId && `key ${s.accessKeyId}`, s.mfaSerial && "MFA"].filter(Boolean).join(" · "),
      session: s.name,
    }));
  if (items.length === 0) {
    const text = "No session to export: only unexpired sessions that hold AWS credentials can be exported (not web identity tokens).";
    void vscode.window.showInformationMessage(text);
    return undefined;
  }
  return (await pick(items, { title, matchOnDescription: true, matchOnDetail: true })).session;
}

/** The session's secrets from the sidecar, refused with a sentence when they cannot be exported. */
async function exported(ctx: StsContext, name: string): Promise<ExportedSession> {
  const s = await (await ctx.client()).exportSession(name);
  const problem = exportProblem(s, Date.now());
  if (problem) throw validation(problem);
  return s;
}

/** "act as <arn> until <expiry> (in 42m)". */
function whoUntil(s: ExportedSession): string {
  const expires = isoExpiration(s);
  const left = timeLeft(Math.floor((Date.parse(expires) - Date.now()) / 1000));
  return `act as ${s.arn ?? `session ${s.name}`} until ${expires} (in ${left})`;
}

/** Runs a pure export step, turning its refusal into an error the user can read. */
function exportStep<T>(step: () => T): T {
  try {
    return step();
  } catch (err) {
    if (err instanceof ExportError) throw validation(err.message);
    throw err;
  }
}

async function chooseShell(args: Args | undefined): Promise<Shell> {
  if (args?.shell !== undefined) {
    if (isShell(args.shell)) return args.shell;
    throw validation(`Unknown shell ${JSON.stringify(String(args.shell))}; use one of ${SHELLS.map((s) => s.shell).join(", ")}.`);
  }
  const first: Shell = process.platform === "win32" ? "powershell" : "bash";
  const items = [...SHELLS].sort((a, b) => Number(b.shell === first) - Number(a.shell === first));
  return (await pick(items, { title: "Copy session as environment variables: shell" })).shell;
}

export async function copyEnv(ctx: StsContext, args: Args | undefined): Promise<CommandResult> {
  const name = await chooseSession(ctx, args, "Copy session as environment variables");
  if (name === undefined) return "No session to export";
  const shell = await chooseShell(args);
  const s = await exported(ctx, name);
  // Built before asking, so a value the shell cannot carry is refused before anyone confirms.
  const script = exportStep(() => envScript(s, shell));
  const count = exportStep(() => envAssignments(s)).length;
  await confirm(
    args,
    `Copy the secret credentials of session ${s.name} to the clipboard?`,
    `Anyone with them can ${whoUntil(s)}. Paste them only into a shell you trust, and clear the clipboard afterwards.`,
    "Copy",
  );
  await vscode.env.clipboard.writeText(script);
  ctx.output.info(`copied the environment variables of session ${s.name} for ${shell} to the clipboard`);
  const label = SHELLS.find((x) => x.shell === shell)?.label ?? shell;
  void vscode.window.showInformationMessage(`Copied ${count} AWS variables of session ${s.name} for ${label}.`);
  return `Copied ${count} variables for ${shell}`;
}

/**
 * A terminal bound to one session through the sidecar's credentials endpoint (url + session/NAME):
 * programs in it get the session's credentials, refreshed, for as long as the sidecar runs. Its
 * environment holds the endpoint's URL and token, never a secret key.
 */
export async function openTerminal(ctx: StsContext, args: Args | undefined): Promise<CommandResult> {
  const name = await chooseSession(ctx, args, "Open a terminal bound to a session");
  if (name === undefined) return "No session to export";
  const client = await ctx.client();
  const list = await client.listSessions();
  ctx.setSessions(list);
  const s = list.sessions.find((x) => x.name === name);
  if (!s) throw validation(`No stored session is named ${JSON.stringify(name)}; run List Sessions to see them.`);
  if (s.kind === "token") throw validation(`The ${tokenNotCredentials(s.name, "back a terminal")}.`);
  if (!exportable(s, Date.now())) throw validation(`Session '${s.name}' has expired; run ${s.command} again to make a new session.`);
  await confirm(
    args,
    `Open a terminal bound to session ${s.name}?`,
    `Programs run in it act as ${s.arn ?? `session ${s.name}`}, with the session's credentials fetched from the awsflow-sts sidecar's local endpoint (refreshed, for as long as the sidecar runs). No secret key is put in the terminal's environment.`,
    "Open Terminal",
  );
  const endpoint = await client.credentialsEndpoint();
  const problem = endpointProblem(endpoint);
  if (problem) throw validation(`The terminal was not opened: ${problem}.`);
  // VS Code applies awsflowSts.terminalCredentials' variables over this terminal's own env too; while
  // they prepend this endpoint's URL, the terminal carries only its session's path.
  const prepended = ctx.terminals?.prepends(endpoint.url) ?? false;
  const env = sessionTerminalEnv(endpoint, s.name, s.region ?? ctx.settings().region, os.devNull, prepended);
  const terminal = vscode.window.createTerminal({ name: `AWS: ${s.name}`, env });
  terminal.show();
  ctx.output.info(`opened a terminal bound to session ${s.name} through the credentials endpoint`);
  return `Opened terminal "AWS: ${s.name}" bound to session ${s.name} through the sidecar's credentials endpoint`;
}

export async function credentialProcess(ctx: StsContext, args: Args | undefined): Promise<CommandResult> {
  const name = await chooseSession(ctx, args, "Show a session as credential_process JSON");
  if (name === undefined) return "No session to export";
  const s = await exported(ctx, name);
  const json = exportStep(() => credentialProcessJson(s));
  await confirm(
    args,
    `Show the secret credentials of session ${s.name} as credential_process JSON?`,
    `Anyone with them can ${whoUntil(s)}. They open in a new unsaved document: close it without saving when you are done.`,
    "Show",
  );
  const doc = await vscode.workspace.openTextDocument({ language: "json", content: json });
  await vscode.window.showTextDocument(doc, { preview: false });
  ctx.output.info(`opened the credential_process JSON of session ${s.name} in an unsaved document`);
  return `Opened the credential_process JSON of session ${s.name} in an unsaved document`;
}

/** The long-term-keys refusal of sessions/writeProfile (RuleViolation naming long-term keys). */
function isLongTermKeysRefusal(err: unknown): err is SidecarError {
  return err instanceof SidecarError && err.code === ERROR_CODES.RuleViolation && /long-term/i.test(err.message);
}

export async function writeProfile(ctx: StsContext, args: Args | undefined): Promise<CommandResult> {
  const name = await chooseSession(ctx, args, "Write a session to the credentials file");
  if (name === undefined) return "No session to export";
  let profile: string;
  if (typeof args?.profile === "string") {
    const problem = profileNameProblem(args.profile);
    if (problem) throw validation(`Profile ${JSON.stringify(args.profile)}: ${problem}`);
    profile = args.profile.trim();
  } else {
    profile = await input(
      {
        title: "Write session to credentials file: profile",
        prompt: "The profile to write the session's credentials to (created, or replaced if it holds temporary credentials)",
        value: name,
        validateInput: profileNameProblem,
      },
      true,
    );
  }
  const file = typeof args?.path === "string" && args.path.trim() !== "" ? args.path.trim() : defaultCredentialsFile(process.env, os.homedir());
  const s = await exported(ctx, name);
  await confirm(
    args,
    `Write the secret credentials of session ${s.name} to profile [${profile}] of ${file}?`,
    `Anyone who can read the file can ${whoUntil(s)}, as can every program run with --profile ${profile}. The file is written with mode 0600 and the previous one is backed up.`,
    "Write",
  );
  const client = await ctx.client();
  let result: WriteProfileResult;
  try {
    result = await client.writeProfile({ name: s.name, profile, path: file });
  } catch (err) {
    if (!isLongTermKeysRefusal(err)) throw err;
    // Long-term keys cannot be made again by awsflow-sts: replacing them takes a second yes.
    if (skipConfirmation(args)) {
      if (args?.overwriteLongTermKeys !== true) throw err;
    } else {
      const replace = "Replace";
      const choice = await vscode.window.showWarningMessage(
        `Profile ${profile} holds long-term access keys. Replace them? A backup is kept.`,
        { modal: true, detail: `${file} keeps a backup copy of its previous contents.` },
        replace,
      );
      if (choice !== replace) throw new Dismissed();
    }
    result = await client.writeProfile({ name: s.name, profile, path: file, overwriteLongTermKeys: true });
  }
  const text = `Wrote session ${s.name} to profile ${result.profile} in ${result.path}${result.created ? " (new profile)" : ""}${
    result.backup ? `; the previous file is backed up as ${result.backup}` : ""
  }.`;
  ctx.output.info(text);
  void vscode.window.showInformationMessage(text);
  return text;
}
