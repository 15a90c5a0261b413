// The awsflowSts.* settings as values, apart from VS Code, so they can be checked without it.
import type { Settings } from "./protocol.gen";

/** Every awsflowSts.* setting: the sidecar's Settings plus the extension's own. */
export interface ExtensionSettings extends Settings {
  /** Ask before the model runs a credential-minting command. */
  confirmCredentialCommands: boolean;
  /** A sidecar binary to run instead of the bundled one (empty: bundled). */
  sidecarPath: string;
  /** Keep a copy of each session in the OS keychain (SecretStorage) so a restart keeps it. */
  persistSessions: boolean;
  /** Hand the sidecar's credentials endpoint to every new integrated terminal and task. */
  terminalCredentials: boolean;
}

export const LOG_LEVELS = ["debug", "info", "warn", "error"] as const;

/** The default of awsflowSts.maxAttempts (package.json). */
export const DEFAULT_MAX_ATTEMPTS = 3;
/** The default of awsflowSts.requestTimeoutSeconds (package.json). */
export const DEFAULT_REQUEST_TIMEOUT_SECONDS = 30;

/**
 * Reads the settings through get (a WorkspaceConfiguration's). A hand-edited settings.json can
 * hold anything, so only values the sidecar accepts are kept; others fall back to the default.
 */
export function parseSettings(get: (key: string) => unknown): ExtensionSettings {
  const str = (key: string): string | undefined => {
    const v = get(key);
    return typeof v === "string" && v.trim() !== "" ? v.trim() : undefined;
  };
  const int = (key: string, min: number, max: number, def: number): number => {
    const v = get(key);
    return typeof v === "number" && Number.isInteger(v) && v >= min && v <= max ? v : def;
  };
  const logLevel = str("logLevel");
  return {
    profile: str("profile"),
    region: str("region"),
    endpointUrl: str("endpointUrl"),
    useFipsEndpoint: get("useFipsEndpoint") === true,
    maxAttempts: int("maxAttempts", 1, 20, DEFAULT_MAX_ATTEMPTS),
    requestTimeoutSeconds: int("requestTimeoutSeconds", 1, 300, DEFAULT_REQUEST_TIMEOUT_SECONDS),
    logLevel: logLevel !== undefined && (LOG_LEVELS as readonly string[]).includes(logLevel) ? logLevel : "info",
    confirmCredentialCommands: get("confirmCredentialCommands") !== false,
    sidecarPath: str("sidecarPath") ?? "",
    persistSessions: get("persistSessions") !== false,
    terminalCredentials: get("terminalCredentials") !== false,
  };
}

/** The part of the settings the sidecar takes, without empty values (empty means "the default"). */
export function sidecarSettings(s: ExtensionSettings): Settings {
  const out: Settings = {
    useFipsEndpoint: s.useFipsEndpoint,
    maxAttempts: s.maxAttempts,
    requestTimeoutSeconds: s.requestTimeoutSeconds,
    logLevel: s.logLevel,
  };
  if (s.profile !== undefined) out.profile = s.profile;
  if (s.region !== undefined) out.region = s.region;
  if (s.endpointUrl !== undefined) out.endpointUrl = s.endpointUrl;
  return out;
}
