// What VS Code shows before an STSTool call runs, decided without VS Code: the progress line always,
// and the confirmation card only when awsflowSts.confirmCredentialCommands is on and the command
// mints credentials or a token. tool.ts wraps the result in VS Code's types.
import { isMinting } from "./contract";
import type { Params } from "./display";
import { confirmation, invocationMessage } from "./invocation";

/** What the model sends; checked at run time, since a model can send anything. */
export interface ToolInput {
  command?: unknown;
  params?: unknown;
}

/** A tool input read defensively: a non-string command is "", non-object params are undefined. */
export interface ReadInput {
  command: string;
  params: Params;
}

/** Reads the command and params of a tool input, whatever shape the model sent. */
export function readInput(input: ToolInput | undefined): ReadInput {
  const command = typeof input?.command === "string" ? input.command : "";
  const p = input?.params;
  const params = p !== null && typeof p === "object" && !Array.isArray(p) ? (p as Record<string, unknown>) : undefined;
  return { command, params };
}

/** The texts of a prepared invocation; confirmation is absent when no card is shown. */
export interface PreparedTexts {
  invocationMessage: string;
  confirmation?: { title: string; message: string };
}

/**
 * The progress line of a call and, when confirmCredentialCommands is on and the command mints, its
 * confirmation card (the contract's card, or a generic one for a minting command without one).
 */
export function prepareTexts(input: ToolInput | undefined, confirmCredentialCommands: boolean): PreparedTexts {
  const { command, params } = readInput(input);
  const prepared: PreparedTexts = { invocationMessage: invocationMessage(command, params) };
  if (confirmCredentialCommands && isMinting(command)) {
    prepared.confirmation = confirmation(command, params) ?? {
      title: `Run ${command}?`,
      message: `This stores new AWS credentials in the awsflow-sts sidecar.`,
    };
  }
  return prepared;
}
