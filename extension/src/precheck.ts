// A light check of an STSTool call before it is sent, so an obviously incomplete call is answered
// without a round trip; the sidecar validates fully and stays the authority. Pure.
import { commandInfo } from "./contract";
import { shorten } from "./display";
import { COMMANDS, COMMON_PARAMS, type CommandInfo } from "./protocol.gen";

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
