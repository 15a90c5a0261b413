// Reads the user's awsflowSts.* settings. The sidecar gets only the generated Settings part; the
// model never sees or sets any of them (the tool schema has no such parameters).
import * as vscode from "vscode";
import type { Settings } from "./protocol.gen";

export const SECTION = "awsflowSts";

/** Every awsflowSts.* setting: the sidecar's Settings plus the extension's own. */
export interface ExtensionSettings extends Settings {
  /** Ask before the model runs a credential-minting command. */
  confirmCredentialCommands: boolean;
  /** A sidecar binary to run instead of the bundled one (empty: bundled). */
  sidecarPath: string;
  /** Keep a copy of each session in the OS keychain (SecretStorage) so a restart keeps it. */
  persistSessions: boolean;
}

export const LOG_LEVELS = ["debug", "info", "warn", "error"] as const;

export function readSettings(): ExtensionSettings {
  const c = vscode.workspace.getConfiguration(SECTION);
  const str = (key: string): string | undefined => {
    const v = c.get<unknown>(key);
    return typeof v === "string" && v.trim() !== "" ? v.trim() : undefined;
  };
  const maxAttempts = c.get<unknown>("maxAttempts");
  const logLevel = str("logLevel");
  return {
    profile: str("profile"),
    region: str("region"),
    endpointUrl: str("endpointUrl"),
    useFipsEndpoint: c.get<unknown>("useFipsEndpoint") === true,
    // A hand-edited settings.json can hold anything; send only what the sidecar can use.
    maxAttempts:
      typeof maxAttempts === "number" && Number.isInteger(maxAttempts) && maxAttempts >= 1 && maxAttempts <= 20
        ? maxAttempts
        : 3,
    logLevel: logLevel !== undefined && (LOG_LEVELS as readonly string[]).includes(logLevel) ? logLevel : "info",
    confirmCredentialCommands: c.get<unknown>("confirmCredentialCommands") !== false,
    sidecarPath: str("sidecarPath") ?? "",
    persistSessions: c.get<unknown>("persistSessions") !== false,
  };
}

/** The part of the settings the sidecar takes, without empty values (empty means "the default"). */
export function sidecarSettings(s: ExtensionSettings): Settings {
  const out: Settings = {
    useFipsEndpoint: s.useFipsEndpoint,
    maxAttempts: s.maxAttempts,
    logLevel: s.logLevel,
  };
  if (s.profile !== undefined) out.profile = s.profile;
  if (s.region !== undefined) out.region = s.region;
  if (s.endpointUrl !== undefined) out.endpointUrl = s.endpointUrl;
  return out;
}
