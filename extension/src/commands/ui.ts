// What the palette commands share: how they take arguments, prompt, call the sidecar and show the
// result. A command given an args object (executeCommand(id, {...})) skips every prompt those args
// answer and every optional prompt, so tests and other extensions can drive it without typing.
import * as vscode from "vscode";
import { SidecarError } from "../client";
import type { StsContext } from "../context";
import { validateParams } from "../precheck";
import { COMMANDS, COMMON_PARAMS, ERROR_CODES, type CommandName, type InvokeResult } from "../protocol.gen";

export type Args = Record<string, unknown>;
/** What every command returns for its callers: the sidecar's result, the error text, or nothing if dismissed. */
export type CommandResult = InvokeResult | string | undefined;
export type CommandHandler = (ctx: StsContext, args: Args | undefined) => Promise<CommandResult>;

/** The user closed a prompt: the flow ends quietly. */
export class Dismissed extends Error {
  constructor() {
    super("dismissed");
  }
}

/** Accepts only a plain object as args (the palette passes nothing; a menu could pass a Uri). */
export function toArgs(arg: unknown): Args | undefined {
  if (arg === null || typeof arg !== "object" || Array.isArray(arg) || arg instanceof vscode.Uri) return undefined;
  return arg as Args;
}

/** One command's parameters, filled from args first and then from prompts. */
export class Flow {
  readonly params: Record<string, unknown> = {};

  constructor(
    readonly command: CommandName,
    readonly args: Args | undefined,
  ) {
    const info = COMMANDS.find((c) => c.name === command);
    const accepted = new Set([...(info?.params.map((p) => p.name) ?? []), ...(info?.local ? [] : COMMON_PARAMS)]);
    for (const [k, v] of Object.entries(args ?? {})) {
      if (accepted.has(k) && v !== undefined && v !== null && v !== "") this.params[k] = v;
    }
  }

  /** Prompts for optional values only when a person started the command without args. */
  get interactive(): boolean {
    return this.args === undefined;
  }

  has(key: string): boolean {
    return this.params[key] !== undefined;
  }

  str(key: string): string | undefined {
    const v = this.params[key];
    return typeof v === "string" ? v : undefined;
  }

  /** A required value: asked for unless args gave it. */
  async text(key: string, options: vscode.InputBoxOptions): Promise<void> {
    if (this.has(key)) return;
    this.params[key] = await input(options, true);
  }

  /** An optional value: asked for only interactively; an empty answer leaves it out. */
  async optional(key: string, options: vscode.InputBoxOptions): Promise<void> {
    if (this.has(key) || !this.interactive) return;
    const v = await input(options, false);
    if (v !== "") this.params[key] = v;
  }

  /** An optional whole number of seconds. */
  async duration(min: number, max: number, dflt: number): Promise<void> {
    if (this.has("DurationSeconds") || !this.interactive) return;
    const v = await input(
      {
        title: `${this.command}: duration`,
        prompt: `Seconds the credentials last (${min}–${max}); empty for the default (${dflt})`,
        validateInput: (s) => (s.trim() === "" || inRange(s, min, max) ? undefined : `A whole number from ${min} to ${max}`),
      },
      false,
    );
    if (v !== "") this.params.DurationSeconds = Number(v);
  }

  /**
   * An optional MFA device, and no code: the sidecar asks for one (mfa/tokenCode, a masked box) only
   * when the call needs it, so a stored MFA session of the device (mfa-<device>) is reused without
   * one. A TokenCode passed in args is still sent as given.
   */
  async mfa(): Promise<void> {
    await this.optional("SerialNumber", {
      title: `${this.command}: MFA device (optional)`,
      prompt: `The MFA device's serial number or ARN (arn:aws:iam::123456789012:mfa/user); empty for none. ${
        this.command === "AssumeRole"
          ? "You are asked for its code only if no MFA session of that device is stored."
          : "You are asked for its code next."
      }`,
      validateInput: (s) => (s.trim() === "" || /^[\w+=/:,.@-]{9,256}$/.test(s.trim()) ? undefined : "9–256 characters of [A-Za-z0-9+=/:,.@_-]"),
    });
  }
}

function inRange(s: string, min: number, max: number): boolean {
  const t = s.trim();
  return /^\d+$/.test(t) && Number(t) >= min && Number(t) <= max;
}

/** An input box that survives focus changes (people switch to their MFA app) and trims the answer. */
export async function input(options: vscode.InputBoxOptions, required: boolean): Promise<string> {
  const validate = options.validateInput;
  const v = await vscode.window.showInputBox({
    ignoreFocusOut: true,
    ...options,
    validateInput: (s) => (required && s.trim() === "" ? "Required" : validate ? validate(s) : undefined),
  });
  if (v === undefined) throw new Dismissed();
  return v.trim();
}

/** A QuickPick that ends the flow when dismissed. */
export async function pick<T extends vscode.QuickPickItem>(items: readonly T[], options: vscode.QuickPickOptions): Promise<T> {
  const v = await vscode.window.showQuickPick(items, { ignoreFocusOut: true, ...options });
  if (v === undefined) throw new Dismissed();
  return v;
}

/** A file chosen in the open dialog (for secrets that must not be typed into chat or a box). */
export async function pickFile(title: string, openLabel: string): Promise<string> {
  const uris = await vscode.window.showOpenDialog({ title, openLabel, canSelectMany: false, canSelectFiles: true, canSelectFolders: false });
  if (!uris || uris.length === 0) throw new Dismissed();
  return uris[0].fsPath;
}

/** Calls the sidecar, logs the (secret-free) Markdown, and refreshes the session list if it changed. */
export async function run(ctx: StsContext, command: CommandName, params: Record<string, unknown>): Promise<InvokeResult> {
  const problem = validateParams(command, params);
  // A SidecarError, so errorText shows the problem (it hides the text of unexpected errors).
  if (problem !== undefined) throw new SidecarError(problem, ERROR_CODES.InvalidParams, { kind: "validation" });
  const client = await ctx.client();
  const result = await vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: `AWS STS: ${command}` }, () =>
    client.invoke(command, params),
  );
  ctx.output.info(`${command}:\n${result.text}`);
  return result;
}

/**
 * run() for a command's Flow. A person who closes the sidecar's MFA box (mfa/tokenCode answered with
 * RequestCancelled) ends an interactive flow quietly, as closing any of the flow's own prompts does;
 * callers that passed args get the error text.
 */
export async function runFlow(ctx: StsContext, flow: Flow): Promise<InvokeResult> {
  try {
    return await run(ctx, flow.command, flow.params);
  } catch (err) {
    if (flow.interactive && err instanceof SidecarError && err.code === ERROR_CODES.RequestCancelled) {
      ctx.output.info(`${flow.command} was not run: no MFA code was entered`);
      throw new Dismissed();
    }
    throw err;
  }
}

/** The first paragraph of the Markdown as plain text, for a notification. */
export function summary(markdown: string, max = 400): string {
  const para = markdown.trim().split(/\r?\n\s*\r?\n/)[0] ?? "";
  const plain = para
    .split(/\r?\n/)
    .map((l) => l.replace(/^\s*(#+|[-*]|\d+\.)\s+/, "").replace(/\*\*|__|`/g, "").trim())
    .filter((l) => l !== "")
    .join(" ");
  return plain.length > max ? `${plain.slice(0, max - 1)}…` : plain;
}

/** Shows a result without waiting: a notification resolves only when dismissed, and callers (tests) must not hang. */
export function show(ctx: StsContext, result: InvokeResult): void {
  void vscode.window.showInformationMessage(summary(result.text), "Show Log").then((choice) => {
    if (choice) ctx.output.show(true);
  });
}
