// The environment that points terminals and tasks at the sidecar's container-credentials endpoint:
// the AWS CLI, every AWS SDK and Terraform read AWS_CONTAINER_CREDENTIALS_FULL_URI (plain http only
// on loopback) and send AWS_CONTAINER_AUTHORIZATION_TOKEN verbatim. No secret key is ever put in a
// terminal's environment; the token only opens the endpoint and dies with the sidecar. Pure.
import type { CredentialsEndpoint } from "./protocol.gen";

export const FULL_URI = "AWS_CONTAINER_CREDENTIALS_FULL_URI";
export const AUTH_TOKEN = "AWS_CONTAINER_AUTHORIZATION_TOKEN";

/**
 * Static keys VS Code's own environment may hold. The credential chain reads them before the
 * endpoint, so a terminal would keep using them; an empty value is "not set" to the CLI and the SDKs.
 * (AWS_PROFILE and the container variables that name a file or a relative URI cannot be emptied:
 * the CLI reads an empty one as a profile named "" or a file named "".)
 */
export const STATIC_KEY_VARS = ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"] as const;

/** The description VS Code shows beside the variables it added to a terminal. */
export const TERMINAL_ENV_DESCRIPTION =
  "AWS STS: the active session's live credentials from the awsflow-sts sidecar's local endpoint (no secret key in the environment; turn off with awsflowSts.terminalCredentials)";

/** Why the endpoint cannot be handed to terminals, or undefined: only loopback http(s) URLs. */
export function endpointProblem(e: CredentialsEndpoint): string | undefined {
  let u: URL;
  try {
    u = new URL(e.url);
  } catch {
    return "the credentials endpoint URL does not parse";
  }
  if (u.protocol !== "http:" && u.protocol !== "https:") return `the credentials endpoint is not http (${u.protocol})`;
  if (!/^(127(?:\.\d{1,3}){3}|\[::1\]|localhost)$/i.test(u.hostname)) return "the credentials endpoint is not on this machine's loopback address";
  if (!e.authorizationToken || /[\r\n]/.test(e.authorizationToken)) return "the credentials endpoint gave no usable token";
  return undefined;
}

/** The endpoint's URL of one named session: url + "session/NAME". */
export function sessionEndpointUrl(url: string, session: string): string {
  return `${baseUrl(url)}${sessionPath(session)}`;
}

/** "session/NAME", the name escaped. */
function sessionPath(session: string): string {
  return `session/${encodeURIComponent(session)}`;
}

/** One change context.environmentVariableCollection makes to every new terminal and task. */
export interface TerminalVar {
  name: string;
  value: string;
  /** prepend: the endpoint URL goes before what the terminal's own env holds (see sessionTerminalEnv). */
  op: "replace" | "prepend";
}

/** The endpoint's base URL, ending in "/". */
function baseUrl(url: string): string {
  return url.endsWith("/") ? url : `${url}/`;
}

/**
 * What every new terminal and task gets: the endpoint and its token, and an empty value for each
 * static key VS Code's environment (inherited) holds. VS Code applies these over any terminal's own
 * env, even an extension's createTerminal env, so the URL is prepended, not replaced: a terminal
 * bound to one session carries only "session/NAME" and ends up with url + "session/NAME"; every other
 * terminal, whose env has no such variable, gets the URL itself. Where VS Code's own environment
 * already names an endpoint (a container's), it is replaced instead.
 */
export function terminalCredentialVars(e: CredentialsEndpoint, inherited: Readonly<Record<string, string | undefined>>): TerminalVar[] {
  const out: TerminalVar[] = [
    { name: FULL_URI, value: baseUrl(e.url), op: inherited[FULL_URI] ? "replace" : "prepend" },
    { name: AUTH_TOKEN, value: e.authorizationToken, op: "replace" },
  ];
  for (const name of STATIC_KEY_VARS) if (inherited[name]) out.push({ name, value: "", op: "replace" });
  return out;
}

/**
 * The env of "Open Terminal with Session": that one session through the endpoint, and what would
 * come before it in the credential chain taken away (null unsets in createTerminal): static keys,
 * a chosen profile, and the shared credentials file (devNull), whose [default] keys the AWS CLI and
 * the SDKs would otherwise use first. The shared config file stays, for the Region and endpoints.
 * prepended: awsflowSts.terminalCredentials currently prepends this endpoint's URL to every
 * terminal's FULL_URI (terminalCredentialVars), so the terminal carries only "session/NAME".
 */
export function sessionTerminalEnv(
  e: CredentialsEndpoint,
  session: string,
  region: string | undefined,
  devNull: string,
  prepended: boolean,
): Record<string, string | null> {
  const env: Record<string, string | null> = {
    [FULL_URI]: prepended ? sessionPath(session) : sessionEndpointUrl(e.url, session),
    [AUTH_TOKEN]: e.authorizationToken,
    AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: null,
    AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: null,
    AWS_PROFILE: null,
    AWS_DEFAULT_PROFILE: null,
    AWS_SHARED_CREDENTIALS_FILE: devNull,
  };
  for (const name of STATIC_KEY_VARS) env[name] = null;
  if (region) {
    // Older SDKs and the CLI v1 read only AWS_DEFAULT_REGION.
    env.AWS_REGION = region;
    env.AWS_DEFAULT_REGION = region;
  }
  return env;
}

