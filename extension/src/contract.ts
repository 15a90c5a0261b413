// Lookups in the generated contract (protocol.gen.ts) that the extension's texts and checks share.
import { COMMANDS, type CommandInfo } from "./protocol.gen";

/** The command of that name, or undefined. */
export function commandInfo(name: string): CommandInfo | undefined {
  return COMMANDS.find((c) => c.name === name);
}

/** Whether the command mints credentials or a token (and so asks for confirmation). */
export function isMinting(command: string): boolean {
  const mints = commandInfo(command)?.mints;
  return mints !== undefined && mints !== "";
}
